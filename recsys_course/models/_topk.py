"""Top-k selection kernels shared by every model and by evaluation.

Order is by score descending, ties broken by the lower item index, so the
same scores always give the same list whatever the thread count.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _better(score_a, index_a, score_b, index_b):
    return score_a > score_b or (score_a == score_b and index_a < index_b)


@numba.njit(cache=True, nogil=True, inline="always")
def _insert(s, item, k, filled, out_items, out_scores):
    """Put (s, item) into the sorted list (score descending, ties to the lower index) whose
    first ``filled`` slots are in use; a full list drops its last entry. Returns the new fill."""
    if filled == k:
        pos = k - 1
    else:
        pos = filled
        filled += 1
    while pos > 0 and _better(s, item, out_scores[pos - 1], out_items[pos - 1]):  # shift worse ones right
        out_scores[pos] = out_scores[pos - 1]
        out_items[pos] = out_items[pos - 1]
        pos -= 1
    out_scores[pos] = s
    out_items[pos] = item
    return filled


@numba.njit(cache=True, nogil=True)
def _topk_row(scores, k, excluded, out_items, out_scores):
    """Fill ``out_items``/``out_scores`` (length k) with the best items of one row.

    ``excluded`` holds sorted item indices to skip. Returns how many slots were filled
    (fewer than k when the row has fewer eligible items).
    """
    n_items = scores.shape[0]
    filled = 0
    e = 0
    n_excluded = excluded.shape[0]
    for item in range(n_items):
        while e < n_excluded and excluded[e] < item:
            e += 1
        if e < n_excluded and excluded[e] == item:
            continue
        s = scores[item]
        if s != s:  # NaN never ranks
            continue
        if filled == k and not _better(s, item, out_scores[k - 1], out_items[k - 1]):
            continue
        filled = _insert(s, item, k, filled, out_items, out_scores)
    return filled


@numba.njit(cache=True, nogil=True)
def _sorted_row(scores, k, excluded, out_items, out_scores):
    """Same contract as ``_topk_row`` via one stable sort (faster for large k)."""
    n_items = scores.shape[0]
    keep = np.ones(n_items, dtype=np.bool_)
    for j in range(excluded.shape[0]):
        keep[excluded[j]] = False
    for item in range(n_items):
        if scores[item] != scores[item]:
            keep[item] = False
    candidates = np.nonzero(keep)[0]
    order = np.argsort(-scores[candidates], kind="mergesort")
    filled = min(k, order.shape[0])
    for j in range(filled):
        out_items[j] = candidates[order[j]]
        out_scores[j] = scores[out_items[j]]
    return filled


@numba.njit(cache=True, parallel=True)
def topk_rows(scores, k, indptr, indices, rows):
    """Top-k of every row of ``scores`` (n x n_items).

    Row ``r`` of ``scores`` belongs to user ``rows[r]``; that user's items in the CSR
    structure (``indptr``, ``indices``) are skipped. Pass an empty ``indptr`` of zeros
    to skip nothing. Unfilled slots hold item -1 and score -inf.
    """
    n = scores.shape[0]
    out_items = np.full((n, k), -1, dtype=np.int64)
    out_scores = np.full((n, k), -np.inf, dtype=np.float64)
    use_sort = k * 8 > scores.shape[1]
    for r in numba.prange(n):
        u = rows[r]
        excluded = indices[indptr[u]:indptr[u + 1]]
        if use_sort:
            _sorted_row(scores[r], k, excluded, out_items[r], out_scores[r])
        else:
            _topk_row(scores[r], k, excluded, out_items[r], out_scores[r])
    return out_items, out_scores


def top_k(scores: np.ndarray, k: int, exclude=None, rows=None):
    """Top-k item indices and scores per row of a 2-d score array.

    ``exclude``: an optional CSR matrix whose row ``rows[r]`` lists the items to skip for
    score row ``r`` (``rows`` defaults to ``arange(n)``). Missing slots: item -1, score -inf.
    """
    scores = np.ascontiguousarray(scores)
    n = scores.shape[0]
    rows = np.arange(n, dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
    if exclude is None:
        indptr = np.zeros(int(rows.max(initial=0)) + 2, dtype=np.int64)
        indices = np.zeros(0, dtype=np.int32)
    else:
        indptr = np.asarray(exclude.indptr, dtype=np.int64)
        indices = np.asarray(exclude.indices, dtype=np.int32)
    return topk_rows(scores, int(k), indptr, indices, rows)
