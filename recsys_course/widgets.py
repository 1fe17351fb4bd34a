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

__all__ = ["StaticPicture", "alpha_explorer", "with_picture"]


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
