"""Figures for notebook 01: what explicit and implicit data look like."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .._validation import check_csr_counts

__all__ = ["activity_long_tail", "rating_histogram", "count_histogram", "zero_reasons_bar"]


def rating_histogram(ratings, ax=None, title="MovieLens 100K: how people rate"):
    """Bar chart of how often each star value was given."""
    ratings = np.asarray(ratings, dtype=float)
    if ratings.ndim != 1 or ratings.size == 0:
        raise ValueError(f"ratings must be a non-empty 1-d array, got shape {ratings.shape}")
    values, counts = np.unique(ratings, return_counts=True)
    ax = ax or plt.subplots(figsize=(5, 3.2))[1]
    ax.bar(values, counts / counts.sum() * 100, width=0.6, color="#4c72b0")
    ax.set_xticks(values)
    ax.set_xlabel("rating (stars)")
    ax.set_ylabel("share of ratings (%)")
    ax.set_title(title)
    return ax


def activity_long_tail(counts, name: str, axes=None):
    """Interactions per user and per item, sorted, on log axes: the long tail."""
    counts = check_csr_counts(counts, "counts")
    per_user = np.sort(np.diff(counts.indptr))[::-1]
    per_item = np.sort(np.bincount(counts.indices, minlength=counts.shape[1]))[::-1]
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    for ax, values, who, what in [
        (axes[0], per_user, "users", "items per user"),
        (axes[1], per_item, "items", "users per item"),
    ]:
        ranks = np.arange(1, values.size + 1)
        ax.loglog(ranks, np.maximum(values, 0.8), color="#dd8452", lw=2)
        ax.set_xlabel(f"{who}, ranked by activity (log scale)")
        ax.set_ylabel(f"{what} (log scale)")
        ax.set_title(f"{name}: {what}\nmedian {np.median(values):.0f}, max {values.max():.0f}")
        ax.grid(True, which="major", alpha=0.3)
    axes[0].figure.tight_layout()
    return axes


def count_histogram(counts, name: str, ax=None, max_count: int = 20):
    """How often each repeat count occurs among the observed pairs (log y axis)."""
    counts = check_csr_counts(counts, "counts")
    values = counts.data
    clipped = np.minimum(values, max_count)
    bins = np.arange(1, max_count + 2) - 0.5
    ax = ax or plt.subplots(figsize=(6, 3.2))[1]
    ax.hist(clipped, bins=bins, color="#55a868", rwidth=0.85)
    ax.set_yscale("log")
    ax.set_xlabel(f"count r_ui (times bought; last bar = {max_count} or more)")
    ax.set_ylabel("user-item pairs (log scale)")
    ax.set_title(f"{name}: {np.mean(values == 1):.0%} of observed pairs happened once")
    return ax


def zero_reasons_bar(reasons: dict, ax=None, title="Why is a cell zero? (simulated, truth known)"):
    """Horizontal bars: the share of zero cells per hidden cause."""
    if not reasons or any(v < 0 for v in reasons.values()):
        raise ValueError(f"reasons must map causes to non-negative counts, got {reasons!r}")
    labels = list(reasons)
    values = np.array([reasons[k] for k in labels], dtype=float)
    shares = values / values.sum() * 100
    ax = ax or plt.subplots(figsize=(7, 2.6))[1]
    colours = ["#c44e52", "#8172b3", "#ccb974"][: len(labels)]
    ax.barh(labels, shares, color=colours)
    for y, share in enumerate(shares):
        ax.text(share + 1, y, f"{share:.1f}%", va="center")
    ax.set_xlim(0, 110)
    ax.set_xlabel("share of all zero cells (%)")
    ax.set_title(title)
    ax.invert_yaxis()
    return ax
