"""recsys_course.blending: ratings as confidence, weighted signals, score blends, the recipe app."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import scipy.sparse as sp  # noqa: E402

from recsys_course import plots  # noqa: E402
from recsys_course.blending import (  # noqa: E402
    RatingsAsCounts,
    RecipeLog,
    ScoreBlend,
    WeightedSignals,
    combine_signals,
    evaluation_layers,
    merge_comparisons,
    recipe_split,
    expected_saves,
    ratings_to_counts,
    simulate_recipe_app,
    split_by_user,
    split_signals,
)
from recsys_course.models import FactorModelBase  # noqa: E402


def _ratings():
    return sp.csr_matrix(np.array([[5, 0, 1], [0, 3, 4], [2, 0, 0]], dtype=float))


# ---------------------------------------------------------------- ratings_to_counts
def test_ratings_to_counts_maps_each_star_and_drops_zero_weights():
    out = ratings_to_counts(_ratings(), {1: 0.0, 2: 0.5, 3: 1.0, 4: 2.0, 5: 3.0})
    assert np.array_equal(out.toarray(), [[3, 0, 0], [0, 1, 2], [0.5, 0, 0]])
    assert out.nnz == 4  # the 1-star rating is gone, not stored as zero


@pytest.mark.parametrize("weights, error, words", [
    ({1: 1.0, 2: 1.0}, ValueError, "missing"),
    ({}, TypeError, "weights"),
    ([1, 2, 3], TypeError, "weights"),
    ({1: 1, 2: 1, 3: 1, 4: 1, 5: -1}, ValueError, "weights"),
    ({1: 1, 2: 1, 3: 1, 4: 1, 5: float("nan")}, ValueError, "weights"),
])
def test_ratings_to_counts_rejects_bad_weights(weights, error, words):
    with pytest.raises(error, match=words):
        ratings_to_counts(_ratings(), weights)


# ---------------------------------------------------------------- combine_signals
def test_combine_signals_is_the_weighted_sum():
    a = sp.random(5, 4, density=0.4, random_state=1, format="csr") * 3
    b = sp.random(5, 4, density=0.4, random_state=2, format="csr") * 3
    out = combine_signals({"views": a, "saves": b}, {"views": 1.0, "saves": 10.0})
    np.testing.assert_allclose(out.toarray(), a.toarray() + 10 * b.toarray())
    only = combine_signals({"views": a, "saves": b}, {"views": 0.0, "saves": 2.0})
    np.testing.assert_allclose(only.toarray(), 2 * b.toarray())


def test_combine_signals_rejects_bad_input():
    a = sp.csr_matrix(np.eye(3))
    with pytest.raises(ValueError, match="exactly the signals"):
        combine_signals({"views": a}, {"saves": 1.0})
    with pytest.raises(ValueError, match="shape"):
        combine_signals({"views": a, "saves": sp.csr_matrix(np.eye(4))}, {"views": 1, "saves": 1})
    with pytest.raises(ValueError, match="weights"):
        combine_signals({"views": a}, {"views": -1.0})
    with pytest.raises(ValueError, match="no positive count"):
        combine_signals({"views": a}, {"views": 0.0})
    with pytest.raises(TypeError, match="signals"):
        combine_signals({}, {})
    with pytest.raises(ValueError, match="signals"):
        combine_signals({"views": sp.csr_matrix(-np.eye(3))}, {"views": 1.0})


# ---------------------------------------------------------------- ScoreBlend
class _Fixed(FactorModelBase):
    def __init__(self, X, Y, train):
        self._remember_training(train)
        self.user_factors, self.item_factors = X, Y
        self._fitted = True


def test_score_blend_adds_per_user_standardised_scores():
    rng = np.random.default_rng(3)
    train = sp.csr_matrix((rng.random((6, 8)) < 0.3).astype(float) + sp.eye(6, 8).toarray())
    a = _Fixed(rng.normal(size=(6, 2)), rng.normal(size=(8, 2)), train)
    b = _Fixed(rng.normal(size=(6, 3)) * 50, rng.normal(size=(8, 3)), train)
    blend = ScoreBlend([a, b], [1.0, 0.5]).fit(train)
    users = np.arange(6)
    z = lambda s: (s - s.mean(1, keepdims=True)) / s.std(1, keepdims=True)  # noqa: E731
    np.testing.assert_allclose(blend.score(users), z(a.score(users)) + 0.5 * z(b.score(users)))
    # scale of a model does not matter, only its ranking
    big = ScoreBlend([a, _Fixed(b.user_factors * 1000, b.item_factors, train)], [1.0, 0.5]).fit(train)
    np.testing.assert_allclose(big.score(users), blend.score(users), rtol=1e-9, atol=1e-9)
    items, _ = blend.recommend(0, k=3)
    assert not set(items) & set(train[0].indices)


def test_score_blend_constant_model_adds_nothing():
    rng = np.random.default_rng(4)
    train = sp.csr_matrix(np.eye(5, 7))
    a = _Fixed(rng.normal(size=(5, 2)), rng.normal(size=(7, 2)), train)
    empty = _Fixed(np.zeros((5, 2)), rng.normal(size=(7, 2)), train)  # e.g. users with no saves
    blend = ScoreBlend([a, empty], [1.0, 3.0]).fit(train)
    solo = ScoreBlend([a], [1.0]).fit(train)
    np.testing.assert_allclose(blend.score(np.arange(5)), solo.score(np.arange(5)))


def test_score_blend_rejects_bad_input():
    train = sp.csr_matrix(np.eye(4))
    a = _Fixed(np.ones((4, 1)), np.arange(4.0)[:, None], train)
    with pytest.raises(ValueError, match="one weight per model"):
        ScoreBlend([a], [1.0, 2.0]).fit(train)
    with pytest.raises(TypeError, match="models"):
        ScoreBlend([], []).fit(train)
    with pytest.raises(TypeError, match="models\\[0\\]"):
        ScoreBlend(["not a model"], [1.0]).fit(train)
    with pytest.raises(ValueError, match="layout"):
        ScoreBlend([a], [1.0]).fit(sp.csr_matrix(np.eye(5)))
    with pytest.raises(ValueError, match="weights\\[0\\]"):
        ScoreBlend([a], [float("inf")]).fit(train)
    with pytest.raises(ValueError, match="not fitted"):
        ScoreBlend([a], [1.0]).score([0])


# ---------------------------------------------------------------- the recipe app
def test_recipe_app_funnel_and_purity():
    log = simulate_recipe_app(n_users=300, n_items=200, random_state=0)
    views, expanded, saves = (m.toarray() > 0 for m in (log.views, log.expanded, log.saves))
    assert np.all(expanded <= views) and np.all(saves <= expanded) and np.all(views <= log.exposure)
    share = [log.liked[m].mean() for m in (views, expanded, saves)]
    assert share[0] < share[1] < share[2]          # stronger signals are purer
    assert share[0] > log.liked.mean()             # yet even views carry some taste
    assert saves.sum() < expanded.sum() < views.sum()
    again = simulate_recipe_app(n_users=300, n_items=200, random_state=0)
    assert (again.saves != log.saves).nnz == 0 and (again.views != log.views).nnz == 0
    other = simulate_recipe_app(n_users=300, n_items=200, random_state=1)
    assert (other.views != log.views).nnz > 0


@pytest.mark.parametrize("kwargs, error", [
    (dict(p_view=(1.2, 0.1)), ValueError),
    (dict(p_save=0.3), TypeError),
    (dict(n_users=1), ValueError),
    (dict(like_fraction=0.0), ValueError),
    (dict(random_state="x"), TypeError),
    (dict(n_users=10_000, n_items=10_000), ValueError),
])
def test_recipe_app_rejects_bad_parameters(kwargs, error):
    with pytest.raises(error):
        simulate_recipe_app(**kwargs)


def test_expected_saves_by_hand():
    liked = np.array([[True, False, True], [False, False, True]])
    empty = sp.csr_matrix((2, 3))
    log = RecipeLog(empty, empty, empty, liked, np.ones_like(liked), (0.5, 0.5), (0.5, 0.2), (0.8, 0.1))
    p_like, p_other = 0.5 * 0.5 * 0.8, 0.5 * 0.2 * 0.1
    got = expected_saves(log, np.array([[0, 1], [2, -1]]))
    np.testing.assert_allclose(got, [p_like + p_other, p_like])
    with pytest.raises(ValueError, match="recommended"):
        expected_saves(log, np.array([[0, 3], [1, 2]]))
    with pytest.raises(ValueError, match="shape"):
        expected_saves(log, np.array([0, 1]))
    with pytest.raises(TypeError, match="integer"):
        expected_saves(log, np.array([[0.5, 1.0], [1.0, 2.0]]))
    with pytest.raises(TypeError, match="RecipeLog"):
        expected_saves("log", np.array([[0], [1]]))


def test_split_signals_removes_held_out_pairs_from_every_signal():
    log = simulate_recipe_app(n_users=200, n_items=150, random_state=2)
    train, test = split_signals(log.signals, 0.25, random_state=0)
    held = test.toarray() > 0
    union = sum((m.toarray() > 0) for m in log.signals.values()) > 0
    kept = sum((m.toarray() > 0) for m in train.values()) > 0
    assert not np.any(held & kept)
    assert np.array_equal(held | kept, union)
    for name, matrix in train.items():
        original = log.signals[name].toarray()
        np.testing.assert_array_equal(matrix.toarray(), np.where(kept, original, 0))
    assert 0.15 < held.sum() / union.sum() < 0.3
    with pytest.raises(ValueError, match="one shape"):
        split_signals({"a": sp.csr_matrix(np.eye(3)), "b": sp.csr_matrix(np.eye(4))})


# ---------------------------------------------------------------- figures
def test_blending_figures_have_titles_and_labels():
    axes = plots.metric_panels({"a": {"ndcg": 0.4, "auc": 0.9}, "b": {"ndcg": 0.2}}, ["ndcg", "auc"], highlight="a")
    assert all(ax.get_title() for ax in axes) and axes[0].get_xlabel()
    ax = plots.blend_weight_curve([0, 0.5, 1], {"ndcg": [0.4, 0.41, 0.39]}, chosen=0.5)
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    ax = plots.signal_purity({"views": 0.2, "saves": 0.9}, base_rate=0.15, counts={"views": 10, "saves": 2})
    assert ax.get_title() and ax.get_ylabel()
    ax = plots.timing_bars({"numba": 1.0, "spark": 10.0})
    assert ax.get_title() and ax.get_xlabel()
    with pytest.raises(ValueError, match="one value per weight"):
        plots.blend_weight_curve([0, 1], {"ndcg": [0.1]})
    with pytest.raises(TypeError, match="table"):
        plots.metric_panels({}, ["ndcg"])
    plt.close("all")


def test_recommend_unseen_skips_every_seen_pair():
    from recsys_course.blending import recommend_unseen

    rng = np.random.default_rng(5)
    train = sp.csr_matrix(np.eye(4, 6))
    model = _Fixed(rng.normal(size=(4, 2)), rng.normal(size=(6, 2)), train)
    seen = sp.csr_matrix((rng.random((4, 6)) < 0.5).astype(float))
    recs = recommend_unseen(model, seen, k=6)
    scores = model.score(np.arange(4))
    for u in range(4):
        allowed = [i for i in range(6) if seen[u, i] == 0]
        expected = sorted(allowed, key=lambda i: (-scores[u, i], i))
        got = [i for i in recs[u] if i >= 0]
        assert got == expected
    with pytest.raises(ValueError, match="layout"):
        recommend_unseen(model, sp.csr_matrix(np.eye(5)), k=2)
    with pytest.raises(ValueError, match="k"):
        recommend_unseen(model, seen, k=0)


# ---------------------------------------------------------------- wrappers a tuner can fit
class _Recorder(FactorModelBase):
    """Fits by storing what it was given; scores = the fitted counts (so tests can see them)."""

    def __init__(self):
        self.fits = 0

    def fit(self, counts):
        counts = self._remember_training(counts)
        self.seen_counts = counts.toarray()
        self.fits += 1
        self.user_factors = self.seen_counts
        self.item_factors = np.eye(counts.shape[1])
        self._fitted = True
        return self


def test_ratings_as_counts_fits_the_mapped_stars_and_filters_every_rated_pair():
    ratings = _ratings()
    inner = _Recorder()
    model = RatingsAsCounts(inner, {1: 0.0, 2: 0.5, 3: 1.0, 4: 2.0, 5: 3.0}).fit(ratings)
    np.testing.assert_array_equal(inner.seen_counts, [[3, 0, 0], [0, 1, 2], [0.5, 0, 0]])
    np.testing.assert_array_equal(model.score([0, 1, 2]), inner.score([0, 1, 2]))
    # the 1-star pair is dropped from the counts but still counts as seen
    items, _ = model.recommend(0, k=3)
    assert set(items) == {1}
    with pytest.raises(ValueError, match="weight > 0"):
        RatingsAsCounts(_Recorder(), {1: 0, 2: 0, 3: 0, 4: 0, 5: 0}).fit(ratings)
    with pytest.raises(TypeError, match="unfitted recommender"):
        RatingsAsCounts("als", {1: 1}).fit(ratings)
    with pytest.raises(ValueError, match="missing"):
        RatingsAsCounts(_Recorder(), {5: 1.0}).fit(ratings)
    with pytest.raises(ValueError, match="not fitted"):
        RatingsAsCounts(_Recorder(), {1: 1}).score([0])


def test_weighted_signals_use_only_the_given_pairs():
    views = sp.csr_matrix(np.array([[2, 1, 0], [1, 0, 3]], dtype=float))
    saves = sp.csr_matrix(np.array([[1, 0, 0], [0, 0, 1]], dtype=float))
    pairs = sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 0]], dtype=float))  # (1, 2) is held out
    inner = _Recorder()
    model = WeightedSignals(inner, {"views": views, "saves": saves}, {"views": 1.0, "saves": 10.0}).fit(pairs)
    np.testing.assert_array_equal(inner.seen_counts, [[12, 1, 0], [1, 0, 0]])
    assert set(model.recommend(0, k=3)[0]) == {2}
    with pytest.raises(ValueError, match="no positive count"):
        WeightedSignals(_Recorder(), {"views": views, "saves": saves}, {"views": 0.0, "saves": 1.0}).fit(
            sp.csr_matrix(np.array([[0, 1, 0], [1, 0, 0]], dtype=float)))
    with pytest.raises(ValueError, match="shape of pairs"):
        WeightedSignals(_Recorder(), {"views": views}, {"views": 1.0}).fit(sp.csr_matrix(np.eye(3)))
    with pytest.raises(TypeError, match="signals"):
        WeightedSignals(_Recorder(), {}, {}).fit(pairs)
    with pytest.raises(ValueError, match="exactly the signals"):
        WeightedSignals(_Recorder(), {"views": views}, {"saves": 1.0}).fit(pairs)


def test_score_blend_refit_fits_each_component_once_per_training_matrix():
    rng = np.random.default_rng(6)
    train = sp.csr_matrix((rng.random((5, 6)) < 0.4).astype(float) + sp.eye(5, 6).toarray())
    a, b = _Recorder(), _Recorder()
    first = ScoreBlend([a, b], [1.0, 0.0], refit=True).fit(train)
    second = ScoreBlend([a, b], [1.0, 2.0], refit=True).fit(train.copy())   # equal entries: no refit
    assert (a.fits, b.fits) == (1, 1)
    assert first.score([0]).shape == (1, 6) and not np.allclose(first.score([0]), second.score([0]))
    bigger = sp.csr_matrix(train + sp.csr_matrix(([7.0], ([0], [5])), shape=train.shape))
    ScoreBlend([a, b], [1.0, 2.0], refit=True).fit(bigger)
    assert (a.fits, b.fits) == (2, 2)
    np.testing.assert_array_equal(a.seen_counts, bigger.toarray())
    with pytest.raises(ValueError, match="layout"):   # without refit another layout is refused
        ScoreBlend([a], [1.0]).fit(sp.csr_matrix(np.eye(4, 6)))
    ScoreBlend([a], [1.0], refit=True).fit(sp.csr_matrix(np.eye(4, 6)))  # with refit it is refitted
    assert a.n_users == 4
    with pytest.raises(TypeError, match="refit"):
        ScoreBlend([a], [1.0], refit="yes").fit(bigger)


def test_split_by_user_gives_each_user_row_to_exactly_one_side():
    rng = np.random.default_rng(7)
    truth = sp.csr_matrix((rng.random((40, 9)) < 0.3).astype(float))
    validation, test = split_by_user(truth, 0.5, random_state=0)
    np.testing.assert_array_equal((validation + test).toarray(), truth.toarray())
    rows_v = set(np.flatnonzero(validation.getnnz(axis=1)))
    rows_t = set(np.flatnonzero(test.getnnz(axis=1)))
    assert not rows_v & rows_t and rows_v and rows_t
    again, _ = split_by_user(truth, 0.5, random_state=0)
    assert (again != validation).nnz == 0
    quarter, _ = split_by_user(sp.csr_matrix(np.ones((40, 2))), 0.25, random_state=1)
    assert np.count_nonzero(quarter.getnnz(axis=1)) == 10
    with pytest.raises(ValueError, match="validation_fraction"):
        split_by_user(truth, 1.0)
    with pytest.raises(ValueError, match="validation_fraction"):
        split_by_user(truth, 0.0)
    with pytest.raises(ValueError, match="at least 2 users"):
        split_by_user(sp.csr_matrix(np.ones((1, 3))))


def test_evaluation_layers_match_the_metrics_computed_by_hand():
    liked = np.array([[True, False, True, False], [False, True, False, False]])
    empty = sp.csr_matrix((2, 4))
    log = RecipeLog(empty, empty, empty, liked, np.ones_like(liked), (1.0, 1.0), (1.0, 1.0), (0.5, 0.1))
    train = sp.csr_matrix(np.array([[0, 0, 0, 1], [1, 0, 0, 0]], dtype=float))
    # scores: user 0 prefers item 0, then 1; user 1 prefers item 2, then 1
    model = _Fixed(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[3.0, 0], [2.0, 2.0], [0, 3.0], [9.0, -9.0]]), train)
    saves = sp.csr_matrix(np.array([[0, 1, 0, 0], [0, 1, 0, 0]], dtype=float))
    truth = sp.csr_matrix(liked.astype(float))
    got = evaluation_layers(model, log, train, saves, truth, k=2)
    # top 2 unseen: user 0 -> [0, 1], user 1 -> [2, 1]
    assert got["online"] == pytest.approx(((0.5 + 0.1) + (0.1 + 0.5)) / 2)
    assert got["satisfaction"] == pytest.approx((1 / 2 + 1 / 2) / 2)
    ndcg_second = (1 / np.log2(3)) / 1.0
    assert got["offline"] == pytest.approx(ndcg_second)
    only_first = evaluation_layers(model, log, train, saves, truth, users=np.array([0]), k=2)
    assert only_first["online"] == pytest.approx(0.6)
    with pytest.raises(TypeError, match="RecipeLog"):
        evaluation_layers(model, "log", train, saves, truth)
    with pytest.raises(ValueError, match="users"):
        evaluation_layers(model, log, train, saves, truth, users=np.array([5]))
    with pytest.raises(ValueError, match="seen"):
        evaluation_layers(model, log, sp.csr_matrix(np.eye(3)), saves, truth)


def test_figures_with_spread_draw_error_bars():
    axes = plots.metric_panels({"a": {"ndcg": 0.4}, "b": {"ndcg": 0.2}}, ["ndcg"],
                               errors={"a": {"ndcg": 0.05}, "b": {"ndcg": 0.01}})
    texts = [t.get_text() for t in axes[0].texts]
    assert any("±" in t and "0.050" in t for t in texts)
    assert any(type(c).__name__ == "ErrorbarContainer" for c in axes[0].containers)
    with pytest.raises(ValueError, match="errors"):
        plots.metric_panels({"a": {"ndcg": 0.4}}, ["ndcg"], errors={"a": {"ndcg": float("nan")}})
    with pytest.raises(ValueError, match="errors"):
        plots.metric_panels({"a": {"ndcg": 0.4}}, ["ndcg"], errors={"a": {}})
    scores = np.array([[0.40, 0.42, 0.41], [0.30, 0.33, 0.30]])
    ax = plots.blend_weight_curve([0, 0.5, 1], {"ndcg": scores}, per_seed=True)
    line = ax.lines[0]
    expected = (100 * (scores / scores[:, :1] - 1)).mean(axis=0)
    np.testing.assert_allclose(line.get_ydata(), expected)
    with pytest.raises(ValueError, match="n_seeds"):
        plots.blend_weight_curve([0, 1], {"ndcg": np.array([[0.1, 0.2]])}, per_seed=True)
    plt.close("all")


def test_merge_comparisons_puts_a_later_contender_beside_the_others():
    from recsys_course.models import Popularity
    from recsys_course.tuning import compare, repeated_splits

    rng = np.random.default_rng(8)
    counts = sp.csr_matrix((rng.random((60, 30)) < 0.25).astype(float))
    splits = repeated_splits(counts, n_seeds=2, seed=0)
    first = compare({"pop": (lambda: Popularity(), [{}])}, splits)
    second = compare({"pop again": (lambda: Popularity(), [{}])}, splits)
    merged = merge_comparisons(first, second)
    assert merged.contenders == ["pop", "pop again"]
    mean, std, wins, n = merged.difference("pop again", "pop")
    assert (mean, std, wins, n) == (0.0, 0.0, 0, 2)
    assert "pop again" in merged.table()
    with pytest.raises(ValueError, match="new contenders"):
        merge_comparisons(first, first)
    with pytest.raises(ValueError, match="n_seeds"):
        merge_comparisons(first, compare({"x": (lambda: Popularity(), [{}])}, splits[:1]))
    with pytest.raises(TypeError, match="Comparison"):
        merge_comparisons(first, "second")


def test_merge_comparisons_keeps_the_same_tuning_budget():
    from recsys_course.models import Popularity
    from recsys_course.tuning import compare, repeated_splits

    rng = np.random.default_rng(9)
    counts = sp.csr_matrix((rng.random((60, 30)) < 0.25).astype(float))
    splits = repeated_splits(counts, n_seeds=2, seed=0)

    def make(level):
        return Popularity()

    two = compare({"two": (make, {"level": [0, 1]})}, splits)
    three = compare({"three": (make, {"level": [0, 1, 2]})}, splits)
    also_two = compare({"also two": (make, {"level": [5, 6]}), "fixed": (lambda: Popularity(), [{}])}, splits)
    merged = merge_comparisons(two, also_two)
    assert merged.contenders == ["two", "also two", "fixed"]
    with pytest.raises(ValueError, match=r"same tuning budget.*two: 2.*three: 3"):
        merge_comparisons(two, three)


def test_recipe_split_keeps_truth_out_of_training_and_users_apart():
    log = simulate_recipe_app(n_users=120, n_items=80, random_state=3)
    split = recipe_split(log, test_fraction=0.2, validation_users=0.5, random_state=0)
    seen = split.train.toarray() > 0
    assert not np.any((split.validation.toarray() > 0) & seen)
    assert not np.any((split.test.toarray() > 0) & seen)
    assert not set(split.validation_users) & set(split.test_users)
    assert np.all(log.liked[split.validation.toarray() > 0]) and np.all(log.liked[split.test.toarray() > 0])
    assert split.train_and_validation is split.train          # truth never becomes training data
    assert not np.any((split.held_out.toarray() > 0) & seen)
    assert np.all(log.saves.toarray()[split.held_out_saves.toarray() > 0] > 0)
    with pytest.raises(TypeError, match="RecipeLog"):
        recipe_split("log")


def test_mean_and_std_and_paired_difference_by_hand():
    from recsys_course.blending import mean_and_std, paired_difference

    tables = [{"a": {"x": 1.0, "y": 2.0}}, {"a": {"x": 3.0, "y": 2.0}}, {"a": {"x": 5.0, "y": 2.0}}]
    mean, std = mean_and_std(tables)
    assert mean == {"a": {"x": 3.0, "y": 2.0}} and std == {"a": {"x": 2.0, "y": 0.0}}
    with pytest.raises(ValueError, match="rows and metrics"):
        mean_and_std([{"a": {"x": 1.0}}, {"b": {"x": 1.0}}])
    with pytest.raises(ValueError, match="at least 2"):
        mean_and_std([{"a": {"x": 1.0}}])
    assert paired_difference([0.3, 0.5, 0.4], [0.2, 0.2, 0.5]) == pytest.approx((0.1, np.std([0.1, 0.3, -0.1], ddof=1), 2, 3))
    assert paired_difference([1.0, 2.0], [2.0, 3.0], higher_is_better=False)[2] == 2
    with pytest.raises(ValueError, match="same length"):
        paired_difference([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="finite"):
        paired_difference([1.0, float("nan")], [1.0, 2.0])


def test_saver_groups_split_the_test_users_by_their_training_saves():
    from recsys_course.blending import saver_groups

    log = simulate_recipe_app(n_users=120, n_items=80, random_state=4)
    split = recipe_split(log, random_state=1)
    groups = saver_groups(log, split)
    assert set(groups["with a save"]) | set(groups["no save"]) == set(groups["all users"]) == set(split.test_users)
    assert not set(groups["with a save"]) & set(groups["no save"])
    saves_in_train = split.train.multiply(log.saves > 0).tocsr()
    assert all(saves_in_train[u].nnz > 0 for u in groups["with a save"])
    assert all(saves_in_train[u].nnz == 0 for u in groups["no save"])
    with pytest.raises(TypeError, match="RecipeSplit"):
        saver_groups(log, "split")
