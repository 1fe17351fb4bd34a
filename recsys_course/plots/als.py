"""Figures for notebook 03: implicit ALS, its cost, its loss and its explanations."""

from __future__ import annotations

import textwrap
from typing import Any, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

__all__ = [
    "explanation_bars",
    "half_sweep_cost",
    "loss_curves",
    "method_times",
    "sweep_heatmap",
    "top_items_bars",
    "weighting_comparison",
]


def _wrap_label(text: str, width: int = 14) -> str:
    """Wrap a tick label at spaces, never inside parentheses: "equal-weight zeros (c = 1)"
    becomes "equal-weight" / "zeros (c = 1)", not "zeros (c =" / "1)"."""
    depth, chars = 0, []
    for ch in str(text):
        depth += (ch == "(") - (ch == ")")
        chars.append("\u00a0" if ch == " " and depth > 0 else ch)
    wrapped = textwrap.fill("".join(chars), width, break_long_words=False, break_on_hyphens=False)
    return wrapped.replace("\u00a0", " ")


def _check_mapping(values: Any, name: str) -> Mapping:
    if not isinstance(values, Mapping) or not values:
        raise TypeError(f"{name} must be a non-empty dict, got {type(values).__name__}")
    return values


def _positive_array(values: Any, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size == 0 or not np.all(np.isfinite(array)) or np.any(array <= 0):
        raise ValueError(f"{name} must be a 1-d sequence of positive finite numbers, got {values!r}")
    return array


def method_times(seconds: Mapping[str, float], title: str = "One half-sweep (all users)", unit: str = "seconds",
                 ax=None):
    """Horizontal bars of time per method on a log axis, with the speed-up over the first."""
    seconds = _check_mapping(seconds, "seconds")
    names = list(seconds)
    values = _positive_array([seconds[n] for n in names], "seconds")
    ax = ax or plt.subplots(figsize=(7, 0.6 + 0.55 * len(names)))[1]
    bars = ax.barh(range(len(names)), values, color=plt.cm.viridis(np.linspace(0.2, 0.8, len(names))))
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel(f"{unit} (log scale)")
    ax.set_title(title)
    for bar, value in zip(bars, values):
        ax.text(value * 1.1, bar.get_y() + bar.get_height() / 2, f"{values[0] / value:,.0f}x faster"
                if value < values[0] else "baseline", va="center", fontsize=9)
    ax.set_xlim(values.min() / 2, values.max() * 8)
    return ax


def half_sweep_cost(factors: Sequence[int], seconds: Sequence[float], nnz: int, n_rows: int,
                    title: str = "Cost of a half-sweep against f^2 N + f^3 m", axes=None):
    """Two panels, one point per f: measured seconds against the multiply-adds of a
    Cholesky half-sweep, f^2 N to build the matrices plus f^3 m / 6 to factorise them
    (the O(f^2 N + f^3 m) count with its constants; log-log, with a line of slope one
    through the largest f), and the rate achieved, in billions of multiply-adds per second.

    Points on the line mean time proportional to the count; a rate that rises with f
    shows the fixed costs per row that dominate when the products are small.
    """
    f = _positive_array(factors, "factors")
    t = _positive_array(seconds, "seconds")
    if f.size != t.size:
        raise ValueError(f"factors and seconds must have the same length, got {f.size} and {t.size}")
    ops = f ** 2 * nnz + f ** 3 * n_rows / 6.0
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    left, right = axes
    left.loglog(ops, t, "o-", label="measured (numba, Cholesky)")
    left.loglog(ops, t[-1] * ops / ops[-1], "--", color="grey", label="proportional to the count")
    for fi, x, y in zip(f, ops, t):
        left.annotate(f"f={fi:g}", (x, y), textcoords="offset points", xytext=(6, -12), fontsize=9)
    left.set_xlabel("f^2 N + f^3 m / 6 (multiply-adds, log scale)")
    left.set_ylabel("seconds per half-sweep (log scale)")
    left.set_title("time against the operation count")
    left.legend()
    right.plot(f, ops / t / 1e9, "o-", color="tab:orange")
    right.set_xscale("log", base=2)
    right.set_xticks(f, [f"{v:g}" for v in f])
    right.set_xlabel("factors f (log scale)")
    right.set_ylabel("billions of multiply-adds per second")
    right.set_ylim(bottom=0)
    right.set_title("rate achieved")
    left.figure.suptitle(title)
    left.figure.tight_layout()
    return axes


def loss_curves(histories: Mapping[str, Sequence[float]], title: str = "Training objective per iteration", ax=None):
    """The full weighted objective L after each iteration, one line per run."""
    histories = _check_mapping(histories, "histories")
    ax = ax or plt.subplots(figsize=(6, 4))[1]
    for label, values in histories.items():
        values = _positive_array(values, f"histories[{label!r}]")
        ax.plot(np.arange(1, values.size + 1), values, marker="o", ms=3, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("iteration (items then users)")
    ax.set_ylabel("objective L (log scale)")
    ax.set_title(title)
    ax.legend()
    return ax


def explanation_bars(names: Sequence[str], contributions: Sequence[float], rest: float, score: float,
                     title: str = "Why this item?", ax=None):
    """Contributions of past items to one score (HKV section 5), the rest in one grey bar."""
    values = np.asarray(contributions, dtype=np.float64)
    if values.ndim != 1 or len(names) != values.size:
        raise ValueError("names and contributions must be 1-d and of the same length")
    labels = [*names, "all other past items"]
    heights = np.append(values, rest)
    ax = ax or plt.subplots(figsize=(7, 0.7 + 0.45 * len(labels)))[1]
    colors = ["tab:green" if v >= 0 else "tab:red" for v in values] + ["lightgrey"]
    ax.barh(range(len(labels)), heights, color=colors)
    ax.set_yticks(range(len(labels)), [label[:45] for label in labels])
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel(f"contribution to the score (they sum to {score:.3f})")
    ax.set_title(title)
    return ax


def weighting_comparison(results: Mapping[str, Mapping[str, Any]],
                         title: str = "Judged against the hidden true preferences", axes=None):
    """Grouped bars: one panel per metric, one bar per model (e.g. NDCG@10 and AUC).

    Each ``results[model][metric]`` is one number, or a sequence of per-seed numbers: then the
    bar is their mean with an error bar of one standard deviation (ddof=1) and a dot per seed.
    """
    results = _check_mapping(results, "results")
    models = list(results)
    metrics = list(_check_mapping(results[models[0]], f"results[{models[0]!r}]"))
    table = {}
    for m in models:
        row = _check_mapping(results[m], f"results[{m!r}]")
        for metric in metrics:
            if metric not in row:
                raise ValueError(f"results[{m!r}] has no {metric!r}; every model needs the metrics {metrics}")
            values = np.atleast_1d(np.asarray(row[metric], dtype=np.float64))
            if values.ndim != 1 or values.size == 0 or not np.all(np.isfinite(values)):
                raise ValueError(f"results[{m!r}][{metric!r}] must be a finite number or a non-empty 1-d "
                                 f"sequence of them, got {row[metric]!r}")
            table[m, metric] = values
    if axes is None:
        fig, axes = plt.subplots(1, len(metrics), figsize=(max(4.2, 1.15 * len(models) + 1.2) * len(metrics), 3.9),
                                 squeeze=False)
        axes = axes[0]
    colors = plt.cm.tab10(np.arange(len(models)))
    spread = any(v.size > 1 for v in table.values())
    for ax, metric in zip(axes, metrics):
        means = np.array([table[m, metric].mean() for m in models])
        stds = np.array([table[m, metric].std(ddof=1) if table[m, metric].size > 1 else 0.0 for m in models])
        ax.bar(range(len(models)), means, yerr=stds if spread else None, capsize=5, color=colors, alpha=0.8)
        for x, m in enumerate(models):
            values = table[m, metric]
            if values.size > 1:
                ax.scatter(x + np.linspace(-0.15, 0.15, values.size), values, color="black", s=10, zorder=3)
        for x, (m, v, sd) in enumerate(zip(models, means, stds)):
            top = max(v + sd, float(table[m, metric].max()))  # above the error bar and every dot
            ax.annotate(f"{v:.3f}", (x, top), textcoords="offset points", xytext=(0, 3), ha="center",
                        va="bottom", fontsize=8)
        ax.set_xticks(range(len(models)), [_wrap_label(m) for m in models], fontsize=8)
        ax.set_ylabel(metric)
        ax.set_xlabel("model")
        ax.set_title(metric + (" (bars: mean ± 1 std over seeds; dots: one seed each)" if spread else ""),
                     fontsize=10)
        tops = [max(v + sd, float(table[m, metric].max())) for m, v, sd in zip(models, means, stds)]
        ax.set_ylim(0, max(max(tops) * 1.15, 1e-9))
    axes[0].figure.suptitle(title)
    axes[0].figure.tight_layout()
    return axes


def sweep_heatmap(values: Any, alphas: Sequence[float], factors: Sequence[int], metric: str = "NDCG@10",
                  baseline: float | None = None, baseline_label: str = "popularity", title: str | None = None,
                  ax=None):
    """A metric over alpha (rows) x factors (columns), the best cell framed, numbers in cells."""
    grid = np.asarray(values, dtype=np.float64)
    if grid.shape != (len(alphas), len(factors)):
        raise ValueError(f"values must have shape {(len(alphas), len(factors))}, got {grid.shape}")
    ax = ax or plt.subplots(figsize=(1.6 + 1.3 * len(factors), 1.2 + 0.7 * len(alphas)))[1]
    image = ax.imshow(grid, cmap="viridis", aspect="auto")
    best = np.unravel_index(np.nanargmax(grid), grid.shape)
    for (r, c), v in np.ndenumerate(grid):
        ax.text(c, r, f"{v:.3f}", ha="center", va="center", color="white" if image.norm(v) < 0.6 else "black",
                fontweight="bold" if (r, c) == best else "normal")
    ax.add_patch(plt.Rectangle((best[1] - 0.5, best[0] - 0.5), 1, 1, fill=False, lw=2.5, color="red"))
    ax.set_xticks(range(len(factors)), [str(f) for f in factors])
    ax.set_yticks(range(len(alphas)), [f"{a:g}" for a in alphas])
    ax.set_xlabel("factors f")
    ax.set_ylabel("alpha")
    full = title or f"{metric} on held-out purchases"
    if baseline is not None:
        full += f" ({baseline_label}: {baseline:.3f})"
    ax.set_title(full)
    ax.figure.colorbar(image, ax=ax, label=metric)
    return ax


def top_items_bars(names: Sequence[str], scores: Sequence[float], hits: Sequence[bool] | None = None,
                   title: str = "Top recommendations", ax=None):
    """One user's recommendation list as horizontal bars of predicted preference, best on top;
    items the user really has in a held-out split (``hits``) in green, the others in grey."""
    values = np.asarray(scores, dtype=np.float64)
    if values.ndim != 1 or values.size == 0 or len(names) != values.size or not np.all(np.isfinite(values)):
        raise ValueError(f"names and scores must be non-empty, of the same length and finite, got "
                         f"{len(names)} names and scores of shape {values.shape}")
    marks = np.zeros(values.size, dtype=bool) if hits is None else np.asarray(hits, dtype=bool)
    if marks.shape != values.shape:
        raise ValueError(f"hits must have one entry per item ({values.size}), got shape {marks.shape}")
    ax = ax or plt.subplots(figsize=(7, 0.6 + 0.38 * values.size))[1]
    colors = np.where(marks, "tab:green", "silver")
    ax.barh(range(values.size), values, color=colors)
    labels = [f"{position + 1}. {textwrap.shorten(str(name), 42, placeholder='...')}"
              for position, name in enumerate(names)]
    ax.set_yticks(range(values.size), labels, fontsize=9)
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("predicted preference x_u . y_i")
    ax.set_ylabel("rank")
    if hits is not None:
        handles = [plt.Rectangle((0, 0), 1, 1, color="tab:green"), plt.Rectangle((0, 0), 1, 1, color="silver")]
        ax.legend(handles, ["in the user's validation items", "not"], loc="upper center", fontsize=8,
                  bbox_to_anchor=(0.5, -0.12 - 1.2 / (values.size + 2)), ncol=2, frameon=False)
    ax.set_title(title, fontsize=10)
    return ax
