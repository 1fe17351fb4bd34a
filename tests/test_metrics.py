"""recsys_course.metrics against hand-computed cases and brute-force numpy references."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from recsys_course import metrics as m
from recsys_course.models import FactorModelBase


# ------------------------------------------------------------------ brute force
def _ranking(scores_row, train_row):
    """Candidate items best first, ties to the lower index (the package's rule)."""
    candidates = np.array([i for i in range(scores_row.size) if i not in train_row], dtype=int)
    order = np.lexsort((candidates, -scores_row[candidates]))
    return candidates[order]


def brute(scores, test, train, k):
    test = test.toarray()
    train = np.zeros_like(test) if train is None else train.toarray()
    test = np.where(train > 0, 0, test)
    out = {name: [] for name in ("precision", "recall", "map", "ndcg", "ndcg_graded", "auc")}
    weighted, weight = 0.0, 0.0
    listed = set()
    k = min(k, scores.shape[1])
    for u in range(scores.shape[0]):
        relevant = np.nonzero(test[u])[0]
        if relevant.size == 0:
            continue
        seen = set(np.nonzero(train[u])[0])
        ranking = _ranking(scores[u], seen)
        top = ranking[:k]
        listed.update(top.tolist())
        hit = np.isin(top, relevant)
        out["precision"].append(hit.sum() / k)
        out["recall"].append(hit.sum() / relevant.size)
        precisions = np.cumsum(hit) / np.arange(1, top.size + 1)
        out["map"].append((precisions * hit).sum() / min(k, relevant.size))
        discount = 1 / np.log2(np.arange(2, top.size + 2))
        ideal = 1 / np.log2(np.arange(2, min(k, relevant.size) + 2))
        out["ndcg"].append((hit * discount).sum() / ideal.sum())
        gains = test[u, top]
        ideal_gains = np.sort(test[u, relevant])[::-1][:k]
        out["ndcg_graded"].append((gains * discount).sum()
                                  / (ideal_gains * ideal[:ideal_gains.size]).sum())
        negatives = [i for i in ranking if i not in relevant]
        if negatives:
            wins = 0.0
            for p in relevant:
                for n in negatives:
                    wins += 1.0 if scores[u, p] > scores[u, n] else 0.5 if scores[u, p] == scores[u, n] else 0.0
            out["auc"].append(wins / (relevant.size * len(negatives)))
        candidates = ranking
        for p in relevant:
            higher = np.sum(scores[u, candidates] > scores[u, p])
            tied = np.sum(scores[u, candidates] == scores[u, p]) - 1
            percentile = (higher + 0.5 * tied) / (candidates.size - 1) if candidates.size > 1 else 0.0
            weighted += test[u, p] * percentile
            weight += test[u, p]
    means = {name: float(np.mean(v)) for name, v in out.items()}
    means["percentile_rank"] = weighted / weight
    means["coverage"] = len(listed) / scores.shape[1]
    return means


def random_case(seed, n_users=40, n_items=25, ties=False):
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 4, size=(n_users, n_items)).astype(float) if ties \
        else rng.normal(size=(n_users, n_items))
    train = sp.csr_matrix(rng.random((n_users, n_items)) < 0.2, dtype=float)
    test = (rng.random((n_users, n_items)) < 0.15) * rng.integers(1, 5, size=(n_users, n_items))
    test = sp.csr_matrix(np.where(train.toarray() > 0, 0, test).astype(float))
    return scores, train, test


class FixedScores(FactorModelBase):
    """A 'model' whose scores are given: lets evaluate() be checked against brute force."""

    def __init__(self, scores):
        self._scores = np.asarray(scores, dtype=float)

    def fit(self, counts):
        self._remember_training(counts)
        self._fitted = True
        return self

    def _score_rows(self, users):
        return self._scores[users]


