"""Figures for notebook 04: the BPR step, sampled negatives, learning curves, model comparison."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["auc_surrogate", "bpr_step_weight", "learning_curves", "metric_sweep", "model_comparison",
           "negative_sampling_bars"]


def _non_empty_mapping(values: Any, name: str) -> Mapping:
    if not isinstance(values, Mapping) or not values:
        raise TypeError(f"{name} must be a non-empty dict, got {type(values).__name__}")
    return values


def bpr_step_weight(z_range: float = 6.0, ax=None):
    """The BPR loss -ln sigmoid(z) and its step weight g = sigmoid(-z) against the margin z.

    z = s_ui - s_uj. A pair already in the right order (z >> 0) barely moves the factors.
    """
    if isinstance(z_range, bool) or not isinstance(z_range, (int, float)) or not np.isfinite(z_range) \
            or z_range <= 0:
        raise ValueError(f"z_range must be a finite number > 0, got {z_range!r}")
    z = np.linspace(-z_range, z_range, 241)
    ax = ax or plt.subplots(figsize=(6, 3.6))[1]
    ax.plot(z, np.logaddexp(0.0, -z), label="loss  -ln sigmoid(z)")
    ax.plot(z, 1.0 / (1.0 + np.exp(z)), label="step weight  g = sigmoid(-z)")
    ax.axvline(0.0, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("margin z = s_ui - s_uj (score units)")
    ax.set_ylabel("loss / weight (unitless)")
    ax.set_title("BPR: wrong-order pairs pull hard, right-order pairs fade")
    ax.legend()
    return ax


def auc_surrogate(z_range: float = 6.0, ax=None):
    """AUC's step function and the BPR term that replaces it, against the margin z = s_ui - s_uj.

    AUC counts a pair as 1 when z > 0 and 0 otherwise (the Heaviside step H(z)): flat almost
    everywhere, so it has no gradient to climb. BPR-Opt uses ln sigmoid(z) instead; drawn here
    as 1 + log2 sigmoid(z), which equals 0 at z = 0, tends to 1 for large z and lies below H(z)
    everywhere, so raising it raises a lower bound on the share of pairs in the right order.
    """
    if isinstance(z_range, bool) or not isinstance(z_range, (int, float)) or not np.isfinite(z_range) \
            or z_range <= 0:
        raise ValueError(f"z_range must be a finite number > 0, got {z_range!r}")
    z = np.linspace(-z_range, z_range, 481)
    ax = ax or plt.subplots(figsize=(6, 3.6))[1]
    ax.step(z, (z > 0).astype(float), where="post", color="black", lw=1.5,
            label="AUC's count  H(z) = [z > 0]")
    ax.plot(z, 1.0 - np.logaddexp(0.0, -z) / np.log(2.0), color="C0", lw=2,
            label="BPR's term  1 + log2 sigmoid(z)")
    ax.axvline(0.0, color="grey", lw=0.8, ls=":")
    ax.axhline(0.0, color="grey", lw=0.8, ls=":")
    ax.set_ylim(-2.5, 1.3)
    ax.set_xlabel("margin z = s_ui - s_uj (score units)")
    ax.set_ylabel("credit for the pair (unitless)")
    ax.set_title("BPR-Opt: a smooth lower bound on AUC's step")
    ax.legend(loc="lower right")
    return ax


def negative_sampling_bars(reports: Mapping[str, Mapping[str, float]],
                           keys: Sequence[str] = ("training_positive", "liked", "liked_unseen"),
                           labels: Sequence[str] = ("a training positive", "truly liked",
                                                    "liked but never shown"),
                           title: str = "What is a sampled 'negative' really?", ax=None):
    """Grouped bars: for each sampler (dict key), the share of drawn negatives in each category.

    ``reports`` maps a sampler name to the dict of ``models.sampled_negative_truth``.
    """
    reports = _non_empty_mapping(reports, "reports")
    if len(keys) != len(labels):
        raise ValueError(f"keys and labels must have the same length, got {len(keys)} and {len(labels)}")
    names = list(reports)
    for name in names:
        missing = [k for k in keys if k not in reports[name]]
        if missing:
            raise ValueError(f"reports[{name!r}] lacks {missing}")
    ax = ax or plt.subplots(figsize=(8, 4))[1]
    width = 0.8 / len(keys)
    x = np.arange(len(names))
    for q, (key, label) in enumerate(zip(keys, labels)):
        values = np.array([100.0 * reports[n][key] for n in names])
        bars = ax.bar(x + (q - (len(keys) - 1) / 2) * width, np.nan_to_num(values), width, label=label)
        for bar, value in zip(bars, values):
            if np.isfinite(value):
                ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height(), f"{value:.1f}",
                        ha="center", va="bottom", fontsize=8)
    # long sampler names break after their comma so neighbouring tick labels do not run together
    ax.set_xticks(x, [str(n).replace(", ", ",\n") for n in names])
    ax.set_xlabel("negative sampler")
    ax.set_ylabel("share of sampled negatives (%)")
    ax.set_title(title)
    # headroom above the tallest bar, where the legend sits in one row without covering a bar
    tallest = max([100.0 * reports[n][k] for n in names for k in keys
                   if np.isfinite(reports[n][k])], default=0.0)
    ax.set_ylim(0.0, 1.5 * tallest if tallest > 0 else 1.0)
    ax.legend(title="the sampled item is ...", loc="upper center", ncols=len(keys), fontsize=9)
    return ax


def learning_curves(histories: Mapping[str, Mapping[str, Sequence[float]]],
                    title: str = "BPR learning curves"):
    """Two panels per epoch: the BPR loss and (when recorded) the sampled validation AUC.

    ``histories`` maps a run's label to its ``BPR.history``. Returns the figure.
    """
    histories = _non_empty_mapping(histories, "histories")
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    for label, history in histories.items():
        if "loss" not in history or "epoch" not in history:
            raise ValueError(f"histories[{label!r}] must be a BPR.history with 'epoch' and 'loss'")
        epochs = np.asarray(history["epoch"])
        left.plot(epochs, history["loss"], label=label)
        if history.get("validation_auc"):
            right.plot(epochs, history["validation_auc"], label=label)
    left.set_xlabel("epoch")
    left.set_ylabel("mean -ln sigmoid(s_ui - s_uj)")
    left.set_title("training loss (sampled pairs)")
    right.set_xlabel("epoch")
    right.set_ylabel("AUC on held-out pairs")
    right.set_title("validation AUC (sampled, higher is better)")
    for ax in (left, right):
        ax.grid(alpha=0.3)
    left.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def model_comparison(results: Mapping[str, Mapping[str, float]], metric: str = "NDCG@10",
                     title: str = "Models on held-out interactions", ax=None):
    """Grouped bars: one group per data set (outer key), one bar per model (inner key)."""
    results = _non_empty_mapping(results, "results")
    datasets = list(results)
    models: list[str] = []
    for d in datasets:
        for m in _non_empty_mapping(results[d], f"results[{d!r}]"):
            if m not in models:
                models.append(m)
    ax = ax or plt.subplots(figsize=(8, 4))[1]
    width = 0.8 / len(models)
    x = np.arange(len(datasets))
    for q, model in enumerate(models):
        values = np.array([results[d].get(model, np.nan) for d in datasets], dtype=float)
        bars = ax.bar(x + (q - (len(models) - 1) / 2) * width, np.nan_to_num(values), width, label=model)
        for bar, value in zip(bars, values):
            if np.isfinite(value):
                ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height(), f"{value:.3f}",
                        ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, datasets)
    ax.set_ylabel(f"{metric} (higher is better)")
    ax.set_title(title)
    ax.legend()
    return ax


_SWEEP_LABELS = {"ndcg": "NDCG@{k}", "auc": "AUC", "precision": "precision@{k}", "recall": "recall@{k}",
                 "map": "MAP@{k}", "percentile_rank": "expected percentile rank"}


def metric_sweep(results: Mapping[str, Any], parameter: str, metrics: Sequence[str] = ("ndcg", "auc"),
                 title: str = "Validation scores along one parameter", log_x: bool = True):
    """Validation score against ``parameter``: one row of panels per grid search, one column
    per metric (each panel on its own scale).

    ``results`` maps a label (e.g. a data set) to a ``recsys_course.tuning.GridSearchResult``
    whose grid varies ``parameter`` (other parameters fixed) and scored every name in
    ``metrics``. The setting the search chose (best on its selection metric) is ringed in red
    on every panel of its row, so the reader sees what that choice means for the other
    metrics. Returns the figure.
    """
    from ..tuning import GridSearchResult

    results = _non_empty_mapping(results, "results")
    if isinstance(metrics, str) or not isinstance(metrics, Sequence) or not metrics:
        raise TypeError(f"metrics must be a non-empty list of metric names, got {metrics!r}")
    for label, result in results.items():
        if not isinstance(result, GridSearchResult):
            raise TypeError(f"results[{label!r}] must be a GridSearchResult from recsys_course.tuning.grid_search, "
                            f"got {type(result).__name__}")
        if parameter not in result.param_names:
            raise ValueError(f"parameter must be one of results[{label!r}]'s grid parameters "
                             f"{result.param_names}, got {parameter!r}")
        missing = [m for m in metrics if m not in result.rows[0]]
        if missing:
            raise ValueError(f"results[{label!r}] was not scored on {missing}: pass metrics=... to grid_search")
    fig, axes = plt.subplots(len(results), len(metrics), figsize=(5.2 * len(metrics), 3.0 * len(results) + 0.6),
                             squeeze=False)
    for r, (label, result) in enumerate(results.items()):
        x = np.array([row[parameter] for row in result.rows], dtype=float)
        order = np.argsort(x)
        for q, metric in enumerate(metrics):
            ax = axes[r, q]
            y = result.scores(metric)
            ax.plot(x[order], y[order], marker="o", color=f"C{q}")
            ax.scatter([x[result.best_index]], [y[result.best_index]], s=170, facecolors="none",
                       edgecolors="red", linewidths=2, zorder=3,
                       label=f"chosen on validation {_SWEEP_LABELS.get(result.metric, result.metric).format(k=result.k)}")
            if log_x:
                ax.set_xscale("log", base=2)
                ax.set_xticks(x[order], [f"{v:g}" for v in x[order]])
                ax.minorticks_off()
            name = _SWEEP_LABELS.get(metric, metric).format(k=result.k)
            ax.set_xlabel(parameter)
            ax.set_ylabel(f"validation {name}" + (" (lower is better)" if metric == "percentile_rank" else ""))
            ax.set_title(f"{label}: {name}")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8, loc="best")
    fig.suptitle(title)
    fig.tight_layout()
    return fig
