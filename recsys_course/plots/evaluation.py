"""Figures for notebook 01's evaluation section: one user's ranked list, term by term.

``ranking_breakdown`` spells out, for a single user, every term that goes into the
course's metrics (the same definitions as ``recsys_course.metrics``): which candidate
sits at which position, each held-out item's DCG term, its percentile rank and the
negatives it beats. ``ranked_list_metrics`` draws it. Both exist for teaching; the
metrics themselves (many users, fast) live in ``recsys_course.metrics``.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator
import numpy as np

from .._validation import check_counts, check_int, describe

__all__ = ["RankingBreakdown", "ranking_breakdown", "ranked_list_metrics"]


@dataclass(frozen=True)
class RankingBreakdown:
    """Every term of the metrics for one user (positions count from 1, best first).

    ``ranked``: candidate items (the non-train items) in ranked order, score descending,
    ties to the lower index; ``held_out_items``, ``positions``, ``gains`` (held-out
    counts), ``dcg_terms`` (1/log2(position + 1) inside the top k, else 0),
    ``percentiles`` ((items above + (items tied - 1)/2) / (candidates - 1)) and
    ``negatives_below`` (non-held-out candidates scored lower, ties one half) are
    aligned, one entry per held-out item, best placed first.
    """

    k: int
    scores: np.ndarray
    ranked: np.ndarray
    train_items: np.ndarray
    held_out_items: np.ndarray
    positions: np.ndarray
    gains: np.ndarray
    dcg_terms: np.ndarray
    percentiles: np.ndarray
    negatives_below: np.ndarray
    n_negatives: int
    precision: float
    recall: float
    dcg: float
    ideal_dcg: float
    ndcg: float
    auc: float
    percentile_rank: float

    @property
    def n_candidates(self) -> int:
        return int(self.ranked.size)

    def table(self) -> str:
        """One line per held-out item with its position and its three terms."""
        lines = [f"{'item':>5} {'position':>8} {'DCG term':>9} {'percentile':>10} {'negatives below':>16}"]
        for item, pos, term, pct, below in zip(self.held_out_items, self.positions, self.dcg_terms,
                                               self.percentiles, self.negatives_below):
            lines.append(f"{item:>5d} {pos:>8d} {term:>9.3f} {pct:>10.3f} "
                         f"{below:>9g} of {self.n_negatives}")
        return "\n".join(lines)


def _check_vector(values, name: str, n_items: int | None) -> np.ndarray:
    array = check_counts(values, name, max_ndim=1)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-d array with one entry per item, got {describe(values)}")
    if n_items is not None and array.size != n_items:
        raise ValueError(f"{name} must have one entry per item ({n_items}), got {array.size}")
    return array


def ranking_breakdown(scores, held_out, train=None, k: int = 10) -> RankingBreakdown:
    """The metrics of one user's ranked list, with each item's contribution.

    ``scores``: one finite score per item (1-d). ``held_out``: the user's held-out counts
    (1-d, >= 0; positive = relevant; the count weights the percentile rank). ``train``:
    the user's training counts or None; training items are not ranked and must not be
    held out. ``k`` is clamped to the number of items, as in ``recsys_course.metrics``.
    """
    if isinstance(scores, (str, bytes)) or scores is None:
        raise TypeError(f"scores must be a 1-d array of finite numbers, got {describe(scores)}")
    try:
        score_array = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"scores must be a 1-d array of finite numbers, got {describe(scores)}") from None
    if score_array.ndim != 1 or score_array.size < 2:
        raise ValueError(f"scores must be a 1-d array of at least 2 items, got shape {score_array.shape}")
    if not np.all(np.isfinite(score_array)):
        bad = score_array[~np.isfinite(score_array)][0]
        raise ValueError(f"scores must hold finite numbers, found {bad}")
    n_items = score_array.size
    held = _check_vector(held_out, "held_out", n_items)
    seen = np.zeros(n_items) if train is None else _check_vector(train, "train", n_items)
    both = np.flatnonzero((held > 0) & (seen > 0))
    if both.size:
        raise ValueError(f"held_out and train must not share an item, both hold item {both[0]}")
    if not np.any(held > 0):
        raise ValueError("held_out must hold at least one positive count (a relevant item)")
    k = min(check_int(k, "k", minimum=1), n_items)

    candidates = np.flatnonzero(seen == 0)
    if candidates.size < 2:
        raise ValueError(f"at least 2 items must be left to rank after removing train items, got {candidates.size}")
    # score descending, ties to the lower index (the order of recsys_course.models top-k)
    ranked = candidates[np.lexsort((candidates, -score_array[candidates]))]
    position_of = np.empty(n_items, dtype=np.int64)
    position_of[ranked] = np.arange(1, ranked.size + 1)

    relevant = held > 0
    held_items = ranked[relevant[ranked]]
    positions = position_of[held_items]
    gains = held[held_items]
    dcg_terms = np.where(positions <= k, 1.0 / np.log2(positions + 1.0), 0.0)
    n_relevant = held_items.size
    ideal_dcg = float(np.sum(1.0 / np.log2(np.arange(1, min(k, n_relevant) + 1) + 1.0)))
    dcg = float(dcg_terms.sum())
    hits = int(np.sum(positions <= k))

    cand_scores = score_array[ranked]
    negative_scores = score_array[ranked[~relevant[ranked]]]
    n_candidates = ranked.size
    percentiles = np.empty(n_relevant)
    negatives_below = np.empty(n_relevant)
    for t, item in enumerate(held_items):
        s = score_array[item]
        above = np.sum(cand_scores > s)
        tied = np.sum(cand_scores == s)  # the item itself included
        percentiles[t] = (above + 0.5 * (tied - 1)) / (n_candidates - 1)
        negatives_below[t] = np.sum(negative_scores < s) + 0.5 * np.sum(negative_scores == s)
    n_negatives = int(negative_scores.size)
    auc = float(negatives_below.sum() / (n_relevant * n_negatives)) if n_negatives else float("nan")
    return RankingBreakdown(
        k=k, scores=score_array, ranked=ranked, train_items=np.flatnonzero(seen > 0),
        held_out_items=held_items, positions=positions, gains=gains, dcg_terms=dcg_terms,
        percentiles=percentiles, negatives_below=negatives_below, n_negatives=n_negatives,
        precision=hits / k, recall=hits / n_relevant, dcg=dcg, ideal_dcg=ideal_dcg,
        ndcg=dcg / ideal_dcg, auc=auc,
        percentile_rank=float(np.sum(gains * percentiles) / np.sum(gains)),
    )


def ranked_list_metrics(scores, held_out, train=None, k: int = 3, labels=None, ax=None):
    """One user's ranked list as bars, held-out items highlighted, each one's terms written beside it.

    Training items are drawn below the list, greyed out: they are not ranked. The title
    gives the five metrics of ``ranking_breakdown``. Returns the axes.
    """
    b = ranking_breakdown(scores, held_out, train=train, k=k)
    n_items = b.scores.size
    if labels is None:
        labels = [f"item {i}" for i in range(n_items)]
    elif isinstance(labels, (str, bytes)) or len(labels) != n_items:
        raise ValueError(f"labels must give one name per item ({n_items}), got {describe(labels)}")
    rows = list(b.ranked) + list(b.train_items)
    if ax is None:
        _, ax = plt.subplots(figsize=(11, 0.42 * len(rows) + 1.6))
    held = set(int(i) for i in b.held_out_items)
    train = set(int(i) for i in b.train_items)
    y = np.arange(len(rows))
    colours = ["#dd8452" if i in held else ("#d9d9d9" if i in train else "#4c72b0") for i in rows]
    ax.barh(y, b.scores[rows], color=colours, hatch=None, edgecolor="none", height=0.7)
    for row, item in enumerate(rows):
        if item in train:
            ax.barh(row, b.scores[item], color="none", edgecolor="#999999", hatch="//", height=0.7)
    ticks = [f"{pos}. {labels[i]}" for pos, i in enumerate(b.ranked, start=1)]
    ticks += [f"train: {labels[i]}" for i in b.train_items]
    ax.set_yticks(y, ticks)
    ax.invert_yaxis()
    ax.axhline(b.k - 0.5, color="black", ls="--", lw=1)
    if b.train_items.size:
        ax.axhline(b.n_candidates - 0.5, color="#999999", lw=1)
    low = min(0.0, float(b.scores.min()))
    high = float(b.scores.max())
    span = high - low if high > low else 1.0
    right = high + 1.6 * span
    ax.set_xlim(low, right)
    # the room on the right holds the notes, not scores: ticks and axis line stop at the scores
    candidates = MaxNLocator(nbins=5).tick_values(low, high)
    top = min((t for t in candidates if t >= high - 1e-12), default=high)
    ax.set_xticks([t for t in candidates if low - 1e-12 <= t <= top + 1e-12])
    ax.spines["bottom"].set_bounds(low, top)
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.text(right - 0.01 * span, b.k - 0.55, f"top k = {b.k} above this line", ha="right", va="bottom", fontsize=9)
    for item, pos, term, pct, below, gain in zip(b.held_out_items, b.positions, b.dcg_terms,
                                                 b.percentiles, b.negatives_below, b.gains):
        dcg_text = f"DCG 1/log2({pos + 1}) = {term:.3f}" if pos <= b.k else "DCG 0 (below k)"
        ax.text(max(float(b.scores[item]), 0.0) + 0.03 * span, pos - 1,
                f"{dcg_text} | percentile {pct:.0%} (count {gain:g}) | beats {below:g} of {b.n_negatives}",
                va="center", fontsize=9, color="#8c3d0b")
    for row, item in enumerate(rows):
        if item in train:
            ax.text(max(float(b.scores[item]), 0.0) + 0.03 * span, row, "not ranked (seen in training)",
                    va="center", fontsize=9, color="#777777")
    ax.set_xlabel("score the model gave the item")
    ax.set_ylabel("position in the user's list (best first)")
    ax.set_title(
        f"One user's ranked list, held-out items in orange\n"
        f"precision@{b.k} = {b.precision:.3f}, recall@{b.k} = {b.recall:.3f}, NDCG@{b.k} = {b.ndcg:.3f}, "
        f"AUC = {b.auc:.3f}, expected percentile rank = {b.percentile_rank:.0%}"
    )
    ax.grid(axis="x", alpha=0.3)
    handles = [Patch(color="#dd8452", label="held-out item (relevant)"),
               Patch(color="#4c72b0", label="other candidate (a negative for AUC)")]
    if b.train_items.size:
        handles.append(Patch(facecolor="#d9d9d9", edgecolor="#999999", hatch="//", label="training item"))
    ax.legend(handles=handles, loc="lower right", fontsize=9)
    return ax