# ------------------------------------------------------------ hand-computed cases
def test_hand_computed_single_user():
    # ranking of items by score: 3, 2, 0, 1 ; test items {1, 2} with counts 1 and 3
    scores = np.array([[0.5, 0.1, 0.8, 0.9]])
    test = sp.csr_matrix(np.array([[0, 1, 3, 0]], dtype=float))
    assert m.precision_at_k(scores, test, k=2) == pytest.approx(0.5)
    assert m.recall_at_k(scores, test, k=2) == pytest.approx(0.5)
    # AP@2: one hit at position 2 -> (1/2) / min(2, 2)
    assert m.map_at_k(scores, test, k=2) == pytest.approx(0.25)
    # DCG = 1/log2(3); IDCG = 1 + 1/log2(3)
    assert m.ndcg_at_k(scores, test, k=2) == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    # graded: DCG = 3/log2(3); IDCG = 3 + 1/log2(3)
    assert m.ndcg_at_k(scores, test, k=2, relevance="count") == pytest.approx(
        (3 / math.log2(3)) / (3 + 1 / math.log2(3)))
    # AUC: positives 1 (0.1) and 2 (0.8) vs negatives 0 (0.5) and 3 (0.9): wins 0 + 1 of 4 pairs
    assert m.auc(scores, test) == pytest.approx(0.25)
    # percentiles over 4 candidates: item 2 at position 1 -> 1/3, item 1 at position 3 -> 3/3
    assert m.expected_percentile_rank(scores, test) == pytest.approx((3 * (1 / 3) + 1 * 1) / 4)


def test_train_items_are_excluded_and_lists_move_up():
    scores = np.array([[0.9, 0.8, 0.7, 0.1]])
    train = sp.csr_matrix(np.array([[1, 0, 0, 0]], dtype=float))
    test = sp.csr_matrix(np.array([[0, 0, 1, 0]], dtype=float))
    # without train item 0 the list is 1, 2: the test item is second
    assert m.precision_at_k(scores, test, k=2, train=train) == pytest.approx(0.5)
    assert m.precision_at_k(scores, test, k=2) == pytest.approx(0.0)
    ranked = np.array([[0, 1, 2, 3]])
    assert m.precision_at_k(ranked, test, k=2, train=train) == pytest.approx(0.5)
    # AUC over the candidates 1, 2, 3: test item 2 beats 3, loses to 1
    assert m.auc(scores, test, train=train) == pytest.approx(0.5)


def test_perfect_and_worst_rankings():
    test = sp.csr_matrix(np.array([[1, 1, 0, 0, 0]], dtype=float))
    best = np.array([[5.0, 4.0, 3.0, 2.0, 1.0]])
    worst = best[:, ::-1].copy()
    assert m.ndcg_at_k(best, test, k=2) == pytest.approx(1.0)
    assert m.auc(best, test) == pytest.approx(1.0)
    assert m.auc(worst, test) == pytest.approx(0.0)
    # best: percentiles 0 and 1/4; worst: 1 and 3/4
    assert m.expected_percentile_rank(best, test) == pytest.approx(0.125)
    assert m.expected_percentile_rank(worst, test) == pytest.approx(0.875)


def test_constant_scores_give_half_auc_and_half_rank():
    scores, train, test = random_case(3)
    flat = np.zeros_like(scores)
    assert m.auc(flat, test, train=train) == pytest.approx(0.5)
    assert m.expected_percentile_rank(flat, test, train=train) == pytest.approx(0.5)


def test_random_scores_average_half():
    rng = np.random.default_rng(0)
    test = sp.csr_matrix((rng.random((400, 200)) < 0.05).astype(float))
    scores = rng.random((400, 200))
    assert m.auc(scores, test) == pytest.approx(0.5, abs=0.02)
    assert m.expected_percentile_rank(scores, test) == pytest.approx(0.5, abs=0.02)


# ---------------------------------------------------------- brute-force agreement
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("k", [1, 5, 10])
@pytest.mark.parametrize("ties", [False, True])
def test_functions_match_brute_force(seed, k, ties):
    scores, train, test = random_case(seed, ties=ties)
    want = brute(scores, test, train, k)
    assert m.precision_at_k(scores, test, k, train) == pytest.approx(want["precision"])
    assert m.recall_at_k(scores, test, k, train) == pytest.approx(want["recall"])
    assert m.map_at_k(scores, test, k, train) == pytest.approx(want["map"])
    assert m.ndcg_at_k(scores, test, k, train) == pytest.approx(want["ndcg"])
    assert m.ndcg_at_k(scores, test, k, train, relevance="count") == pytest.approx(want["ndcg_graded"])
    assert m.auc(scores, test, train) == pytest.approx(want["auc"])
    assert m.expected_percentile_rank(scores, test, train) == pytest.approx(want["percentile_rank"])


