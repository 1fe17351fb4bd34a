"""Numba kernels for BPR: random streams, negative sampling and Hogwild SGD epochs.

Arithmetic only; ``bpr.py`` validates and converts. Every random draw comes from a
splitmix64 stream whose state is a plain uint64 carried through the loop, so a run is
fully determined by its seeds (one stream per thread).
"""

from __future__ import annotations

import numba
import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_UNIT = 1.0 / 9007199254740992.0  # 2 ** -53


@numba.njit(cache=True, nogil=True, inline="always")
def _next(state):
    """One splitmix64 step: (new state, uniform float in [0, 1))."""
    state = state + _GOLDEN
    z = state
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    z = z ^ (z >> _S31)
    return state, (z >> _S11) * _UNIT


@numba.njit(cache=True, nogil=True, inline="always")
def _index(uniform, n):
    j = np.int64(uniform * n)
    return j if j < n else n - 1


@numba.njit(cache=True, nogil=True)
def _seen(indices, lo, hi, item):
    """Is ``item`` in the sorted run ``indices[lo:hi]``? (binary search; no array view is
    made, so no reference count is touched in the hot loop)"""
    while lo < hi:
        mid = (lo + hi) >> 1
        v = indices[mid]
        if v < item:
            lo = mid + 1
        elif v > item:
            hi = mid
        else:
            return True
    return False


@numba.njit(cache=True)
def build_bitset(indptr, indices, n_items):
    """One bit per (user, item): set where the user had the item. Row u spans
    ``words`` uint64 words starting at u * words."""
    n_users = indptr.shape[0] - 1
    words = (n_items + 63) // 64
    bits = np.zeros(n_users * words, dtype=np.uint64)
    for u in range(n_users):
        for p in range(indptr[u], indptr[u + 1]):
            item = indices[p]
            bits[u * words + (item >> 6)] |= np.uint64(1) << np.uint64(item & 63)
    return bits


@numba.njit(cache=True, nogil=True, inline="always")
def _had(u, j, indices, lo, hi, bits, words):
    """Did user u (items ``indices[lo:hi]``) have item j? A bitset look-up when ``bits`` is
    given, else binary search."""
    if bits.shape[0] > 0:
        word = bits[u * words + (j >> 6)]
        return (word >> np.uint64(j & 63)) & np.uint64(1) != np.uint64(0)
    return _seen(indices, lo, hi, j)


@numba.njit(cache=True, nogil=True)
def _draw_negative(state, u, indices, lo, hi, bits, words, n_items, cdf, verify, max_tries):
    """Draw one negative item for user ``u`` whose training items are ``indices[lo:hi]``.

    ``cdf`` empty: uniform over the catalogue; else inverse-CDF sampling from the
    (unnormalised, cumulative) popularity weights. With ``verify`` an item the user
    had is redrawn, up to ``max_tries`` draws in all. Returns (state, item or -1).
    """
    n_cdf = cdf.shape[0]
    for _ in range(max_tries if verify else 1):
        state, r = _next(state)
        if n_cdf == 0:
            j = _index(r, n_items)
        else:
            j = np.searchsorted(cdf, r * cdf[n_cdf - 1], side="right")
            if j >= n_items:
                j = n_items - 1
        if not verify or not _had(u, j, indices, lo, hi, bits, words):
            return state, j
    return state, -1


@numba.njit(cache=True, nogil=True, inline="always")
def _margin(user_factors, item_factors, u, i, j, n_factors, zero):
    """x_u . (y_i - y_j) summed in a fixed order: eight running sums over the factors, then
    a fixed tree. No fast-math reordering, so the result does not depend on the CPU's
    vector width (the same seed gives the same model on any machine), while the eight
    independent sums still map onto one vector register."""
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = zero
    blocks = n_factors // 8
    for b in range(blocks):
        f = 8 * b
        s0 += user_factors[u, f] * (item_factors[i, f] - item_factors[j, f])
        s1 += user_factors[u, f + 1] * (item_factors[i, f + 1] - item_factors[j, f + 1])
        s2 += user_factors[u, f + 2] * (item_factors[i, f + 2] - item_factors[j, f + 2])
        s3 += user_factors[u, f + 3] * (item_factors[i, f + 3] - item_factors[j, f + 3])
        s4 += user_factors[u, f + 4] * (item_factors[i, f + 4] - item_factors[j, f + 4])
        s5 += user_factors[u, f + 5] * (item_factors[i, f + 5] - item_factors[j, f + 5])
        s6 += user_factors[u, f + 6] * (item_factors[i, f + 6] - item_factors[j, f + 6])
        s7 += user_factors[u, f + 7] * (item_factors[i, f + 7] - item_factors[j, f + 7])
    for f in range(8 * blocks, n_factors):
        s0 += user_factors[u, f] * (item_factors[i, f] - item_factors[j, f])
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))


