"""Figures for notebook 02: the preference / confidence transform."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator
import numpy as np

from .._validation import check_counts, check_float, check_int
from ..feedback import confidence, preference

__all__ = ["confidence_curves", "transform_heatmaps"]


def _annotated_heatmap(ax, values, title, cmap, labels_x, labels_y, fmt="{:g}"):
    image = ax.imshow(values, cmap=cmap, vmin=0)
    for (row, col), value in np.ndenumerate(values):
        shade = image.norm(value)
        ax.text(col, row, fmt.format(value), ha="center", va="center",
                color="white" if shade > 0.55 else "black", fontsize=11)
    ax.set_xticks(range(values.shape[1]), labels_x)
    ax.set_yticks(range(values.shape[0]), labels_y)
    ax.set_xlabel("item i")
    ax.set_title(title)
    return image


def _log_text(count: str, epsilon: float) -> str:
    """The log scheme's term as the course writes it: natural log, epsilon shown unless it is 1."""
    return f"ln(1 + {count})" if epsilon == 1.0 else f"ln(1 + {count}/{epsilon:g})"


def transform_heatmaps(counts, alpha: float = 40.0, scheme: str = "linear", epsilon: float = 1e-8,
                       users=None, items=None, axes=None):
    """Counts r_ui, preference p_ui and confidence c_ui side by side, numbers in the cells."""
    counts = check_counts(counts, "counts")
    if counts.ndim != 2 or counts.size == 0:
        raise ValueError(f"counts must be a non-empty 2-d array, got shape {counts.shape}")
    users = users or [f"user {chr(65 + u)}" if u < 26 else f"user {u}" for u in range(counts.shape[0])]
    items = items or [f"item {i + 1}" for i in range(counts.shape[1])]
    if axes is None:
        fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    else:
        fig = axes[0].figure
    _annotated_heatmap(axes[0], counts, "counts r_ui", "Greys", items, users)
    _annotated_heatmap(axes[1], preference(counts), "preference p_ui = [r_ui > 0]", "Blues", items, users)
    label = f"1 + {alpha:g} r_ui" if scheme == "linear" else f"1 + {alpha:g} {_log_text('r_ui', epsilon)}"
    _annotated_heatmap(axes[2], confidence(counts, alpha, scheme, epsilon), f"confidence c_ui = {label}",
                       "Oranges", items, users, fmt="{:.0f}")
    axes[0].set_ylabel("user u")
    fig.tight_layout()
    return axes


def confidence_curves(alpha: float = 40.0, max_count: int = 20, epsilon: float = 1.0, ax=None):
    """Confidence against count for the linear and the log scheme at one alpha."""
    alpha = check_float(alpha, "alpha", minimum=0.0)
    max_count = check_int(max_count, "max_count", minimum=1)
    epsilon = check_float(epsilon, "epsilon", minimum=0.0, strict_minimum=True)
    r = np.arange(0, max_count + 1, dtype=float)
    ax = ax or plt.subplots(figsize=(6, 3.6))[1]
    ax.plot(r, confidence(r, alpha, "linear"), marker="o", ms=3, label=f"linear: 1 + {alpha:g} r")
    ax.plot(r, confidence(r, alpha, "log", epsilon), marker="s", ms=3,
            label=f"log: 1 + {alpha:g} {_log_text('r', epsilon)}")
    ax.axhline(1.0, color="grey", lw=0.8, ls="--")
    ax.annotate("unobserved: c = 1", (0, 1), xytext=(max_count * 0.35, max(2.0, alpha * 0.8)),
                arrowprops={"arrowstyle": "->", "color": "grey"}, color="grey")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # counts are whole numbers
    ax.set_xlabel("count r_ui (interactions)")
    ax.set_ylabel("confidence c_ui (weight in the loss)")
    ax.set_title(f"How sure are we? alpha = {alpha:g}")
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    return ax
