"""BPR with schedule="strata" (DSGD-style blocks): the layout, the draws, a pure-Python
reference of a whole epoch, the same bits for any thread count, quality, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from recsys_course.metrics import evaluate
from recsys_course.models import BPR
from recsys_course.models._bpr_kernels import (
    _draw_block_negative,
    block_seed,
    bpr_strata_epoch,
    bpr_strata_epoch_portable,
    build_bitset,
)
from recsys_course.models.bpr import _popularity_weights, _strata, _structure
from test_bpr import sim_split, small_counts  # noqa: F401  (the data the Hogwild tests use too)

MASK = (1 << 64) - 1


# ------------------------------------------------ a pure-Python splitmix64, as the kernels
def _mix(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def _next(state):
    state = (state + 0x9E3779B97F4A7C15) & MASK
    return state, (_mix(state) >> 11) * 2.0**-53


def _index(r, n):
    return min(int(r * n), n - 1)


def _block_seed(seed, s, b, n_blocks):
    key = s * n_blocks + b + 1
    return _mix(_mix((seed + key * 0x9E3779B97F4A7C15) & MASK) ^ key)


def test_block_seed_is_the_documented_hash_and_streams_differ():
    seen = set()
    for s in range(4):
        for b in range(4):
            value = int(block_seed(np.uint64(2**63 + 12345), s, b, 4))
            assert value == _block_seed(2**63 + 12345, s, b, 4)
            seen.add(value)
    assert len(seen) == 16


# ------------------------------------------------------------------- the layout
@pytest.mark.parametrize("n_blocks", [1, 3, 8])
def test_layout_puts_every_pair_in_its_stratum_once(n_blocks):
    counts = small_counts(1, n_users=50, n_items=23, density=0.3)
    _, indptr, indices = _structure(counts)
    ptr, users, items, block_items, item_ptr, cdf = _strata(
        np.random.default_rng(0), indptr, indices, 23, n_blocks, np.empty(0))
    assert cdf.size == 0 and ptr[-1] == counts.nnz and ptr.size == n_blocks**2 + 1
    # the item blocks are a partition of the catalogue, of sizes differing by at most one
    assert sorted(block_items) == list(range(23))
    sizes = np.diff(item_ptr)
    assert sizes.max() - sizes.min() <= 1
    item_block = np.empty(23, dtype=int)
    for c in range(n_blocks):
        item_block[block_items[item_ptr[c]:item_ptr[c + 1]]] = c
    # every stored pair exactly once, each stratum one user block x one item block
    got = sorted(zip(users.tolist(), items.tolist()))
    rows, cols = counts.nonzero()
    assert got == sorted(zip(rows.tolist(), cols.tolist()))
    user_block = {}
    for b in range(n_blocks):
        for c in range(n_blocks):
            k = b * n_blocks + c
            for u, i in zip(users[ptr[k]:ptr[k + 1]], items[ptr[k]:ptr[k + 1]]):
                assert item_block[i] == c
                assert user_block.setdefault(int(u), b) == b
    # user blocks hold about equal numbers of pairs (within one user's pairs of the ideal)
    per_block = np.diff(ptr).reshape(n_blocks, n_blocks).sum(axis=1)
    assert np.all(np.abs(per_block - counts.nnz / n_blocks) <= np.diff(counts.indptr).max())


def test_layout_changes_with_the_generator_and_block_cdf_restarts():
    counts = small_counts(2, n_users=40, n_items=30)
    _, indptr, indices = _structure(counts)
    weights = _popularity_weights(counts, "popularity", 0.5)
    a = _strata(np.random.default_rng(0), indptr, indices, 30, 4, weights)
    b = _strata(np.random.default_rng(1), indptr, indices, 30, 4, weights)
    assert not np.array_equal(a[3], b[3])
    block_items, item_ptr, cdf = a[3], a[4], a[5]
    for c in range(4):
        lo, hi = item_ptr[c], item_ptr[c + 1]
        np.testing.assert_allclose(cdf[lo:hi], np.cumsum(weights[block_items[lo:hi]]))


# ------------------------------------------------------------ negatives in the block
def _draws(counts, block, cdf_block, n, verify=True, seed=7):
    """n negatives for user 0 from the items ``block`` (cumulative weights ``cdf_block``)."""
    _, indptr, indices = _structure(counts)
    bits = build_bitset(indptr, indices, counts.shape[1])
    words = (counts.shape[1] + 63) // 64
    block_items = np.asarray(block, dtype=np.int32)
    state = np.uint64(seed)
    out = []
    for _ in range(n):
        state, j = _draw_block_negative(state, 0, indices, indptr[0], indptr[1], bits, words,
                                        block_items, 0, len(block), cdf_block, verify, 50)
        state = np.uint64(int(state) & MASK)  # numba hands the uint64 back as a Python int
        out.append(j)
    return np.array(out)


def test_block_negatives_are_uniform_in_the_block_and_verified():
    counts = sp.csr_matrix(np.array([[1, 0, 1, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0, 0, 1]], float))
    block = [2, 3, 5, 6]  # user 0 had item 2
    neg = _draws(counts, block, np.empty(0), 12000)
    assert set(neg) == {3, 5, 6}
    np.testing.assert_allclose(np.bincount(neg, minlength=8)[[3, 5, 6]] / neg.size, 1 / 3, atol=0.02)
    raw = _draws(counts, block, np.empty(0), 12000, verify=False)
    np.testing.assert_allclose(np.bincount(raw, minlength=8)[block] / raw.size, 0.25, atol=0.02)
    # a block of nothing but the user's own items: no negative within max_draws
    assert set(_draws(counts, [0, 2], np.empty(0), 50)) == {-1}


def test_block_popularity_sampling_is_renormalised_to_the_block():
    counts = sp.csr_matrix(np.zeros((1, 6)) + np.eye(1, 6, 5))  # user 0 had item 5 only
    block = [1, 3, 4]
    weights = np.array([9.0, 1.0, 5.0, 2.0, 7.0, 3.0])
    neg = _draws(counts, block, np.cumsum(weights[block]), 20000)
    expected = weights[block] / weights[block].sum()
    np.testing.assert_allclose(np.bincount(neg, minlength=6)[block] / neg.size, expected, atol=0.015)


# ----------------------------------------------- a whole epoch against pure Python
def _reference_epoch(X, Y, bias, use_bias, counts, layout, seed, lr, reg, negatives=1):
    """The strata epoch written out in Python (float64, one block after the other)."""
    ptr, users, items, block_items, item_ptr, _ = layout
    dense = counts.toarray() > 0
    n_blocks = item_ptr.size - 1
    steps = 0
    for s in range(n_blocks):
        for b in range(n_blocks):
            c = (b + s) % n_blocks
            k = b * n_blocks + c
            lo, n = ptr[k], ptr[k + 1] - ptr[k]
            ilo, ihi = item_ptr[c], item_ptr[c + 1]
            state = _block_seed(seed, s, b, n_blocks)
            for _ in range(n):
                state, r = _next(state)
                idx = lo + _index(r, n)
                u, i = users[idx], items[idx]
                for _ in range(negatives):
                    j = -1
                    for _ in range(50):
                        state, r = _next(state)
                        candidate = block_items[ilo + _index(r, ihi - ilo)]
                        if not dense[u, candidate]:
                            j = candidate
                            break
                    if j < 0:
                        continue
                    z = X[u] @ (Y[i] - Y[j]) + bias[i] - bias[j]
                    g = 1 / (1 + np.exp(z))
                    x = X[u].copy()
                    X[u] += lr * (g * (Y[i] - Y[j]) - reg * x)
                    Y[i] += lr * (g * x - reg * Y[i])
                    Y[j] += lr * (-g * x - reg * Y[j])
                    if use_bias:
                        bias[i] += lr * (g - reg * bias[i])
                        bias[j] += lr * (-g - reg * bias[j])
                    steps += 1
    return steps


@pytest.mark.parametrize("kernel", [bpr_strata_epoch, bpr_strata_epoch_portable],
                         ids=["fast", "portable"])
@pytest.mark.parametrize("use_bias", [True, False])
def test_strata_epoch_matches_python_reference(kernel, use_bias):
    counts = small_counts(3, n_users=25, n_items=18, density=0.3)
    _, indptr, indices = _structure(counts)
    layout = _strata(np.random.default_rng(4), indptr, indices, 18, 3, np.empty(0))
    rng = np.random.default_rng(5)
    X = rng.normal(0, 0.3, (25, 5))
    Y = rng.normal(0, 0.3, (18, 5))
    bias = rng.normal(0, 0.1, 18) if use_bias else np.zeros(18)
    Xr, Yr, br = X.copy(), Y.copy(), bias.copy()
    seed = 2**64 - 99
    steps = _reference_epoch(Xr, Yr, br, use_bias, counts, layout, seed, 0.1, 0.02, negatives=2)
    stats = np.zeros((3, 6))
    bits = build_bitset(indptr, indices, 18)
    kernel(X, Y, bias, use_bias, indptr, indices, bits, *layout, 2, 0.1, 0.02, True, 50, 8,
           np.uint64(seed), stats)
    assert steps > counts.nnz  # most positives got their two negatives
    assert stats[:, 2].sum() == steps and stats[:, 3].sum() == 2 * counts.nnz - steps
    np.testing.assert_allclose(X, Xr, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(Y, Yr, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(bias, br, rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------ the model contract
def _fingerprint(model):
    return (model.user_factors.tobytes() + model.item_factors.tobytes()
            + model.item_biases.tobytes())


@pytest.mark.parametrize("fast_math", [True, False])
def test_same_bits_for_one_and_two_threads(sim_split, fast_math):
    _, train, test = sim_split
    kwargs = dict(factors=8, epochs=3, random_state=11, schedule="strata", fast_math=fast_math)
    one = BPR(num_threads=1, **kwargs).fit(train, validation=test)
    two = BPR(num_threads=2, **kwargs).fit(train, validation=test)
    everything = BPR(num_threads=0, **kwargs).fit(train, validation=test)
    assert _fingerprint(one) == _fingerprint(two) == _fingerprint(everything)
    assert one.history["loss"] == two.history["loss"]
    assert one.history["validation_auc"] == two.history["validation_auc"]
    # every positive once per epoch (with replacement inside its stratum), one step each
    assert one.history["samples"] == [train.nnz] * 3
    other = BPR(num_threads=2, **{**kwargs, "random_state": 12}).fit(train)
    assert _fingerprint(other) != _fingerprint(one)
    more_blocks = BPR(num_threads=2, blocks=5, **kwargs).fit(train)
    assert _fingerprint(more_blocks) != _fingerprint(one)


_CHILD = """
import hashlib, json, sys
import numba, numpy as np
from recsys_course.data import simulate
from recsys_course.models import BPR
counts = simulate(n_users=200, n_items=90, random_state=3).counts
out = {"threads": numba.config.NUMBA_NUM_THREADS, "fits": []}
for fast_math, sampler, dtype in ((True, "uniform", np.float32), (False, "popularity", np.float64)):
    for threads in (1, 2, 4, 8):
        model = BPR(factors=8, epochs=3, random_state=5, schedule="strata", sampler=sampler,
                    fast_math=fast_math, dtype=dtype, num_threads=threads).fit(counts)
        digest = hashlib.sha256(model.user_factors.tobytes() + model.item_factors.tobytes()
                                + model.item_biases.tobytes()).hexdigest()
        out["fits"].append([fast_math, threads, digest])
