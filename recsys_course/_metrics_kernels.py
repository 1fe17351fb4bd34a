"""Numba kernels behind ``recsys_course.metrics``: arithmetic only, no validation.

Row-level helpers work on one user at a time:

* ``_list_metrics`` -- precision, recall, AP and NDCG (binary and graded) of one top-k list;
* ``_full_metrics`` -- full AUC and the summed percentile rank of the test items, from the
  user's scores over every item that is not in training.

``evaluate_rows`` fuses top-k selection (the shared kernels of ``models._topk``) and both
helpers in one parallel pass over a chunk of users; ``ranked_rows`` scores given lists.
"""

from __future__ import annotations

import numba
import numpy as np

from .models._topk import _sorted_row, _topk_row


@numba.njit(cache=True, nogil=True)
def _contains(sorted_items, item):
    """Position of ``item`` in the sorted array, or -1."""
    pos = np.searchsorted(sorted_items, item)
    if pos < sorted_items.shape[0] and sorted_items[pos] == item:
        return pos
    return -1


@numba.njit(cache=True, nogil=True)
def _list_metrics(items, filled, k, test_items, test_gains, ideal_gains):
    """Metrics of one ranked list ``items[:filled]`` (``k`` is the list length asked for).

    ``test_items`` is sorted; ``test_gains`` their graded gains; ``ideal_gains`` the same
    gains sorted descending. Returns (precision, recall, ap, ndcg_binary, ndcg_graded).
    """
    n_test = test_items.shape[0]
    hits = 0
    ap = 0.0
    dcg = 0.0
    dcg_graded = 0.0
    for pos in range(filled):
        item = items[pos]
        if item < 0:
            continue
        where = _contains(test_items, item)
        if where < 0:
            continue
        hits += 1
        ap += hits / (pos + 1.0)
        discount = 1.0 / np.log2(pos + 2.0)
        dcg += discount
        dcg_graded += test_gains[where] * discount
    idcg = 0.0
    idcg_graded = 0.0
    for pos in range(min(k, n_test)):
        discount = 1.0 / np.log2(pos + 2.0)
        idcg += discount
        idcg_graded += ideal_gains[pos] * discount
    precision = hits / k
    recall = hits / n_test
    ap = ap / min(k, n_test)
    ndcg = dcg / idcg
    ndcg_graded = dcg_graded / idcg_graded if idcg_graded > 0 else 0.0
    return precision, recall, ap, ndcg, ndcg_graded


@numba.njit(cache=True, nogil=True)
def _full_metrics(scores, train_items, test_items, test_gains):
    """Full AUC and the gain-weighted sum of percentile ranks for one user.

    Candidates are all items not in ``train_items``. AUC compares every test item with
    every candidate that is not a test item (ties count one half). The percentile rank
    of a test item is (candidates scored above it + half the other candidates tied with
    it) / (candidates - 1): 0 at the top, 1 at the bottom, 0.5 on average for random
    scores. Returns (auc, sum of gain * percentile, sum of gain); auc is NaN when the
    user has no negative candidate.
    """
    n_items = scores.shape[0]
    m = test_items.shape[0]
    test_scores = np.empty(m, dtype=np.float64)
    for t in range(m):
        test_scores[t] = scores[test_items[t]]
    order = np.argsort(test_scores, kind="mergesort")
    sorted_scores = test_scores[order]
    # above[t]: candidates scoring strictly above sorted test item t; tied[t]: equal score
    above = np.zeros(m + 1, dtype=np.float64)
    tied = np.zeros(m + 1, dtype=np.float64)
    pairs_won = 0.0  # over (test, negative) pairs: test above negative, ties half
    n_candidates = 0
    n_negatives = 0
    e = 0
    n_train = train_items.shape[0]
    t_ptr = 0
    for item in range(n_items):
        while e < n_train and train_items[e] < item:
            e += 1
        if e < n_train and train_items[e] == item:
            continue
        n_candidates += 1
        s = scores[item]
        lo = np.searchsorted(sorted_scores, s, side="left")
        hi = np.searchsorted(sorted_scores, s, side="right")
        # test items in [0, lo) score below this candidate, [lo, hi) tie with it
        above[0] += 1.0
        above[lo] -= 1.0
        tied[lo] += 1.0
        tied[hi] -= 1.0
        while t_ptr < m and test_items[t_ptr] < item:
            t_ptr += 1
        if t_ptr < m and test_items[t_ptr] == item:
            continue
        n_negatives += 1
        pairs_won += (m - hi) + 0.5 * (hi - lo)
    auc = np.nan
    if n_negatives > 0:
        auc = pairs_won / (m * n_negatives)
    weighted = 0.0
    weight = 0.0
    run_above = 0.0
    run_tied = 0.0
    for r in range(m):
        run_above += above[r]
        run_tied += tied[r]
        if n_candidates > 1:
            # the item ties with itself once: leave it out of the tie count
            percentile = (run_above + 0.5 * (run_tied - 1.0)) / (n_candidates - 1.0)
        else:
            percentile = 0.0
        g = test_gains[order[r]]
        weighted += g * percentile
        weight += g
    return auc, weighted, weight


