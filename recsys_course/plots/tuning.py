"""Figures for tuned comparisons: validation grids and test scores with their spread."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

__all__ = ["comparison_bars", "grid_heatmap"]

_LABELS = {"ndcg": "NDCG@{k}", "precision": "precision@{k}", "recall": "recall@{k}", "map": "MAP@{k}",
           "ndcg_graded": "graded NDCG@{k}", "auc": "AUC", "percentile_rank": "expected percentile rank (%)",
           "coverage": "catalogue coverage@{k}"}


def _label(metric: str, k: int) -> str:
    return _LABELS.get(metric, metric).format(k=k)


#: what one repetition of a comparison is called in the legend and title
REPEAT_NAMES = ("split", "seed")


def comparison_bars(comparison: Any, metric: str | None = None, ax=None, title: str | None = None,
                    repeat: str | None = None):
    """Mean test score per contender with error bars (± one standard deviation over splits)
    and every split's score as a dot, so the reader sees the spread the mean hides.

    ``repeat`` names what varies between the repetitions in the legend and default title:
    ``"split"`` (``tuning.compare`` over ``repeated_splits``) or ``"seed"`` (the split is
    fixed, as in ``protocols.compare_leave_last_out``, whose result says so through its
    ``repeat`` attribute). None (the default) reads the comparison's ``repeat`` attribute,
    and ``"split"`` when it has none.
    """
    from ..tuning import Comparison

    if not isinstance(comparison, Comparison):
        raise TypeError(f"comparison must be a Comparison from recsys_course.tuning.compare, "
                        f"got {type(comparison).__name__}")
    if repeat is None:
        repeat = getattr(comparison, "repeat", "split")
    if repeat not in REPEAT_NAMES:
        raise ValueError(f"repeat must be one of {REPEAT_NAMES} or None, got {repeat!r}")
    metric = comparison.metric if metric is None else metric
    comparison._check_metric(metric)
    summary = comparison.summary()
    names = comparison.contenders
    means = np.array([summary[n][metric][0] for n in names])
    stds = np.array([summary[n][metric][1] for n in names])
    ax = ax or plt.subplots(figsize=(1.6 * len(names) + 2.5, 3.8))[1]
    positions = np.arange(len(names))
    ax.bar(positions, means, yerr=stds, capsize=6, color="#9ecae1", edgecolor="#3182bd",
           label=f"mean ± 1 std over {repeat}s")
    for position, name in zip(positions, names):
        values = comparison.values(name, metric)
        offsets = np.linspace(-0.15, 0.15, values.size) if values.size > 1 else np.zeros(1)
        ax.scatter(position + offsets, values, color="#08519c", s=14, zorder=3,
                   label=f"one {repeat}" if position == 0 else None)
    for position, name, mean, std in zip(positions, names, means, stds):
        top = max(mean + std, float(comparison.values(name, metric).max()))  # above the bar and its dots
        ax.annotate(f"{mean:.3f}", (position, top), textcoords="offset points", xytext=(0, 4),
                    ha="center", va="bottom", fontsize=8)
    ax.margins(y=0.12)
    ax.set_xticks(positions, names)
    ax.set_ylabel(f"test {_label(metric, comparison.k)} (higher is better)" if metric != "percentile_rank"
                  else f"test {_label(metric, comparison.k)} (lower is better)")
    ax.set_xlabel("model (each tuned on validation)")
    ax.set_title(title or f"Test {_label(metric, comparison.k)} over {comparison.n_seeds} {repeat}s")
    ax.legend(loc="lower right", fontsize=8)
    return ax


def grid_heatmap(result: Any, row: str, column: str, metric: str | None = None, ax=None,
                 title: str | None = None):
    """Validation scores of a grid search as a heatmap over two parameters, the chosen cell
    boxed in red. Only validation scores are ever drawn here: the choice is made on them."""
    from ..tuning import GridSearchResult

    if not isinstance(result, GridSearchResult):
        raise TypeError(f"result must be a GridSearchResult from recsys_course.tuning.grid_search, "
                        f"got {type(result).__name__}")
    metric = result.metric if metric is None else metric
    row_values, column_values, table = result.pivot(row, column, metric)
    ax = ax or plt.subplots(figsize=(1.1 * len(column_values) + 2.5, 0.6 * len(row_values) + 2))[1]
    image = ax.imshow(table, cmap="viridis" if metric != "percentile_rank" else "viridis_r", aspect="auto")
    ax.figure.colorbar(image, ax=ax, label=f"validation {_label(metric, result.k)}")
    ax.set_xticks(range(len(column_values)), [f"{v:g}" if isinstance(v, float) else str(v) for v in column_values])
    ax.set_yticks(range(len(row_values)), [f"{v:g}" if isinstance(v, float) else str(v) for v in row_values])
    ax.set_xlabel(column)
    ax.set_ylabel(row)
    finite = np.isfinite(table)
    middle = np.nanmean(table) if finite.any() else 0.0
    for i in range(table.shape[0]):
        for j in range(table.shape[1]):
            if finite[i, j]:
                ax.text(j, i, f"{table[i, j]:.3f}", ha="center", va="center", fontsize=8,
                        color="white" if table[i, j] < middle else "black")
    best = result.best_params
    i, j = row_values.index(best[row]), column_values.index(best[column])
    ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=2.5))
    ax.set_title(title or f"Validation {_label(metric, result.k)}: chosen setting boxed")
    return ax