print(json.dumps(out))
"""


@pytest.mark.slow
def test_same_bits_for_1_2_4_and_8_threads():
    """In a process where numba really has 8 threads (on 2 cores: oversubscribed)."""
    env = dict(os.environ, NUMBA_NUM_THREADS="8")
    done = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True,
                          text=True, check=True)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["threads"] == 8
    for fast_math in (True, False):
        digests = {d for f, _, d in out["fits"] if f == fast_math}
        assert len(digests) == 1, out["fits"]
    assert len({d for _, _, d in out["fits"]}) == 2  # the two settings do differ


def test_strata_with_validation_early_stopping_and_popularity(sim_split):
    _, train, test = sim_split
    kwargs = dict(factors=8, learning_rate=0.3, regularization=0.0, random_state=2,
                  schedule="strata", num_threads=2, sampler="popularity", popularity_exponent=0.75)
    stopped = BPR(epochs=40, early_stopping=3, **kwargs).fit(train, validation=test)
    auc = stopped.history["validation_auc"]
    assert stopped.best_epoch == int(np.argmax(auc)) + 1
    again = BPR(epochs=stopped.best_epoch, **kwargs).fit(train, validation=test)
    assert np.array_equal(again.item_factors, stopped.item_factors)
    # the default schedule is not spelled out; the other one is
    assert "schedule" not in repr(stopped) and "schedule" not in repr(BPR())
    assert "schedule='hogwild'" in repr(BPR(schedule="hogwild"))
    assert "blocks=4" in repr(BPR(blocks=4)) and "blocks" not in repr(BPR())


def test_strata_learns_about_as_well_as_hogwild(sim_split):
    """Held-out NDCG@10 on simulated data, median of three seeds, within 10% of Hogwild's."""
    _, train, test = sim_split
    scores = {"hogwild": [], "strata": []}
    for seed in range(3):
        for schedule in scores:
            model = BPR(factors=16, epochs=40, learning_rate=0.05, random_state=seed,
                        schedule=schedule, num_threads=1 if schedule == "hogwild" else 2)
            model.fit(train)
            scores[schedule].append(evaluate(model, train, test, k=10, metrics=["ndcg"])["ndcg"])
    hogwild, strata = np.median(scores["hogwild"]), np.median(scores["strata"])
    popularity_like = BPR(factors=16, epochs=1, learning_rate=0.05, random_state=0,
                              schedule="hogwild", num_threads=1).fit(train)
    early = evaluate(popularity_like, train, test, k=10, metrics=["ndcg"])["ndcg"]
    assert hogwild > early + 0.02  # training does something on this data
    assert strata > 0.9 * hogwild, scores


