"""evaluate() scores chunks one at a time and measures them in several threads.

What must hold whatever the threads do: the same numbers for any chunk size and thread
count, model.score never called twice at once, errors raised in the caller with no thread
left running, and a factor model's chunked scores the same bits as one call when BLAS runs
on one thread.
"""

from __future__ import annotations

import threading
import time

import numba
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from recsys_course import metrics as m
from recsys_course.data import simulate, train_test_split
from recsys_course.models import BPR, ImplicitALS
from test_metrics import random_case  # the scores and splits the brute-force tests use

MAX_THREADS = numba.config.NUMBA_NUM_THREADS


class Scores:
    """Given scores; optionally slow, failing or NaN on chosen chunks, and watching overlap."""

    def __init__(self, scores, fail_at=None, nan_at=None, delay=0.0):
        self.scores = np.asarray(scores)
        self.n_users, self.n_items = self.scores.shape
        self.fail_at = fail_at  # raise on the call that includes this user
        self.nan_at = nan_at  # give NaN for this user
        self.delay = delay
        self.active = 0
        self.most_active = 0
        self.calls = []
        self._lock = threading.Lock()

    def score(self, users):
        with self._lock:
            self.active += 1
            self.most_active = max(self.most_active, self.active)
            self.calls.append(np.asarray(users).copy())
        try:
            time.sleep(self.delay)
            users = np.asarray(users)
            if self.fail_at is not None and self.fail_at in users:
                raise RuntimeError(f"score failed for a chunk with user {self.fail_at}")
            out = self.scores[users].copy()
            if self.nan_at is not None and self.nan_at in users:
                out[np.flatnonzero(users == self.nan_at)[0], 0] = np.nan
            return out
        finally:
            with self._lock:
                self.active -= 1


def case(seed=0):
    """300 users x 40 items: many chunks at the chunk sizes these tests ask for."""
    return random_case(seed, n_users=300, n_items=40)


def same(a, b):
    assert a["users"].tolist() == b["users"].tolist()
    for name in m.METRICS:
        assert a[name] == b[name] or (np.isnan(a[name]) and np.isnan(b[name])), name
        if name in a["per_user"]:
            assert np.array_equal(a["per_user"][name], b["per_user"][name], equal_nan=True), name


@pytest.fixture
def threads():
    before = numba.get_num_threads()
    yield
    numba.set_num_threads(before)


@pytest.mark.parametrize("n_threads", sorted({1, min(2, MAX_THREADS), MAX_THREADS}))
def test_results_do_not_depend_on_chunks_or_threads(threads, n_threads):
    scores, train, test = case()
    numba.set_num_threads(1)
    want = m.evaluate(Scores(scores), train, test, k=5, chunk_size=10**6)  # one chunk, one thread
    numba.set_num_threads(n_threads)
    for chunk_size in (None, 1, 7, 64, 299, 300):
        same(m.evaluate(Scores(scores), train, test, k=5, chunk_size=chunk_size), want)


def test_chunks_are_scored_in_order_and_never_at_once(threads):
    numba.set_num_threads(MAX_THREADS)
    scores, train, test = case(1)
    model = Scores(scores, delay=0.002)  # slow scoring: other threads would overlap if allowed
    got = m.evaluate(model, train, test, k=5, chunk_size=16)
    assert model.most_active == 1
    assert np.array_equal(np.concatenate(model.calls), got["users"])
    assert all(len(call) == 16 for call in model.calls[:-1])


def test_default_chunk_caps_the_scores_in_flight():
    assert m._default_chunk(3_706, 2) == m._CHUNK_ROWS
    assert m._default_chunk(10**6, 2) * 8 * 10**6 * 3 <= m._CHUNK_BYTES
    assert m._default_chunk(10**9, 8) == 1


@pytest.mark.parametrize("fail_user", [0, 150, 299])
def test_an_error_in_score_is_raised_and_every_thread_stops(threads, fail_user):
    numba.set_num_threads(MAX_THREADS)
    scores, train, test = case(2)
    before = threading.active_count()
    model = Scores(scores, fail_at=fail_user)
    with pytest.raises(RuntimeError, match=f"user {fail_user}"):
        m.evaluate(model, train, test, k=5, chunk_size=20)
    assert threading.active_count() == before
    # no chunk after the failing one was asked for
    assert fail_user in model.calls[-1]


def test_nan_scores_name_the_first_bad_user_as_a_serial_run_would(threads):
    scores, train, test = case(3)
    users = np.flatnonzero(np.diff(test.indptr))
    first, later = int(users[30]), int(users[200])
    for n_threads in sorted({1, MAX_THREADS}):
        numba.set_num_threads(n_threads)
        # NaN in an early chunk and a failure in a later one: the NaN is reported
        model = Scores(scores, nan_at=first, fail_at=later)
        with pytest.raises(ValueError, match=f"NaN scores for user {first}$"):
            m.evaluate(model, train, test, k=5, chunk_size=20)
        # the other way round: the failure comes first
        model = Scores(scores, nan_at=later, fail_at=first)
        with pytest.raises(RuntimeError, match=f"user {first}"):
            m.evaluate(model, train, test, k=5, chunk_size=20)


def test_a_bad_shape_from_score_is_reported(threads):
    numba.set_num_threads(MAX_THREADS)
    scores, train, test = case(4)

    class Short(Scores):
        def score(self, users):
            return super().score(users)[:, :-1]

    with pytest.raises(ValueError, match="model.score returned shape"):
        m.evaluate(Short(scores), train, test, k=5, chunk_size=50)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make", [
    lambda dtype: ImplicitALS(factors=24, iterations=3, random_state=0, dtype=dtype, progress=False),
    lambda dtype: BPR(factors=24, epochs=3, random_state=0, dtype=dtype),
], ids=["als", "bpr"])
def test_factor_models_score_the_same_bits_in_chunks_with_one_blas_thread(dtype, make):
    counts = simulate(n_users=1_000, n_items=700, random_state=0).counts
    train, test = train_test_split(counts, test_fraction=0.2, random_state=0)
    model = make(dtype).fit(train)
    users = np.flatnonzero(np.diff(test.indptr))
    with threadpool_limits(1, user_api="blas"):
        whole = model.score(users)
        chunks = np.vstack([model.score(users[s:s + m._CHUNK_ROWS])
                            for s in range(0, users.size, m._CHUNK_ROWS)])
        assert np.array_equal(whole, chunks)
        same(m.evaluate(model, train, test, k=10),
             m.evaluate(model, train, test, k=10, chunk_size=users.size))


def test_blas_runs_on_one_thread_while_scoring_and_is_restored(threads):
    from threadpoolctl import threadpool_info

    def blas_threads():
        return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]

    seen = []

    class Watching(Scores):
        def score(self, users):
            seen.append(blas_threads())
            return super().score(users)

    scores, train, test = case(5)
    with threadpool_limits(2, user_api="blas"):
        before = blas_threads()
        m.evaluate(Watching(scores), train, test, k=5, chunk_size=50)
        assert blas_threads() == before
    assert seen and all(threads_now == [1] * len(before) for threads_now in seen)
