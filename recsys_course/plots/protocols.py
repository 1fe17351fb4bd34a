"""Figures for notebook 08: sampled against full-ranking metrics."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["hit_probability_curve", "sampled_vs_full"]

_MARKERS = "osD^v<>"


def sampled_vs_full(comparison: Any, metric: str = "ndcg", ax=None, title: str | None = None):
    """Every setting each contender tried, by its validation score with sampled negatives (x) and
    over the full ranking (y): where the two orders of settings and models disagree."""
    from ..tuning import Comparison

    if not isinstance(comparison, Comparison):
        raise TypeError(f"comparison must be a Comparison (compare_leave_last_out), got {type(comparison).__name__}")
    if metric not in ("ndcg", "hit_rate"):
        raise ValueError(f"metric must be 'ndcg' or 'hit_rate', got {metric!r}")
    ax = ax or plt.subplots(figsize=(6.4, 4.4))[1]
    k = comparison.k
    for index, name in enumerate(comparison.contenders):
        grid = comparison.grid(name, 0)
        x = grid.scores(metric)
        y = grid.scores(f"full_{metric}")
        points = ax.scatter(x, y, marker=_MARKERS[index % len(_MARKERS)], s=42, label=name, zorder=3)
        best = grid.best_index
        ax.scatter([x[best]], [y[best]], s=150, facecolors="none", edgecolors=points.get_facecolor()[0],
                   linewidths=1.5, zorder=4)
    label = "NDCG" if metric == "ndcg" else "hit rate"
    ax.set_xlabel(f"validation {label}@{k}, target among 100 sampled negatives")
    ax.set_ylabel(f"validation {label}@{k}, target among all unseen items")
    ax.set_title(title or f"Every setting tried: sampled vs full {label}@{k} (circled: chosen)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    return ax


def hit_probability_curve(ranks: Any, n_candidates: Any, negatives: int = 100, k: int = 10, ax=None,
                          title: str | None = None):
    """Where the held-out items sit in the full ranking (histogram, log scale), and the chance
    that an item at that place is a sampled hit@k (curve): sampled HR@k is a soft threshold."""
    from ..protocols import sampled_hit_probability

    ranks = np.asarray(ranks)
    if ranks.ndim != 1 or ranks.size == 0 or not np.issubdtype(ranks.dtype, np.integer) or ranks.min() < 0:
        raise ValueError("ranks must be a non-empty 1-d array of integer ranks >= 0 (from protocols.full_ranks)")
    size = int(np.max(n_candidates))
    ax = ax or plt.subplots(figsize=(7.0, 4.2))[1]
    edges = np.unique(np.geomspace(1, size + 1, 40).astype(int))
    ax.hist(ranks + 1, bins=edges, color="#9ecae1", edgecolor="#3182bd", label="held-out items")
    ax.set_xscale("log")
    ax.set_xlabel("place of the held-out item among all unseen items (1 = top, log scale)")
    ax.set_ylabel("users (count)")
    ax.axvline(k, color="#636363", linestyle=":", label=f"full-ranking top {k}")
    curve_x = np.unique(np.geomspace(1, size, 200).astype(int))
    right = ax.twinx()
    probability = sampled_hit_probability(curve_x - 1, size, negatives=negatives, k=k)
    right.plot(curve_x, probability, color="#e6550d", label=f"P(sampled hit@{k})")
    right.set_ylim(0, 1.02)
    right.set_ylabel(f"chance of a sampled hit@{k} ({negatives} negatives)")
    handles = ax.get_legend_handles_labels()
    extra = right.get_legend_handles_labels()
    ax.legend(handles[0] + extra[0], handles[1] + extra[1], fontsize=8, loc="upper left")
    ax.set_title(title or f"A sampled hit@{k} reaches far down the full ranking, not just its top {k}")
    return ax