@numba.njit(cache=True, nogil=True, inline="always")
def _positive_steps(user_factors, item_factors, item_bias, use_bias, u, i, js, negatives, lr, reg,
                    loss_every, n_factors, one, zero, portable, loss, loss_terms, correct, updates,
                    countdown, missed):
    """The SGD steps of one positive (u, i) against its negatives ``js`` (-1: none found), the
    per-step body of both schedules (``_stream`` and ``_stratum``). Inlined, so it is compiled
    under the calling epoch kernel's floating-point flags; ``portable`` picks the margin summed
    in a fixed order. Returns the running tallies (loss, loss_terms, correct, updates,
    countdown, missed) with this positive's steps added."""
    for q in range(negatives):
        j = js[q]
        if j < 0:
            missed += 1.0
            continue
        if portable:
            z = item_bias[i] - item_bias[j] + _margin(user_factors, item_factors, u, i, j,
                                                      n_factors, zero)
        else:
            z = item_bias[i] - item_bias[j]
            for f in range(n_factors):
                z += user_factors[u, f] * (item_factors[i, f] - item_factors[j, f])
        if z > zero:
            correct += 1.0
        # g = d ln sigmoid(z) / dz = sigmoid(-z): near 0 once the pair is in order
        g = one / (one + np.exp(z))
        countdown -= 1
        if countdown == 0:  # every loss_every-th step (a countdown: no division per step)
            countdown = loss_every
            loss += np.log1p(np.exp(-abs(z))) + max(-z, zero)
            loss_terms += 1.0
        for f in range(n_factors):
            xf = user_factors[u, f]
            yif = item_factors[i, f]
            yjf = item_factors[j, f]
            user_factors[u, f] = xf + lr * (g * (yif - yjf) - reg * xf)
            item_factors[i, f] = yif + lr * (g * xf - reg * yif)
            item_factors[j, f] = yjf + lr * (-g * xf - reg * yjf)
        if use_bias:
            item_bias[i] += lr * (g - reg * item_bias[i])
            item_bias[j] += lr * (-g - reg * item_bias[j])
        updates += 1
    return loss, loss_terms, correct, updates, countdown, missed


@numba.njit(cache=True, nogil=True, inline="always")
def _stream(t, user_factors, item_factors, item_bias, use_bias, user_of, indptr, indices, bits,
            n_items, samples_per_stream, negatives, lr, reg, cdf, verify, max_tries, loss_every,
            seeds, stats, words, nnz, n_factors, one, zero, portable):
    """Stream t of an epoch (see ``bpr_epoch``). Inlined into the two epoch kernels, so it
    is compiled under each one's floating-point flags; ``portable`` (a constant in each)
    picks the margin summed in a fixed order over the plain loop fast-math vectorises."""
    state = seeds[t]
    loss = 0.0
    loss_terms = 0.0
    correct = 0.0
    updates = 0
    countdown = 1
    missed = 0.0
    touched = zero
    # software pipeline: the next triple is drawn (same random sequence) and its rows
    # are touched before the current one is processed, so their cache misses overlap
    # with the arithmetic instead of stalling it
    js = np.empty(negatives, dtype=np.int64)
    next_js = np.empty(negatives, dtype=np.int64)
    state, r = _next(state)
    idx = _index(r, nnz)
    next_u = user_of[idx]
    next_i = indices[idx]
    for q in range(negatives):
        state, next_js[q] = _draw_negative(state, next_u, indices, indptr[next_u],
                                           indptr[next_u + 1], bits, words, n_items, cdf,
                                           verify, max_tries)
    for s in range(samples_per_stream):
        u = next_u
        i = next_i
        for q in range(negatives):
            js[q] = next_js[q]
        if s + 1 < samples_per_stream:
            state, r = _next(state)
            idx = _index(r, nnz)
            next_u = user_of[idx]
            next_i = indices[idx]
            for q in range(negatives):
                state, next_js[q] = _draw_negative(state, next_u, indices, indptr[next_u],
                                                   indptr[next_u + 1], bits, words, n_items,
                                                   cdf, verify, max_tries)
            touched += user_factors[next_u, 0] + item_factors[next_i, 0]
            if next_js[0] >= 0:
                touched += item_factors[next_js[0], 0]
        loss, loss_terms, correct, updates, countdown, missed = _positive_steps(
            user_factors, item_factors, item_bias, use_bias, u, i, js, negatives, lr, reg,
            loss_every, n_factors, one, zero, portable, loss, loss_terms, correct, updates,
            countdown, missed)
    # keeps the touching loads alive (a value nobody reads would be optimised away)
    stats[t, 5] = touched
    stats[t, 0] = loss
    stats[t, 1] = correct
    stats[t, 2] = updates
    stats[t, 3] = missed
    stats[t, 4] = loss_terms


