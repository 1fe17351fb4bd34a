"""Interactive explorers for the notebooks (ipywidgets).

Each returns a widget whose figure is redrawn when a control moves; the logic it shows
lives in tested package functions, the widget only wires controls to them.
"""

from __future__ import annotations

import base64
import io

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from ._validation import check_counts, check_float
from .plots.feedback import confidence_curves, transform_heatmaps

__all__ = ["StaticPicture", "alpha_explorer", "als_explorer", "with_picture"]


def alpha_explorer(counts, alpha: float = 40.0, max_alpha: float = 100.0):
    """A slider for alpha (and a scheme toggle) that redraws the confidence heatmap and curves.

    Returns a ``VBox`` of the controls and an ``Image`` holding the figure as PNG. The figure
    is drawn straight away so the widget is never empty, and it is rendered to bytes rather than
    captured from the kernel's output, so it looks the same in JupyterLab, nbclient and nbval.
    """
    counts = check_counts(counts, "counts")
    if counts.ndim != 2 or counts.size == 0:
        raise ValueError(f"counts must be a non-empty 2-d array, got shape {counts.shape}")
    alpha = check_float(alpha, "alpha", minimum=0.0)
    max_alpha = check_float(max_alpha, "max_alpha", minimum=0.0, strict_minimum=True)
    if alpha > max_alpha:
        raise ValueError(f"alpha must be <= max_alpha ({max_alpha:g}), got {alpha:g}")

    slider = widgets.FloatSlider(value=alpha, min=0.0, max=max_alpha, step=1.0, description="alpha",
                                 continuous_update=False, readout_format=".0f")
    scheme = widgets.ToggleButtons(options=["linear", "log"], value="linear", description="scheme")
    image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))

    def redraw(_change=None):
        fig = plt.figure(figsize=(13, 3.6))
        grid = fig.add_gridspec(1, 4, width_ratios=[1, 1, 1, 1.5])
        axes = [fig.add_subplot(grid[0, j]) for j in range(4)]
        transform_heatmaps(counts, alpha=slider.value, scheme=scheme.value, epsilon=1.0, axes=axes[:3])
        confidence_curves(alpha=slider.value, max_count=int(max(np.max(counts), 1)), epsilon=1.0, ax=axes[3])
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=80)
        plt.close(fig)
        image.value = buffer.getvalue()

    slider.observe(redraw, names="value")
    scheme.observe(redraw, names="value")
    redraw()
    box = widgets.VBox([widgets.HBox([slider, scheme]), image])
    box.add_class("alpha-explorer")
    return box


def _first_image_bytes(widget) -> bytes | None:
    """The PNG bytes of the first ``Image`` found in ``widget``'s tree (depth first)."""
    stack = [widget]
    while stack:
        node = stack.pop(0)
        if isinstance(node, widgets.Image) and node.format == "png" and node.value:
            return bytes(node.value)
        stack[:0] = list(getattr(node, "children", ()))
    return None


class StaticPicture:
    """A widget that also carries a PNG of its default state and a plain-text description.

    JupyterLab renders the live widget (its renderer outranks images); a static viewer
    (GitHub, nbviewer, the course's site) renders the PNG; a text-only view shows the
    description instead of ``VBox(children=...)``. The widget stays reachable as ``.widget``.
    """

    def __init__(self, widget, png: bytes, alt: str):
        self.widget = widget
        self.png = png
        self.alt = alt

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = self.widget._repr_mimebundle_(include=include, exclude=exclude)
        data = dict(bundle[0] if isinstance(bundle, tuple) else bundle or {})
        data["image/png"] = base64.b64encode(self.png).decode("ascii")
        data["text/plain"] = self.alt
        return data

    def __repr__(self) -> str:
        return self.alt


def with_picture(widget, png: bytes | None = None, alt: str | None = None) -> StaticPicture:
    """Display ``widget`` live in JupyterLab and as a picture of its default state elsewhere.

    ``png``: the picture (default: the bytes of the first PNG ``Image`` inside the widget, which is
    what the course's explorers draw into). ``alt``: the text shown where neither can be displayed.
    """
    if not isinstance(widget, widgets.DOMWidget):
        raise TypeError(f"widget must be an ipywidgets widget, got {type(widget).__name__}")
    if png is None:
        png = _first_image_bytes(widget)
        if png is None:
            raise ValueError("png must be given: the widget holds no PNG Image to use as its picture")
    if not isinstance(png, (bytes, bytearray)) or not bytes(png).startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValueError(f"png must be the bytes of a PNG image, got {type(png).__name__}")
    if alt is None:
        alt = (f"[interactive {type(widget).__name__}: run the notebook in JupyterLab to use it; "
               "the picture shows its default state]")
    if not isinstance(alt, str) or not alt.strip():
        raise TypeError(f"alt must be a non-empty string, got {alt!r}")
    return StaticPicture(widget, bytes(png), alt)