def test_verified_negatives_and_missed_steps_with_strata():
    # user 0 had every item but one: with 2 blocks, half its positives meet a full block
    dense = np.zeros((12, 10))
    dense[0, :9] = 1
    dense[1:, 9] = 1
    dense[np.arange(1, 12), np.arange(11) % 9] = 1
    counts = sp.csr_matrix(dense)
    model = BPR(factors=2, epochs=3, random_state=0, schedule="strata", blocks=2, max_draws=20,
                num_threads=2).fit(counts)
    assert sum(model.history["missed"]) > 0
    assert [s + m for s, m in zip(model.history["samples"], model.history["missed"])] == \
        [counts.nnz] * 3


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(schedule="dsgd"), ValueError, "schedule must be one of 'hogwild', 'strata'"),
        (dict(schedule=None), ValueError, "schedule"),
        (dict(blocks=0), ValueError, "blocks must be an integer >= 1, got 0"),
        (dict(blocks=4.0), TypeError, "blocks"),
        (dict(blocks=True), TypeError, "blocks"),
    ],
)
def test_bad_schedule_parameters_are_named(kwargs, error, words):
    with pytest.raises(error, match=words):
        BPR(schedule=kwargs.pop("schedule", "strata"), **kwargs).fit(small_counts())


def test_more_blocks_than_users_works_but_not_more_than_half_the_items():
    counts = small_counts(7, n_users=6, n_items=16, density=0.4)
    kwargs = dict(factors=3, epochs=2, schedule="strata", blocks=8, random_state=1)
    one = BPR(num_threads=1, **kwargs).fit(counts)  # 8 user blocks for 6 users: some are empty
    two = BPR(num_threads=2, **kwargs).fit(counts)
    assert _fingerprint(one) == _fingerprint(two)
    assert sum(one.history["samples"]) + sum(one.history["missed"]) == 2 * counts.nnz
    with pytest.raises(ValueError, match=r"blocks=9 is too many for 16 items.*blocks <= 8"):
        BPR(**{**kwargs, "blocks": 9}).fit(counts)
    # hogwild ignores blocks
    BPR(factors=3, epochs=1, blocks=9, schedule="hogwild", random_state=1, num_threads=1).fit(counts)


def test_default_blocks_come_from_the_catalogue_not_the_threads():
    """blocks=None: 8 blocks, or half the items when that is fewer; strata is the default."""
    assert BPR().schedule == "strata" and BPR().blocks is None
    small = small_counts(3, n_users=30, n_items=6, density=0.4)
    fits = [BPR(factors=3, epochs=2, random_state=2, num_threads=t).fit(small) for t in (1, 2)]
    assert [m.blocks_ for m in fits] == [3, 3]
    assert _fingerprint(fits[0]) == _fingerprint(fits[1])
    explicit = BPR(factors=3, epochs=2, random_state=2, num_threads=1, blocks=3).fit(small)
    assert _fingerprint(explicit) == _fingerprint(fits[0])
    large = small_counts(4, n_users=40, n_items=40, density=0.2)
    assert BPR(factors=3, epochs=1, random_state=0).fit(large).blocks_ == 8
    assert BPR(factors=3, epochs=1, random_state=0, schedule="hogwild",
               num_threads=1).fit(large).blocks_ is None