@numba.njit(cache=True, parallel=True, fastmath=True)
def bpr_epoch(user_factors, item_factors, item_bias, use_bias, user_of, indptr, indices, bits,
              n_items, samples_per_stream, negatives, learning_rate, regularization, cdf,
              verify, max_tries, loss_every, seeds, stats):
    """One epoch of lock-free (Hogwild) SGD on the BPR criterion.

    Stream ``t`` (one per thread) draws ``samples_per_stream`` positives (a random stored
    (u, i) pair), each with ``negatives`` negatives j, and for each triple ascends
    ln sigmoid(s_ui - s_uj) - lambda * (|x_u|^2 + |y_i|^2 + |y_j|^2 + b_i^2 + b_j^2) / 2
    with s_ui = x_u . y_i + b_i (biases only move when ``use_bias``). ``stats[t]`` gets
    (sum of -ln sigmoid over every ``loss_every``-th step -- a logarithm per step would
    cost a fifth of the time --, pairs already in the right order, steps, negatives not
    found within ``max_tries`` draws, number of steps in the loss sum, a throw-away sum of
    prefetched values) -- ``stats`` needs 6 columns. ``bits``: the
    training pairs as a bitset (``build_bitset``) or empty to search ``indices``.

    Fast-math: sums are vectorised in whatever order suits the CPU, so the last bits (and,
    after many epochs, the model) depend on the machine. ``bpr_epoch_portable`` does the
    same in a fixed order.
    """
    words = (n_items + 63) // 64
    n_streams = seeds.shape[0]
    nnz = indices.shape[0]
    n_factors = item_factors.shape[1]
    lr = learning_rate
    reg = regularization
    one = lr / lr  # 1 and 0 in the factors' precision: float32 stays float32
    zero = lr - lr
    for t in numba.prange(n_streams):
        _stream(t, user_factors, item_factors, item_bias, use_bias, user_of, indptr, indices, bits,
                n_items, samples_per_stream, negatives, lr, reg, cdf, verify, max_tries,
                loss_every, seeds, stats, words, nnz, n_factors, one, zero, False)


@numba.njit(cache=True, parallel=True)
def bpr_epoch_portable(user_factors, item_factors, item_bias, use_bias, user_of, indptr, indices,
                       bits, n_items, samples_per_stream, negatives, learning_rate,
                       regularization, cdf, verify, max_tries, loss_every, seeds, stats):
    """``bpr_epoch`` with IEEE arithmetic in a fixed order (no fast-math): a seed gives the
    same bits on any CPU, at about three quarters of the speed."""
    words = (n_items + 63) // 64
    n_streams = seeds.shape[0]
    nnz = indices.shape[0]
    n_factors = item_factors.shape[1]
    lr = learning_rate
    reg = regularization
    one = lr / lr  # 1 and 0 in the factors' precision: float32 stays float32
    zero = lr - lr
    for t in numba.prange(n_streams):
        _stream(t, user_factors, item_factors, item_bias, use_bias, user_of, indptr, indices, bits,
                n_items, samples_per_stream, negatives, lr, reg, cdf, verify, max_tries,
                loss_every, seeds, stats, words, nnz, n_factors, one, zero, True)