@pytest.mark.parametrize("seed", [0, 4])
@pytest.mark.parametrize("ties", [False, True])
def test_evaluate_matches_brute_force_in_chunks(seed, ties):
    scores, train, test = random_case(seed, n_users=57, ties=ties)
    model = FixedScores(scores).fit(train)
    want = brute(scores, test, train, 7)
    got = m.evaluate(model, train, test, k=7, chunk_size=10)
    for name in m.METRICS:
        assert got[name] == pytest.approx(want[name]), name
    users_with_test = np.nonzero(np.diff(test.indptr))[0]
    assert np.array_equal(got["users"], users_with_test)
    assert got["n_users"] + got["n_skipped"] == 57
    assert got["per_user"]["ndcg"].shape == (users_with_test.size,)
    assert np.mean(got["per_user"]["recall"]) == pytest.approx(got["recall"])


def test_ranked_lists_agree_with_scores():
    scores, train, test = random_case(5)
    ranked = np.array([_ranking(row, set()) for row in scores])
    for k in (3, 10):
        for fn in (m.precision_at_k, m.recall_at_k, m.map_at_k, m.ndcg_at_k):
            assert fn(ranked, test, k, train) == pytest.approx(fn(scores, test, k, train))
    # a full ranking holds the same information as the scores (no ties)
    assert m.auc(ranked, test, train) == pytest.approx(m.auc(scores, test, train))
    assert m.expected_percentile_rank(ranked, test, train) == pytest.approx(
        m.expected_percentile_rank(scores, test, train))
    assert m.coverage(ranked, 5, train, n_items=25) == pytest.approx(m.coverage(scores, 5, train))


def test_short_ranked_lists_pad_with_minus_one():
    test = sp.csr_matrix(np.array([[0, 1, 0, 1, 0]], dtype=float))
    ranked = np.array([[1, -1, -1]])
    assert m.precision_at_k(ranked, test, k=3) == pytest.approx(1 / 3)
    assert m.recall_at_k(ranked, test, k=3) == pytest.approx(0.5)
    # unlisted items tie below the listed one: item 3 ties with 3 others
    assert m.auc(ranked, test) == pytest.approx((1.0 + 0.5) / 2)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 30), ties=st.booleans())
def test_property_bounds_and_brute_force(seed, k, ties):
    scores, train, test = random_case(seed, n_users=12, n_items=9, ties=ties)
    model = FixedScores(scores).fit(train)
    if test.nnz == 0:  # an empty test split is refused, naming the argument
        with pytest.raises(ValueError, match="test must hold at least one positive count"):
            m.evaluate(model, train, test, k=k)
        return
    got = m.evaluate(model, train, test, k=k)
    want = brute(scores, test, train, k)
    for name in m.METRICS:
        value = got[name]
        if not np.isnan(value):
            assert 0.0 <= value <= 1.0 + 1e-12
            assert value == pytest.approx(want[name]), name
    assert got["k"] == min(k, 9)


# ------------------------------------------------------------------- edge cases
def test_k_larger_than_catalogue():
    scores, train, test = random_case(1, n_items=6)
    got = m.evaluate(FixedScores(scores).fit(train), train, test, k=50)
    assert got["k"] == 6
    assert got["recall"] == pytest.approx(1.0)
    assert got["coverage"] == pytest.approx(1.0)
    assert m.recall_at_k(scores, test, 50, train) == pytest.approx(1.0)


def test_users_without_test_items_are_skipped_and_counted():
    scores = np.array([[1.0, 0.0, 0.5], [0.2, 0.3, 0.1], [0.0, 1.0, 2.0]])
    test = sp.csr_matrix(np.array([[1, 0, 0], [0, 0, 0], [0, 0, 1]], dtype=float))
    got = m.evaluate(FixedScores(scores).fit(sp.csr_matrix(np.eye(3))), sp.csr_matrix((3, 3)), test, k=1)
    assert got["n_skipped"] == 1 and got["n_users"] == 2
    assert got["precision"] == pytest.approx(1.0)


