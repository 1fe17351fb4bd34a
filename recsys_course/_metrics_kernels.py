"""Numba kernels behind ``recsys_course.metrics``: arithmetic only, no validation.

Row-level helpers work on one user at a time:

* ``_list_metrics`` -- precision, recall, AP and NDCG (binary and graded) of one top-k list;
* ``_full_metrics`` -- full AUC and the summed percentile rank of the test items, from the
  user's scores over every item that is not in training.

``evaluate_block`` fuses top-k selection (the shared kernels of ``models._topk``) and both
helpers in one pass over a run of users, in one thread (``evaluate`` runs several side by
side); ``evaluate_rows`` is the same over a whole matrix with numba's parallel loop;
``ranked_rows`` scores given lists.
"""

from __future__ import annotations

import numba
import numpy as np

from .models._topk import _better, _insert, _sorted_row


@numba.njit(cache=True, nogil=True)
def _contains(sorted_items, item):
    """Position of ``item`` in the sorted array, or -1."""
    pos = np.searchsorted(sorted_items, item)
    if pos < sorted_items.shape[0] and sorted_items[pos] == item:
        return pos
    return -1


@numba.njit(cache=True, nogil=True)
def _ideal(gains):
    return -np.sort(-gains)


@numba.njit(cache=True, nogil=True)
def _list_metrics(items, filled, k, test_items, test_gains):
    """Metrics of one ranked list ``items[:filled]`` (``k`` is the list length asked for).

    ``test_items`` is sorted; ``test_gains`` their graded gains. Returns (precision,
    recall, ap, ndcg_binary, ndcg_graded).
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
    for pos in range(min(k, n_test)):
        idcg += 1.0 / np.log2(pos + 2.0)
    uniform = True
    for t in range(n_test):
        uniform &= test_gains[t] == test_gains[0]
    if uniform:  # binary data: the ideal order needs no sort
        idcg_graded = test_gains[0] * idcg
    else:
        ideal_gains = _ideal(test_gains)
        idcg_graded = 0.0
        for pos in range(min(k, n_test)):
            idcg_graded += ideal_gains[pos] / np.log2(pos + 2.0)
    precision = hits / k
    recall = hits / n_test
    ap = ap / min(k, n_test)
    ndcg = dcg / idcg
    ndcg_graded = dcg_graded / idcg_graded if idcg_graded > 0 else 0.0
    return precision, recall, ap, ndcg, ndcg_graded


@numba.njit(cache=True, nogil=True, inline="always")
def _count_below(sorted_values, m, x):
    """How many of the ``m`` sorted values are < x (branch-free binary search, m >= 1)."""
    base = 0
    n = m
    while n > 1:
        half = n >> 1
        base += half * (sorted_values[base + half] < x)  # no branch to mispredict
        n -= half
    return base + (sorted_values[base] < x)


@numba.njit(cache=True, nogil=True, fastmath={"reassoc", "nsz"})
def _count_vs(values, n, s, one, zero):
    """(values[:n] > s, values[:n] == s) counted in the values' own precision.

    Re-association (and only that: NaN and inf keep their meaning) lets the compiler
    vectorise the two sums; counts stay exact below 2**24 in float32.
    """
    above = zero
    tied = zero
    for c in range(n):
        above += one if values[c] > s else zero
        tied += one if values[c] == s else zero
    return above, tied


#: up to this many test items per user, ``_full_metrics`` counts with vectorised passes over
#: the candidates that can still rank above a test item (``_counts_from_bottom``); beyond, it
#: sorts the test scores and binary-searches each candidate (O(n log m)).
SCAN_LIMIT = 256

#: a compaction (scalar, one write per entry) costs about this many vectorised counting passes
COMPACT_COST = 20  # measured on MovieLens 1M: 2, 6, 20 and "never" tried, 20 was fastest


@numba.njit(cache=True, nogil=True)
def _counts_from_bottom(row, n, test_scores, order, above, tied):
    """For every test score ``test_scores[t]``: ``above[t]`` = entries of ``row[:n]`` strictly
    above it, ``tied[t]`` = entries equal to it (NaN entries never count).

    ``order`` sorts the test scores ascending. Going up that order, an entry below the current
    test score can never count again, so whenever at most half of the live entries are at or
    above it, the live part of ``row`` is compacted in place to those entries. The work is
    about the sum of the test items' ranks (small for a good model) instead of (test items) x
    (items). ``row`` is overwritten. The counts are exact whatever the order of the work.
    """
    one = np.ones_like(row[:1])[0]  # 1 and 0 in the scores' precision
    zero = one - one
    live = n
    m = order.shape[0]
    for idx in range(m):
        t = order[idx]
        s = test_scores[t]
        if idx > 0 and s == test_scores[order[idx - 1]]:
            above[t] = above[order[idx - 1]]
            tied[t] = tied[order[idx - 1]]
            continue
        a, e = _count_vs(row, live, s, one, zero)
        above[t] = a
        tied[t] = e
        keep = int(a + e)
        # compact when the passes it saves (each over the dropped entries, for every test
        # score still to come) outweigh it: a compaction costs about COMPACT_COST passes
        if (m - idx - 1) * (live - keep) > COMPACT_COST * live:
            j = 0
            for c in range(live):  # branch-free: always write, advance only on a keeper
                v = row[c]
                row[j] = v
                j += v >= s
            live = j


@numba.njit(cache=True, nogil=True)
def _full_metrics(masked, n_candidates, test_items, test_gains):
    """Full AUC and the gain-weighted sum of percentile ranks for one user.

    ``masked`` is the user's score row with NaN at the training items, so the
    candidates are its ``n_candidates`` non-NaN entries (test items included); NaN
    never compares greater or equal, which leaves training items out of every count.
    A test item's percentile rank is (A + (T - 1) / 2) / (candidates - 1), A =
    candidates scored strictly above it, T = candidates tied with it (itself
    included): 0 at the top, 1 at the bottom, 1/2 on average for random scores. The
    AUC counts, for each test item, the negatives (candidates that are not test
    items) below it, ties one half. Returns (auc, sum of gain * percentile, sum of
    gain); auc is NaN when the user has no negative. ``masked`` is overwritten.
    """
    m = test_items.shape[0]
    n_items = masked.shape[0]
    if m > SCAN_LIMIT or n_items >= 2 ** 24:
        return _full_metrics_sorted(masked, n_candidates, test_items, test_gains)
    one = np.ones_like(masked[:1])[0]  # 1 and 0 in the scores' precision
    zero = one - one
    test_scores = np.empty(m, dtype=masked.dtype)  # contiguous: the m x m counts vectorise
    for t in range(m):
        test_scores[t] = masked[test_items[t]]
    order = np.empty(m, dtype=np.int64)  # ascending scores (insertion sort: m is small)
    for t in range(m):
        pos = t
        while pos > 0 and test_scores[order[pos - 1]] > test_scores[t]:
            order[pos] = order[pos - 1]
            pos -= 1
        order[pos] = t
    above_all = np.empty(m, dtype=masked.dtype)
    tied_all = np.empty(m, dtype=masked.dtype)
    _counts_from_bottom(masked, n_items, test_scores, order, above_all, tied_all)
    n_negatives = n_candidates - m
    weighted = 0.0
    weight = 0.0
    won = 0.0
    for t in range(m):  # in item order, as the sums were always taken
        s = test_scores[t]
        above = above_all[t]
        tied = tied_all[t]
        test_above, test_tied = _count_vs(test_scores, m, s, one, zero)
        if n_candidates > 1:
            percentile = (above + 0.5 * (tied - 1)) / (n_candidates - 1.0)
        else:
            percentile = 0.0
        weighted += test_gains[t] * percentile
        weight += test_gains[t]
        negatives_above = above - test_above
        negatives_tied = tied - test_tied
        won += n_negatives - negatives_above - 0.5 * negatives_tied
    auc = np.nan
    if n_negatives > 0:
        auc = won / (m * n_negatives)
    return auc, weighted, weight


@numba.njit(cache=True, nogil=True)
def _full_metrics_sorted(masked, n_candidates, test_items, test_gains):
    """``_full_metrics`` for users with many test items: same results in O(n log m).

    With the test scores sorted, one pass over the candidates counts, for every test item
    t, A_t = candidates strictly above it and T_t = candidates tied with it (itself too);
    the test items among those counts are then taken out again for the AUC.
    """
    n_items = masked.shape[0]
    m = test_items.shape[0]
    test_scores = np.empty(m, dtype=np.float64)
    for t in range(m):
        test_scores[t] = masked[test_items[t]]
    order = np.argsort(test_scores, kind="mergesort")
    sorted_scores = test_scores[order]
    # ends[v]: candidates strictly above exactly the v lowest test scores
    ends = np.zeros(m + 1, dtype=np.int64)
    tied = np.zeros(m + 1, dtype=np.int64)  # difference array of tie counts
    for item in range(n_items):
        s = np.float64(masked[item])
        if s != s:  # a training item
            continue
        lo = _count_below(sorted_scores, m, s)
        if lo < m and sorted_scores[lo] == s:  # rare: ties with test scores
            hi = lo
            while hi < m and sorted_scores[hi] == s:
                hi += 1
            tied[lo] += 1
            tied[hi] -= 1
        ends[lo] += 1
    n_negatives = n_candidates - m
    weighted = 0.0
    weight = 0.0
    won = 0.0
    # above_t[t]: candidates strictly above sorted test item t (those with lo > t)
    above_t = np.zeros(m, dtype=np.int64)
    running = 0
    for v in range(m, 0, -1):
        running += ends[v]
        above_t[v - 1] = running
    run_tied = 0
    for t in range(m):
        run_tied += tied[t]
        # test items strictly above / tied with sorted test item t
        lo = t
        while lo > 0 and sorted_scores[lo - 1] == sorted_scores[t]:
            lo -= 1
        hi = t + 1
        while hi < m and sorted_scores[hi] == sorted_scores[t]:
            hi += 1
        test_above = m - hi
        test_tied = hi - lo  # itself included
        if n_candidates > 1:
            percentile = (above_t[t] + 0.5 * (run_tied - 1)) / (n_candidates - 1.0)
        else:
            percentile = 0.0
        g = test_gains[order[t]]
        weighted += g * percentile
        weight += g
        negatives_above = above_t[t] - test_above
        negatives_tied = run_tied - test_tied
        won += n_negatives - negatives_above - 0.5 * negatives_tied
    auc = np.nan
    if n_negatives > 0:
        auc = won / (m * n_negatives)
    return auc, weighted, weight


_PREFIX = 256


@numba.njit(cache=True, nogil=True)
def _topk_masked(row, k, out_items, out_scores):
    """Top-k of a row whose excluded items are NaN; same order as ``models._topk``
    (score descending, ties to the lower index).

    The first items (a prefix of at least 256) fill the list by insertion. Items come
    in index order, so afterwards an item can only enter with a score strictly above
    the current k-th (a tie loses on index): one comparison per item, rarely true.
    """
    n = row.shape[0]
    filled = 0
    prefix = min(n, max(_PREFIX, 4 * k))
    for item in range(prefix):
        s = row[item]
        if s != s:
            continue
        if filled == k and not _better(s, item, out_scores[k - 1], out_items[k - 1]):
            continue
        filled = _insert(s, item, k, filled, out_items, out_scores)
    if prefix == n:
        return filled
    if filled < k:  # many NaN in the prefix: finish one item at a time
        for item in range(prefix, n):
            s = row[item]
            if s != s:
                continue
            if filled == k and not _better(s, item, out_scores[k - 1], out_items[k - 1]):
                continue
            filled = _insert(s, item, k, filled, out_items, out_scores)
        return filled
    kth = row[out_items[k - 1]]  # in the row's precision
    for item in range(prefix, n):
        s = row[item]
        if s > kth:  # rarely true: a well-predicted branch; NaN compares False
            filled = _insert(s, item, k, filled, out_items, out_scores)
            kth = row[out_items[k - 1]]
    return filled


@numba.njit(cache=True, nogil=True)
def _copy_count_nan(row, out):
    """Copy ``row`` into ``out`` and return its number of NaNs (one pass: the row is read
    from memory once)."""
    nans = 0
    for j in range(row.shape[0]):
        v = row[j]
        out[j] = v
        nans += v != v
    return nans


@numba.njit(cache=True, nogil=True)
def evaluate_block(scores, k, rows, train_indptr, train_indices, test_indptr, test_indices,
                   test_data, want_lists, want_full, out, top_items, bad):
    """All metrics for a run of users whose score rows are ``scores``, in one thread.

    Row ``r`` belongs to user ``rows[r]`` (that user's train items are skipped; the user
    must have at least one test item, none of them in train). Scores must be floats. Fills
    row ``r`` of ``out`` (columns precision, recall, ap, ndcg, ndcg_graded, auc,
    percentile-rank numerator, its weight; NaN left where a family of metrics is not
    wanted), of ``top_items`` (the top-k items, -1 when unfilled) and of ``bad`` (True when
    the score row holds a NaN; the row is then left alone). The run reuses one masked row
    buffer. ``nogil``: threads of the caller run runs side by side.
    """
    n = scores.shape[0]
    n_items = scores.shape[1]
    use_sort = k * 8 > n_items
    nothing = np.empty(0, dtype=train_indices.dtype)
    buffer = np.empty(n_items, dtype=scores.dtype)
    top_scores = np.empty(k, dtype=np.float64)
    for r in range(n):
        u = rows[r]
        if _copy_count_nan(scores[r], buffer) > 0:
            bad[r] = True
            continue
        train_items = train_indices[train_indptr[u]:train_indptr[u + 1]]
        test_items = test_indices[test_indptr[u]:test_indptr[u + 1]]
        gains = test_data[test_indptr[u]:test_indptr[u + 1]]
        # training items become NaN: never ranked, never counted
        for e in range(train_items.shape[0]):
            buffer[train_items[e]] = np.nan
        if want_lists:
            if use_sort:
                filled = _sorted_row(buffer, k, nothing, top_items[r], top_scores)
            else:
                filled = _topk_masked(buffer, k, top_items[r], top_scores)
            p, rec, ap, nd, ndg = _list_metrics(top_items[r], filled, k, test_items, gains)
            out[r, 0] = p
            out[r, 1] = rec
            out[r, 2] = ap
            out[r, 3] = nd
            out[r, 4] = ndg
        if want_full:  # last: it overwrites the buffer
            auc, weighted, weight = _full_metrics(buffer, n_items - train_items.shape[0],
                                                  test_items, gains)
            out[r, 5] = auc
            out[r, 6] = weighted
            out[r, 7] = weight


@numba.njit(cache=True, parallel=True)
def evaluate_rows(scores, k, rows, train_indptr, train_indices, test_indptr, test_indices,
                  test_data, want_lists, want_full, n_blocks=1):
    """``evaluate_block`` over a whole score matrix with numba's threads.

    Returns a (n, 8) float array of the metrics, the (n, k) top-k items and the per-row NaN
    flags (see ``evaluate_block``). The rows are cut into ``n_blocks`` runs (a few per
    thread: the parallel loop hands each thread whole runs).
    """
    n = scores.shape[0]
    out = np.full((n, 8), np.nan)
    top_items = np.full((n, k), -1, dtype=np.int64)
    bad = np.zeros(n, dtype=np.bool_)
    n_blocks = max(1, min(n, n_blocks))
    for b in numba.prange(n_blocks):
        lo = b * n // n_blocks
        hi = (b + 1) * n // n_blocks
        evaluate_block(scores[lo:hi], k, rows[lo:hi], train_indptr, train_indices, test_indptr,
                       test_indices, test_data, want_lists, want_full, out[lo:hi],
                       top_items[lo:hi], bad[lo:hi])
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
        p, rec, ap, nd, ndg = _list_metrics(ranked[r], min(width, k), k, test_items, gains)
        out[r, 0] = p
        out[r, 1] = rec
        out[r, 2] = ap
        out[r, 3] = nd
        out[r, 4] = ndg
    return out


@numba.njit(cache=True)
def count_overlap(a_indptr, a_indices, b_indptr, b_indices, n_columns):
    """Number of (row, column) pairs stored in both CSR structures.

    Row by row: flag b's columns, look a's up, clear the flags (no branch to mispredict, unlike
    a merge). Serial: about 2 ms for a million entries, and a parallel region costs more than
    that on a busy machine (a thread that is descheduled holds up the others)."""
    n = a_indptr.shape[0] - 1
    flag = np.zeros(n_columns, dtype=np.bool_)
    found = 0
    for r in range(n):
        for j in range(b_indptr[r], b_indptr[r + 1]):
            flag[b_indices[j]] = True
        for i in range(a_indptr[r], a_indptr[r + 1]):
            found += flag[a_indices[i]]
        for j in range(b_indptr[r], b_indptr[r + 1]):
            flag[b_indices[j]] = False
    return found