@numba.njit(cache=True, nogil=True)
def draw_triples(user_of, indptr, indices, n_items, n_samples, cdf, verify, max_tries, seed):
    no_bits = np.empty(0, dtype=np.uint64)
    """The (u, i, j) triples the training loop would draw from one stream (no updates).

    j is -1 where no verified negative was found within ``max_tries`` draws.
    """
    users = np.empty(n_samples, dtype=np.int64)
    positives = np.empty(n_samples, dtype=np.int64)
    negatives = np.empty(n_samples, dtype=np.int64)
    nnz = indices.shape[0]
    state = seed
    for s in range(n_samples):
        state, r = _next(state)
        idx = _index(r, nnz)
        u = user_of[idx]
        users[s] = u
        positives[s] = indices[idx]
        state, j = _draw_negative(state, u, indices, indptr[u], indptr[u + 1], no_bits, 1, n_items,
                                  cdf, verify, max_tries)
        negatives[s] = j
    return users, positives, negatives


@numba.njit(cache=True, nogil=True)
def validation_pairs(val_user_of, val_indices, seen_indptr, seen_indices, n_items, n_pairs,
                     max_tries, seed):
    """(u, i, j) with (u, i) a random validation pair and j uniform among items the user
    has neither in training nor in validation (``seen``). Pairs without such j are dropped."""
    users = np.empty(n_pairs, dtype=np.int64)
    positives = np.empty(n_pairs, dtype=np.int64)
    negatives = np.empty(n_pairs, dtype=np.int64)
    empty = np.empty(0, dtype=np.float64)
    no_bits = np.empty(0, dtype=np.uint64)
    nnz = val_indices.shape[0]
    state = seed
    kept = 0
    for _ in range(n_pairs):
        state, r = _next(state)
        idx = _index(r, nnz)
        u = val_user_of[idx]
        state, j = _draw_negative(state, u, seen_indices, seen_indptr[u], seen_indptr[u + 1],
                                  no_bits, 1, n_items, empty, True, max_tries)
        if j < 0:
            continue
        users[kept] = u
        positives[kept] = val_indices[idx]
        negatives[kept] = j
        kept += 1
    return users[:kept], positives[:kept], negatives[:kept]


@numba.njit(cache=True, parallel=True)
def pairs_auc(user_factors, item_factors, item_bias, users, positives, negatives):
    """Share of pairs where s_ui > s_uj, s = x_u . y + b (ties count one half)."""
    n = users.shape[0]
    wins = np.zeros(n)
    n_columns = item_factors.shape[1]
    for s in numba.prange(n):
        u = users[s]
        diff = item_bias[positives[s]] - item_bias[negatives[s]]
        for f in range(n_columns):
            diff += user_factors[u, f] * (item_factors[positives[s], f] - item_factors[negatives[s], f])
        wins[s] = 1.0 if diff > 0 else (0.5 if diff == 0 else 0.0)
    return wins.sum() / n if n > 0 else np.nan


# ------------------------------------------------------------------ strata schedule
# DSGD-style (Gemulla et al. 2011): users and items are cut into B blocks; an epoch is B
# sub-epochs, and in sub-epoch s block b updates the stratum (user block b, item block
# (b + s) mod B). The B blocks of a sub-epoch share no user row and no item row (negatives
# are drawn inside the item block), so they run in parallel without races, and each block
# draws from its own counter-based stream: the result does not depend on the thread count.


@numba.njit(cache=True, nogil=True, inline="always")
def _mix(z):
    """splitmix64's finaliser: a bijection of uint64 that scrambles every bit."""
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@numba.njit(cache=True, nogil=True)
def block_seed(seed, sub_epoch, block, n_blocks):
    """The stream of (epoch seed, sub-epoch, block): a hash, so no draw depends on which
    thread runs the block or in which order."""
    key = np.uint64(sub_epoch * n_blocks + block + 1)
    return _mix(_mix(seed + key * _GOLDEN) ^ key)