def test_test_items_also_in_train_are_dropped():
    scores = np.array([[0.9, 0.5, 0.1]])
    train = sp.csr_matrix(np.array([[1, 0, 0]], dtype=float))
    test = sp.csr_matrix(np.array([[1, 1, 0]], dtype=float))
    # item 0 is in train: only item 1 is relevant, and it tops the list
    assert m.precision_at_k(scores, test, 1, train) == pytest.approx(1.0)


def test_users_argument_aligns_rows():
    scores, train, test = random_case(2)
    subset = np.array([3, 7, 11])
    sub = m.ndcg_at_k(scores[subset], test, 5, train, users=subset)
    full = m.evaluate(FixedScores(scores).fit(train), train, test, k=5, users=subset)
    assert sub == pytest.approx(full["ndcg"])


def test_evaluate_subset_of_metrics_only_returns_those():
    scores, train, test = random_case(2)
    got = m.evaluate(FixedScores(scores).fit(train), train, test, k=5, metrics=["ndcg", "auc"])
    assert {"ndcg", "auc"} <= set(got) and "precision" not in got
    assert set(got["per_user"]) == {"ndcg", "auc"}


def test_ties_are_broken_by_lower_index():
    scores = np.zeros((1, 6))
    test = sp.csr_matrix(np.array([[0, 0, 0, 0, 0, 1]], dtype=float))
    assert m.precision_at_k(scores, test, k=5) == 0.0
    test_low = sp.csr_matrix(np.array([[1, 0, 0, 0, 0, 0]], dtype=float))
    assert m.precision_at_k(scores, test_low, k=1) == 1.0


# ------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda s, t: m.precision_at_k(s, t, k=0), ValueError, "k must"),
        (lambda s, t: m.precision_at_k(s, t, k=2.5), TypeError, "k must"),
        (lambda s, t: m.precision_at_k(s[:, :3], t), ValueError, "one column per item"),
        (lambda s, t: m.precision_at_k(s[:2], t), ValueError, "one row per user"),
        (lambda s, t: m.precision_at_k(np.where(s > 0, np.nan, s), t), ValueError, "NaN"),
        (lambda s, t: m.precision_at_k(s.astype(bool), t), TypeError, "dtype"),
        (lambda s, t: m.precision_at_k(sp.csr_matrix(s), t), TypeError, "predictions"),
        (lambda s, t: m.precision_at_k(s[0], t), ValueError, "2-d"),
        (lambda s, t: m.precision_at_k(np.full((s.shape[0], 2), 99), t), ValueError, "item indices"),
        (lambda s, t: m.precision_at_k(np.zeros((s.shape[0], 2), dtype=int), t), ValueError, "repeat"),
        (lambda s, t: m.precision_at_k(s, t.toarray().tolist()), TypeError, "test"),
        (lambda s, t: m.precision_at_k(s, -t), ValueError, "test"),
        (lambda s, t: m.precision_at_k(s, sp.csr_matrix(t.shape)), ValueError, "test"),
        (lambda s, t: m.precision_at_k(s, t, train=sp.csr_matrix((2, 2))), ValueError, "train"),
        (lambda s, t: m.ndcg_at_k(s, t, relevance="stars"), ValueError, "relevance"),
        (lambda s, t: m.auc(s, t, users=[0]), ValueError, "users"),
        (lambda s, t: m.auc(s[:1], t, users=[999]), ValueError, "users"),
        (lambda s, t: m.coverage(np.zeros((2, 3), dtype=int)), ValueError, "n_items"),
    ],
)
def test_bad_input_is_rejected_clearly(call, error, words):
    scores, train, test = random_case(0)
    with pytest.raises(error, match=words):
        call(scores, test)


def test_evaluate_rejects_bad_models_and_layouts():
    scores, train, test = random_case(0)
    with pytest.raises(TypeError, match="model"):
        m.evaluate(object(), train, test)
    model = FixedScores(scores[:, :10]).fit(train[:, :10])
    with pytest.raises(ValueError, match="items"):
        m.evaluate(model, train, test)
    good = FixedScores(scores).fit(train)
    with pytest.raises(ValueError, match="metrics"):
        m.evaluate(good, train, test, metrics=["ndcg", "hit_rate"])
    with pytest.raises(ValueError, match="metrics"):
        m.evaluate(good, train, test, metrics=[])
    with pytest.raises(ValueError, match="chunk_size"):
        m.evaluate(good, train, test, chunk_size=0)
    nan_model = FixedScores(np.where(scores > 1, np.nan, scores)).fit(train)
    with pytest.raises(ValueError, match="NaN"):
        m.evaluate(nan_model, train, test)
    with pytest.raises(ValueError, match="not fitted"):
        m.evaluate(FixedScores(scores), train, test)