def als_explorer(train, validation, item_names, user: int = 0, alpha: float = 1.0, regularization: float = 10.0,
                 factors: int = 16, alphas=(0.0, 1.0, 3.0, 10.0, 40.0), regularizations=(1.0, 3.0, 10.0, 30.0, 100.0),
                 factor_choices=(8, 16, 32, 64), iterations: int = 3, cold_iterations: int = 8, k: int = 10,
                 random_state: int = 0):
    """Sliders for alpha, lambda and f that refit ``ImplicitALS`` on ``train`` and redraw one user's
    top ``k`` (with ``item_names``) and the validation NDCG@k of all users.

    The first fit is cold (``cold_iterations`` CG sweeps from factors drawn with ``random_state``);
    after a move of alpha or lambda the model restarts from the previous factors (a warm start,
    ``iterations`` sweeps), and after a move of f, whose factors have another shape, it starts
    cold again. The user's validation items are marked in the list (green in the figure).

    Returns a ``VBox`` (CSS class ``als-explorer``): the sliders, a status line, the ranked list as
    HTML and the figure as a PNG ``Image``. ``box.controls`` maps "alpha", "regularization" and
    "factors" to their sliders; ``box.state`` holds the fitted ``model`` and the last ``items``
    and ``ndcg``.
    """
    import html
    import time

    from ._validation import check_csr_counts, check_index, check_int
    from .metrics import evaluate
    from .models import ImplicitALS
    from .plots.als import top_items_bars

    train = check_csr_counts(train, "train")
    validation = check_csr_counts(validation, "validation")
    if validation.shape != train.shape:
        raise ValueError(f"validation must have the shape of train {train.shape}, got {validation.shape}")
    if isinstance(item_names, (str, bytes)) or not hasattr(item_names, "__len__"):
        raise TypeError(f"item_names must be a sequence of {train.shape[1]} names, got {type(item_names).__name__}")
    if len(item_names) != train.shape[1]:
        raise ValueError(f"item_names must hold one name per item ({train.shape[1]}), got {len(item_names)}")
    user = check_index(user, "user", train.shape[0], "user")
    k = check_int(k, "k", minimum=1)
    iterations = check_int(iterations, "iterations", minimum=1)
    cold_iterations = check_int(cold_iterations, "cold_iterations", minimum=1)
    random_state = check_int(random_state, "random_state", minimum=0)
    choices = {}
    for name, start, options, check in (("alpha", alpha, alphas, check_float),
                                        ("regularization", regularization, regularizations, check_float),
                                        ("factors", factors, factor_choices, check_int)):
        if isinstance(options, (str, bytes)) or not hasattr(options, "__iter__"):
            raise TypeError(f"the choices for {name} must be a sequence of numbers, got {options!r}")
        values = [check(v, name, minimum=0.0 if check is check_float else 1) for v in options]
        if not values or len(set(values)) != len(values):
            raise ValueError(f"the choices for {name} must be distinct and at least one, got {list(options)}")
        start = check(start, name, minimum=0.0 if check is check_float else 1)
        if start not in values:
            raise ValueError(f"{name} must be one of its choices {values}, got {start}")
        choices[name] = (start, values)

    def label(value):
        return f"{value:g}"

    controls = {
        name: widgets.SelectionSlider(options=[(label(v), v) for v in values], value=start,
                                      description={"regularization": "lambda"}.get(name, name),
                                      continuous_update=False)
        for name, (start, values) in choices.items()
    }
    status = widgets.HTML()
    listing = widgets.HTML()
    image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
    held_out = set(validation.indices[validation.indptr[user]:validation.indptr[user + 1]].tolist())
    n_train = int(train.indptr[user + 1] - train.indptr[user])
    state: dict = {"model": None, "items": None, "ndcg": None, "warm": False, "seconds": 0.0}

    def refit(_change=None):
        a, lam, f = (controls[name].value for name in ("alpha", "regularization", "factors"))
        previous = state["model"]
        warm = previous is not None and previous.user_factors.shape[1] == f
        model = ImplicitALS(factors=f, alpha=a, regularization=lam, iterations=iterations if warm else cold_iterations,
                            solver="cg", random_state=random_state, dtype=np.float64, progress=False,
                            compute_loss=False)
        start = time.perf_counter()
        model.fit(train, initial=(previous.user_factors, previous.item_factors) if warm else None)
        state["seconds"] = time.perf_counter() - start
        ndcg = float(evaluate(model, train, validation, k=k, metrics=("ndcg",))["ndcg"])
        items, scores = model.recommend(user, k=k)
        names = [str(item_names[i]) for i in items]
        hits = [int(i) in held_out for i in items]
        state.update(model=model, items=items, ndcg=ndcg, warm=warm)

        fig, ax = plt.subplots(figsize=(7.5, 0.9 + 0.36 * len(names)))
        top_items_bars(names, scores, hits, ax=ax,
                       title=f"user {user}: top {len(names)} for alpha = {a:g}, lambda = {lam:g}, f = {f}\n"
                             f"validation NDCG@{k} over all users: {ndcg:.3f}")
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=80)
        plt.close(fig)
        # everything is computed before anything is shown, so picture, list and status change together
        image.value = buffer.getvalue()
        listing.value = "<ol class='als-explorer-list'>" + "".join(
            f"<li>{'&#10003; ' if hit else ''}{html.escape(name)} <span style='color:grey'>({score:.2f})</span></li>"
            for name, score, hit in zip(names, scores, hits)) + "</ol>"
        start_kind = f"warm start, {iterations} sweeps" if warm else f"cold start, {cold_iterations} sweeps"
        status.value = (f"<b>validation NDCG@{k} (all users): {ndcg:.3f}</b> &nbsp; user {user}: {n_train} items "
                        f"in training, {len(held_out)} held out for validation (&#10003; in the list) "
                        f"&nbsp; <span style='color:grey'>[{start_kind}]</span>")

    for control in controls.values():
        control.observe(refit, names="value")
    refit()
    box = widgets.VBox([widgets.HBox(list(controls.values())), status,
                        widgets.HBox([image, listing])])
    box.add_class("als-explorer")
    box.controls = controls
    box.state = state
    return box