@numba.njit(cache=True)
def strata_layout(indptr, indices, user_block, item_block, n_blocks):
    """The stored (u, i) pairs grouped by stratum (user block, item block).

    Returns ``(ptr, users, items)``: stratum (b, c) is ``users[ptr[k]:ptr[k + 1]]`` (and
    ``items``) with k = b * n_blocks + c, pairs in CSR order inside a stratum.
    """
    n_users = indptr.shape[0] - 1
    nnz = indices.shape[0]
    n_strata = n_blocks * n_blocks
    ptr = np.zeros(n_strata + 1, dtype=np.int64)
    for u in range(n_users):
        row = user_block[u] * n_blocks
        for p in range(indptr[u], indptr[u + 1]):
            ptr[row + item_block[indices[p]] + 1] += 1
    for k in range(n_strata):
        ptr[k + 1] += ptr[k]
    fill = ptr[:n_strata].copy()
    users = np.empty(nnz, dtype=np.int32)
    items = np.empty(nnz, dtype=np.int32)
    for u in range(n_users):
        row = user_block[u] * n_blocks
        for p in range(indptr[u], indptr[u + 1]):
            k = row + item_block[indices[p]]
            users[fill[k]] = u
            items[fill[k]] = indices[p]
            fill[k] += 1
    return ptr, users, items


@numba.njit(cache=True)
def block_cdf(weights, block_items, item_ptr):
    """Cumulative sampling weights restarted at each item block: position p of
    ``block_items`` gets the sum of the weights of its block up to and including p."""
    out = np.empty(block_items.shape[0], dtype=np.float64)
    for c in range(item_ptr.shape[0] - 1):
        total = 0.0
        for p in range(item_ptr[c], item_ptr[c + 1]):
            total += weights[block_items[p]]
            out[p] = total
    return out


@numba.njit(cache=True, nogil=True)
def _draw_block_negative(state, u, indices, lo, hi, bits, words, block_items, ilo, ihi, cdf,
                         verify, max_tries):
    """``_draw_negative`` restricted to the items ``block_items[ilo:ihi]``: uniform over them
    (``cdf`` empty) or by the block's own cumulative weights ``cdf[ilo:ihi]`` (renormalised
    to the block). Returns (state, item or -1)."""
    n = ihi - ilo
    for _ in range(max_tries if verify else 1):
        state, r = _next(state)
        if cdf.shape[0] == 0:
            p = ilo + _index(r, n)
        else:
            x = r * cdf[ihi - 1]
            a = ilo
            b = ihi - 1  # first position with cdf > x (the last one when rounding says none)
            while a < b:
                mid = (a + b) >> 1
                if cdf[mid] > x:
                    b = mid
                else:
                    a = mid + 1
            p = a
        j = np.int64(block_items[p])
        if not verify or not _had(u, j, indices, lo, hi, bits, words):
            return state, j
    return state, -1


@numba.njit(cache=True, nogil=True, inline="always")
def _stratum(b, c, state, user_factors, item_factors, item_bias, use_bias, indptr, indices, bits,
             strata_ptr, strata_users, strata_items, block_items, item_ptr, cdf, negatives, lr,
             reg, verify, max_tries, loss_every, stats, words, n_blocks, n_factors, one, zero,
             portable):
    """Block b's work in one sub-epoch: as many positives as stratum (b, c) holds, each a
    random pair of the stratum, with negatives from item block c; stats added to
    ``stats[b]``. Sequential SGD with the pipelining of ``_stream`` and the same steps
    (``_positive_steps``)."""
    k = b * n_blocks + c
    lo = strata_ptr[k]
    n = strata_ptr[k + 1] - lo
    if n == 0:
        return
    ilo = item_ptr[c]
    ihi = item_ptr[c + 1]
    loss = 0.0
    loss_terms = 0.0
    correct = 0.0
    updates = 0
    countdown = 1
    missed = 0.0
    touched = zero
    js = np.empty(negatives, dtype=np.int64)
    next_js = np.empty(negatives, dtype=np.int64)
    state, r = _next(state)
    idx = lo + _index(r, n)
    next_u = np.int64(strata_users[idx])
    next_i = np.int64(strata_items[idx])
    for q in range(negatives):
        state, next_js[q] = _draw_block_negative(state, next_u, indices, indptr[next_u],
                                                 indptr[next_u + 1], bits, words, block_items,
                                                 ilo, ihi, cdf, verify, max_tries)
    for s in range(n):
        u = next_u
        i = next_i
        for q in range(negatives):
            js[q] = next_js[q]
        if s + 1 < n:
            state, r = _next(state)
            idx = lo + _index(r, n)
            next_u = np.int64(strata_users[idx])
            next_i = np.int64(strata_items[idx])
            for q in range(negatives):
                state, next_js[q] = _draw_block_negative(state, next_u, indices, indptr[next_u],
                                                         indptr[next_u + 1], bits, words,
                                                         block_items, ilo, ihi, cdf, verify,
                                                         max_tries)
            touched += user_factors[next_u, 0] + item_factors[next_i, 0]
            if next_js[0] >= 0:
                touched += item_factors[next_js[0], 0]
        loss, loss_terms, correct, updates, countdown, missed = _positive_steps(
            user_factors, item_factors, item_bias, use_bias, u, i, js, negatives, lr, reg,
            loss_every, n_factors, one, zero, portable, loss, loss_terms, correct, updates,
            countdown, missed)
    stats[b, 0] += loss
    stats[b, 1] += correct
    stats[b, 2] += updates
    stats[b, 3] += missed
    stats[b, 4] += loss_terms
    stats[b, 5] += touched