@pytest.mark.parametrize("ties", [False, True])
def test_many_test_items_take_the_sorted_path_and_agree(ties):
    from recsys_course._metrics_kernels import SCAN_LIMIT

    rng = np.random.default_rng(9)
    n_items = 2 * SCAN_LIMIT + 100
    scores = rng.integers(0, 20, size=(3, n_items)).astype(float) if ties else rng.normal(size=(3, n_items))
    test = np.zeros((3, n_items))
    test[0, rng.choice(n_items, SCAN_LIMIT + 50, replace=False)] = rng.integers(1, 4, SCAN_LIMIT + 50)
    test[1, :5] = 1  # a small user in the same call takes the scanning path
    train = np.zeros((3, n_items))
    train[:, -40:] = 1
    test[:, -40:] = 0
    test[2, 0] = 1
    test, train = sp.csr_matrix(test), sp.csr_matrix(train)
    want = brute(scores, test, train, 10)
    assert m.auc(scores, test, train) == pytest.approx(want["auc"])
    assert m.expected_percentile_rank(scores, test, train) == pytest.approx(want["percentile_rank"])


def test_ndcg_and_map_agree_with_implicit_library():
    implicit = pytest.importorskip("implicit")
    from implicit.evaluation import ranking_metrics_at_k
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    counts = sp.csr_matrix((rng.random((120, 80)) < 0.15).astype(np.float32))
    train = sp.csr_matrix(counts.multiply(rng.random(counts.shape) < 0.8))
    train.eliminate_zeros()
    test = (counts - train).tocsr()
    test.eliminate_zeros()
    with threadpool_limits(1):
        model = implicit.cpu.als.AlternatingLeastSquares(factors=8, iterations=3, random_state=0)
        model.fit(train, show_progress=False)
        theirs = ranking_metrics_at_k(model, train, test, K=5, show_progress=False)
    scores = np.asarray(model.user_factors) @ np.asarray(model.item_factors).T
    assert m.ndcg_at_k(scores, test, 5, train) == pytest.approx(theirs["ndcg"], abs=1e-6)
    assert m.map_at_k(scores, test, 5, train) == pytest.approx(theirs["map"], abs=1e-6)
    # their "precision" is all hits over the sum of min(K, |test_u|) (pooled over users)
    result = m.evaluate(FixedScores(scores).fit(train), train, test, k=5, metrics=["precision"])
    sizes = np.diff(test.indptr)[result["users"]]
    hits = result["per_user"]["precision"] * 5
    assert hits.sum() / np.minimum(5, sizes).sum() == pytest.approx(theirs["precision"], abs=1e-6)


@pytest.mark.parametrize("ties", [False, True])
def test_top_k_on_long_rows_matches_brute_force(ties):
    # long rows take the prefix-then-candidates path of the top-k kernel; user 0 has its
    # whole prefix in train (the slow path), user 1 nothing at all in train
    rng = np.random.default_rng(11)
    n_users, n_items = 30, 700
    scores = rng.integers(0, 50, size=(n_users, n_items)).astype(np.float32) if ties \
        else rng.normal(size=(n_users, n_items)).astype(np.float32)
    train = rng.random((n_users, n_items)) < 0.3
    train[0, :300] = True
    train[1] = False
    test = (rng.random((n_users, n_items)) < 0.05) & ~train
    test[:, 650] = ~train[:, 650]
    train, test = sp.csr_matrix(train.astype(float)), sp.csr_matrix(test.astype(float))
    for k in (1, 10, 40):
        want = brute(scores.astype(float), test, train, k)
        got = m.evaluate(FixedScores(scores).fit(train), train, test, k=k,
                         metrics=["precision", "map", "ndcg", "coverage"])
        for name in ("precision", "map", "ndcg", "coverage"):
            assert got[name] == pytest.approx(want[name]), (k, name)