@numba.njit(cache=True, nogil=True)
def _ideal(gains):
    return -np.sort(-gains)


@numba.njit(cache=True, parallel=True)
def evaluate_rows(scores, k, rows, train_indptr, train_indices, test_indptr, test_indices,
                  test_data, want_lists, want_full):
    """All metrics for a chunk of users whose score rows are ``scores``.

    Row ``r`` belongs to user ``rows[r]`` (that user's train items are skipped and must
    have at least one test item). Returns a (n, 8) float array with columns precision,
    recall, ap, ndcg, ndcg_graded, auc, percentile-rank numerator, its weight; the
    (n, k) top-k items (-1 when unfilled); and a per-row flag for NaN scores.
    """
    n = scores.shape[0]
    n_items = scores.shape[1]
    out = np.full((n, 8), np.nan)
    top_items = np.full((n, k), -1, dtype=np.int64)
    bad = np.zeros(n, dtype=np.bool_)
    use_sort = k * 8 > n_items
    for r in numba.prange(n):
        u = rows[r]
        row = scores[r]
        for j in range(n_items):
            if row[j] != row[j]:
                bad[r] = True
                break
        if bad[r]:
            continue
        train_items = train_indices[train_indptr[u]:train_indptr[u + 1]]
        test_items = test_indices[test_indptr[u]:test_indptr[u + 1]]
        gains = test_data[test_indptr[u]:test_indptr[u + 1]]
        if want_lists:
            top_scores = np.empty(k, dtype=np.float64)
            if use_sort:
                filled = _sorted_row(row, k, train_items, top_items[r], top_scores)
            else:
                filled = _topk_row(row, k, train_items, top_items[r], top_scores)
            p, rec, ap, nd, ndg = _list_metrics(top_items[r], filled, k, test_items, gains,
                                                _ideal(gains))
            out[r, 0] = p
            out[r, 1] = rec
            out[r, 2] = ap
            out[r, 3] = nd
            out[r, 4] = ndg
        if want_full:
            auc, weighted, weight = _full_metrics(row, train_items, test_items, gains)
            out[r, 5] = auc
            out[r, 6] = weighted
            out[r, 7] = weight
    return out, top_items, bad


@numba.njit(cache=True, parallel=True)
def ranked_rows(ranked, k, rows, test_indptr, test_indices, test_data):
    """List metrics of given ranked lists (row ``r`` for user ``rows[r]``): (n, 5) array."""
    n = ranked.shape[0]
    width = ranked.shape[1]
    out = np.full((n, 5), np.nan)
    for r in numba.prange(n):
        u = rows[r]
        test_items = test_indices[test_indptr[u]:test_indptr[u + 1]]
        gains = test_data[test_indptr[u]:test_indptr[u + 1]]
        p, rec, ap, nd, ndg = _list_metrics(ranked[r], min(width, k), k, test_items, gains,
                                            _ideal(gains))
        out[r, 0] = p
        out[r, 1] = rec
        out[r, 2] = ap
        out[r, 3] = nd
        out[r, 4] = ndg
    return out