@numba.njit(cache=True, parallel=True, fastmath=True)
def bpr_strata_epoch(user_factors, item_factors, item_bias, use_bias, indptr, indices, bits,
                     strata_ptr, strata_users, strata_items, block_items, item_ptr, cdf,
                     negatives, learning_rate, regularization, verify, max_tries, loss_every,
                     seed, stats):
    """One epoch of stratified SGD on the BPR criterion (the step of ``bpr_epoch``).

    B = ``item_ptr.shape[0] - 1`` blocks; ``strata_layout`` gives the pairs per stratum,
    ``block_items[item_ptr[c]:item_ptr[c + 1]]`` the items of block c (and ``cdf`` their
    cumulative weights per block, ``block_cdf``; empty for uniform). In sub-epoch s the B
    blocks (b, (b + s) mod B) run in parallel, each with the stream ``block_seed(seed, s,
    b, B)``; ``stats[b]`` (B x 6, zeros on entry) sums block b's statistics as in
    ``bpr_epoch``. Only the threads' speed depends on their number, never the bits.
    """
    words = (item_factors.shape[0] + 63) // 64
    n_blocks = item_ptr.shape[0] - 1
    n_factors = item_factors.shape[1]
    lr = learning_rate
    reg = regularization
    one = lr / lr
    zero = lr - lr
    for s in range(n_blocks):
        for b in numba.prange(n_blocks):
            _stratum(b, (b + s) % n_blocks, block_seed(seed, s, b, n_blocks), user_factors,
                     item_factors, item_bias, use_bias, indptr, indices, bits, strata_ptr,
                     strata_users, strata_items, block_items, item_ptr, cdf, negatives, lr, reg,
                     verify, max_tries, loss_every, stats, words, n_blocks, n_factors, one, zero,
                     False)


@numba.njit(cache=True, parallel=True)
def bpr_strata_epoch_portable(user_factors, item_factors, item_bias, use_bias, indptr, indices,
                              bits, strata_ptr, strata_users, strata_items, block_items, item_ptr,
                              cdf, negatives, learning_rate, regularization, verify, max_tries,
                              loss_every, seed, stats):
    """``bpr_strata_epoch`` with IEEE arithmetic in a fixed order (no fast-math): the same
    bits for any thread count and on any CPU."""
    words = (item_factors.shape[0] + 63) // 64
    n_blocks = item_ptr.shape[0] - 1
    n_factors = item_factors.shape[1]
    lr = learning_rate
    reg = regularization
    one = lr / lr
    zero = lr - lr
    for s in range(n_blocks):
        for b in numba.prange(n_blocks):
            _stratum(b, (b + s) % n_blocks, block_seed(seed, s, b, n_blocks), user_factors,
                     item_factors, item_bias, use_bias, indptr, indices, bits, strata_ptr,
                     strata_users, strata_items, block_items, item_ptr, cdf, negatives, lr, reg,
                     verify, max_tries, loss_every, stats, words, n_blocks, n_factors, one, zero,
                     True)
