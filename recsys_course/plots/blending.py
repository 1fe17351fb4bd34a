"""Figures for notebook 05 (choosing and blending) and notebook 07 (Spark vs numba)."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from .._validation import describe

__all__ = ["blend_weight_curve", "metric_panels", "signal_purity", "timing_bars"]

_LABELS = {
    "ndcg": "NDCG@10 (binary)",
    "ndcg_graded": "NDCG@10 (gain = rating)",
    "auc": "AUC",
    "percentile_rank": "rank-bar (lower is better)",
    "rmse": "RMSE (stars, lower is better)",
    "precision": "precision@10",
}


def _check_table(table: Any, name: str) -> dict:
    if not isinstance(table, Mapping) or not table:
        raise TypeError(f"{name} must be a non-empty mapping row -> {{metric: value}}, got {describe(table)}")
    for row, values in table.items():
        if not isinstance(values, Mapping):
            raise TypeError(f"{name}[{row!r}] must be a mapping metric -> value, got {describe(values)}")
    return dict(table)


def metric_panels(table: Mapping[str, Mapping[str, float]], metrics: Sequence[str], titles: Mapping[str, str] | None = None,
                  highlight: str | None = None, suptitle: str | None = None, axes=None, value_format: str = "{:.3f}",
                  errors: Mapping[str, Mapping[str, float]] | None = None):
    """One horizontal bar panel per metric, one bar per row of ``table`` (e.g. per model).

    Rows missing a metric are left out of that panel. ``highlight`` colours one row.
    ``errors`` (same layout as ``table``, e.g. the standard deviation over seeds) draws an
    error bar on each bar and writes ``mean ± error`` beside it.
    """
    table = _check_table(table, "table")
    metrics = list(metrics)
    if not metrics:
        raise ValueError("metrics must name at least one metric")
    if errors is not None:
        errors = _check_table(errors, "errors")
        for row in table:
            for metric in metrics:
                if metric in table[row]:
                    spread = errors.get(row, {}).get(metric)
                    if spread is None or not np.isfinite(float(spread)) or float(spread) < 0:
                        raise ValueError(
                            f"errors[{row!r}][{metric!r}] must be a finite number >= 0, got {spread!r}"
                        )
    titles = dict(titles or {})
    if axes is None:
        fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 0.45 * len(table) + 1.6),
                                 squeeze=False)
        axes = axes[0]
    fig = axes[0].figure
    rows = list(table)
    for ax, metric in zip(axes, metrics):
        names = [r for r in rows if metric in table[r]]
        values = [float(table[r][metric]) for r in names]
        colours = ["tab:orange" if r == highlight else "tab:blue" for r in names]
        y = np.arange(len(names))[::-1]
        spreads = [float(errors[r][metric]) for r in names] if errors is not None else [0.0] * len(names)
        ax.barh(y, values, color=colours, xerr=spreads if errors is not None else None,
                error_kw={"ecolor": "black", "capsize": 3, "lw": 1})
        ax.set_yticks(y, names)
        for yy, v, e in zip(y, values, spreads):
            text = value_format.format(v) + (" ± " + value_format.format(e) if errors is not None else "")
            ax.text(v + e, yy, " " + text, va="center", fontsize=9)
        top = max(v + e for v, e in zip(values, spreads)) if values else 1.0
        ax.set_xlim(0, top * (1.45 if errors is not None else 1.25) if top > 0 else 1.0)
        if top > 0:   # the room on the right holds the labels: no ticks there (an AUC axis stops near 1)
            ax.set_xticks([t for t in ax.get_xticks() if 0 <= t <= top * 1.05])
        label = titles.get(metric, _LABELS.get(metric, metric))
        ax.set_title(label)
        ax.set_xlabel(label.split(" (")[0])
        ax.grid(axis="x", alpha=0.3)
    for ax in axes[1:]:
        ax.tick_params(labelleft=ax is axes[0])
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return axes


def blend_weight_curve(weights: Sequence[float], curves: Mapping[str, Sequence[float]], chosen: float | None = None,
                       xlabel: str = "weight w of the second model", title: str = "Blend weight", ax=None,
                       per_seed: bool = False):
    """Metrics against the blend weight, as change from the w = 0 value (%), one line per metric.

    With ``per_seed=True`` each ``curves[name]`` is an (n_seeds, n_weights) array (e.g. the
    validation scores of every split): each seed is taken relative to its own w = 0 value, and
    the line shows the mean with error bars of one standard deviation over seeds.
    """
    weights = np.asarray(weights, dtype=float)
    if weights.ndim != 1 or weights.size < 2:
        raise ValueError(f"weights must be a 1-d sequence of at least 2 values, got {describe(weights)}")
    if not isinstance(curves, Mapping) or not curves:
        raise TypeError(f"curves must be a non-empty mapping metric -> values, got {describe(curves)}")
    ax = ax or plt.subplots(figsize=(7, 4))[1]
    for name, values in curves.items():
        values = np.asarray(values, dtype=float)
        if per_seed:
            if values.ndim != 2 or values.shape[1] != weights.size or values.shape[0] < 2:
                raise ValueError(f"curves[{name!r}] must be an array (n_seeds >= 2, {weights.size}), got {describe(values)}")
            change = 100.0 * (values / values[:, :1] - 1.0)
            ax.errorbar(weights, change.mean(axis=0), yerr=change.std(axis=0, ddof=1), marker="o", capsize=3,
                        label=f"{_LABELS.get(name, name)}: mean ± std over {values.shape[0]} splits")
        else:
            if values.shape != weights.shape:
                raise ValueError(f"curves[{name!r}] must have one value per weight ({weights.size}), got {values.size}")
            ax.plot(weights, 100.0 * (values / values[0] - 1.0), marker="o", label=_LABELS.get(name, name))
    ax.axhline(0, color="grey", lw=0.8)
    if chosen is not None:
        ax.axvline(chosen, color="tab:red", ls="--", lw=1, label=f"chosen w = {chosen:g}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("change from w = 0 (%)")
    ax.set_title(title)
    ax.legend(fontsize=9)
    ax.grid(alpha=0.3)
    return ax


def signal_purity(shares: Mapping[str, float], base_rate: float, counts: Mapping[str, int] | None = None, ax=None):
    """For each logged signal, the share of its (user, item) pairs the user truly likes."""
    if not isinstance(shares, Mapping) or not shares:
        raise TypeError(f"shares must be a non-empty mapping signal -> share, got {describe(shares)}")
    ax = ax or plt.subplots(figsize=(6.5, 3.4))[1]
    names = list(shares)
    values = [100.0 * float(shares[n]) for n in names]
    bars = ax.bar(names, values, color=["tab:gray", "tab:blue", "tab:green"][: len(names)] or None)
    for bar, name in zip(bars, names):
        text = f"{bar.get_height():.0f}%"
        if counts is not None and name in counts:
            text += f"\n({counts[name]:,} pairs)"
        ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height(), text, ha="center", va="bottom", fontsize=9)
    ax.axhline(100.0 * base_rate, color="tab:red", ls="--", lw=1, label=f"any recipe: {100 * base_rate:.0f}%")
    ax.set_ylim(0, 110)
    ax.set_ylabel("pairs the user truly likes (%)")
    ax.set_xlabel("logged signal")
    ax.set_title("How much each signal says about taste")
    ax.legend(loc="upper left", fontsize=9)
    return ax


def timing_bars(seconds: Mapping[str, float], title: str = "Fit time", ax=None):
    """Wall-clock seconds per method, as horizontal bars."""
    if not isinstance(seconds, Mapping) or not seconds:
        raise TypeError(f"seconds must be a non-empty mapping name -> seconds, got {describe(seconds)}")
    ax = ax or plt.subplots(figsize=(6.5, 0.5 * len(seconds) + 1.4))[1]
    names = list(seconds)
    values = [float(seconds[n]) for n in names]
    y = np.arange(len(names))[::-1]
    ax.barh(y, values, color="tab:blue")
    ax.set_yticks(y, names)
    for yy, v in zip(y, values):
        ax.text(v, yy, f" {v:.1f} s", va="center", fontsize=9)
    ax.set_xlim(0, max(values) * 1.3 if max(values) > 0 else 1)
    ax.set_xlabel("wall-clock time (s)")
    ax.set_title(title)
    return ax
