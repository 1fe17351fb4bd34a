"""Selection on validation, one test score per model and split, equal budgets."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import scipy.sparse as sp

from recsys_course.data import ThreeWaySplit, simulate, train_validation_test_split
from recsys_course.metrics import evaluate
from recsys_course.models import ImplicitALS, ItemKNN, Popularity
from recsys_course.models._base import RecommenderBase
from recsys_course.plots.tuning import comparison_bars, grid_heatmap
from recsys_course.tuning import Comparison, compare, expand_grid, grid_search, repeated_splits


@pytest.fixture(scope="module")
def counts() -> sp.csr_matrix:
    return sp.csr_matrix(simulate(n_users=120, n_items=80, random_state=3).counts)


class Blend(RecommenderBase):
    """Popularity plus ``weight`` times seeded noise: the weight changes the ranking."""

    def __init__(self, weight: float = 0.0, random_state: int = 0):
        self.weight = weight
        self.random_state = random_state

    def fit(self, counts):
        counts = self._remember_training(counts)
        popularity = np.asarray((counts > 0).sum(axis=0)).ravel().astype(float)
        noise = np.random.default_rng(self.random_state).random(counts.shape)
        self._scores = popularity[None, :] / max(popularity.max(), 1.0) + self.weight * noise
        self._fitted = True
        return self

    def _score_rows(self, users):
        return self._scores[users]


# ------------------------------------------------------------------ the split
def test_three_way_split_partitions_every_entry(counts):
    split = train_validation_test_split(counts, 0.1, 0.2, random_state=0)
    train, validation, test = split
    assert isinstance(split, ThreeWaySplit) and split.seed == 0
    assert (train + validation + test - counts).nnz == 0
    overlap = train.multiply(validation).nnz + train.multiply(test).nnz + validation.multiply(test).nnz
    assert overlap == 0
    per_user = np.diff(counts.indptr)
    eligible = per_user >= 3
    for part in (train, validation, test):
        assert (np.diff(part.indptr)[eligible] >= 1).all()
    np.testing.assert_array_equal(split.skipped_users, np.flatnonzero(~eligible & (per_user > 0)))
    assert (split.train_and_validation - (train + validation)).nnz == 0
    # a larger test fraction holds out more
    bigger = train_validation_test_split(counts, 0.1, 0.4, random_state=0)
    assert bigger.test.nnz > test.nnz


def test_three_way_split_is_seeded(counts):
    a = train_validation_test_split(counts, random_state=4)
    b = train_validation_test_split(counts, random_state=4)
    c = train_validation_test_split(counts, random_state=5)
    assert (a.test != b.test).nnz == 0 and (a.validation != b.validation).nnz == 0
    assert (a.test != c.test).nnz > 0


def test_small_users_stay_in_train():
    dense = np.zeros((3, 6))
    dense[0, :2] = 1  # two items: too few for three parts
    dense[1, :5] = 2
    dense[2, 1:6] = 1
    split = train_validation_test_split(sp.csr_matrix(dense), random_state=0)
    np.testing.assert_array_equal(split.skipped_users, [0])
    assert split.train[0].nnz == 2 and split.validation[0].nnz == 0 and split.test[0].nnz == 0


@pytest.mark.parametrize("kwargs, error, text", [
    ({"validation_fraction": 0.0}, ValueError, "validation_fraction"),
    ({"test_fraction": -0.1}, ValueError, "test_fraction"),
    ({"validation_fraction": 0.5, "test_fraction": 0.5}, ValueError, "validation_fraction + test_fraction"),
    ({"min_interactions": 2}, ValueError, "min_interactions"),
    ({"validation_fraction": "0.1"}, TypeError, "validation_fraction"),
    ({"min_interactions": 10_000}, ValueError, "min_interactions"),
])
def test_three_way_split_rejects_bad_arguments(counts, kwargs, error, text):
    with pytest.raises(error, match=text.replace("+", r"\+")):
        train_validation_test_split(counts, **kwargs)


# ------------------------------------------------------------------- the grid
def test_expand_grid_orders_the_cartesian_product():
    assert expand_grid({"a": [1, 2], "b": ["x", "y"]}) == [
        {"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 2, "b": "x"}, {"a": 2, "b": "y"}]
    assert expand_grid([{"a": 1}, {"a": 3, "b": 2}]) == [{"a": 1}, {"a": 3, "b": 2}]
    assert expand_grid({}) == [{}]


@pytest.mark.parametrize("grid, error, text", [
    ({"a": []}, ValueError, "at least one value"),
    ({"a": 3}, TypeError, "list of values"),
    ({"a": "abc"}, TypeError, "list of values"),
    ([], ValueError, "at least one setting"),
    ([{"a": 1}, 5], TypeError, r"grid\[1\]"),
    ("a", TypeError, "grid must be"),
    ({1: [1]}, TypeError, "parameter names"),
])
def test_expand_grid_rejects_bad_grids(grid, error, text):
    with pytest.raises(error, match=text):
        expand_grid(grid)


def test_grid_search_picks_the_best_validation_score(counts):
    train, validation, test = train_validation_test_split(counts, random_state=1)
    grid = {"weight": [0.0, 0.3, 3.0], "random_state": [0, 1]}
    result = grid_search(Blend, grid, train, validation, metric="ndcg", k=5, metrics=("auc",))
    assert result.n_settings == 6 and result.param_names == ["weight", "random_state"]
    # every row is the validation score, recomputed independently
    for row in result.rows:
        model = Blend(row["weight"], row["random_state"]).fit(train)
        expected = evaluate(model, train, validation, k=5, metrics=("ndcg", "auc"))
        assert row["ndcg"] == pytest.approx(expected["ndcg"])
        assert row["auc"] == pytest.approx(expected["auc"])
    scores = result.scores()
    assert result.best_index == int(np.argmax(scores))  # argmax: first of ties
    assert result.best_score == scores.max()
    assert result.best_params == {k: result.rows[result.best_index][k] for k in ("weight", "random_state")}
    # popularity ranks better than noise on simulated data, so a small weight wins
    assert result.best_params["weight"] < 3.0
    assert result.best_model.weight == result.best_params["weight"]
    text = result.table()
    assert text.count("\n") == 6 and text.rstrip().count("*") == 1
    assert "validation" in repr(result)


def test_grid_search_breaks_ties_by_grid_order(counts):
    train, validation, _ = train_validation_test_split(counts, random_state=1)
    result = grid_search(lambda weighting: Popularity(weighting="users"), {"weighting": ["a", "b", "c"]},
                         train, validation)
    assert len(set(result.scores())) == 1 and result.best_index == 0


def test_grid_search_minimises_the_percentile_rank(counts):
    train, validation, _ = train_validation_test_split(counts, random_state=2)
    result = grid_search(Blend, {"weight": [5.0, 0.0]}, train, validation, metric="percentile_rank")
    scores = result.scores()
    assert result.best_index == int(np.argmin(scores)) and scores[0] != scores[1]


def test_grid_search_pivot(counts):
    train, validation, _ = train_validation_test_split(counts, random_state=1)
    result = grid_search(Blend, {"weight": [0.0, 1.0], "random_state": [0, 1, 2]}, train, validation)
    rows, columns, table = result.pivot("weight", "random_state")
    assert rows == [0.0, 1.0] and columns == [0, 1, 2] and table.shape == (2, 3)
    for r in result.rows:
        assert table[rows.index(r["weight"]), columns.index(r["random_state"])] == r["ndcg"]
    # over a third parameter, each cell keeps the best
    three = grid_search(lambda weight, random_state, extra: Blend(weight, random_state),
                        {"weight": [0.0, 1.0], "random_state": [0, 1], "extra": [1, 2]}, train, validation)
    _, _, best = three.pivot("weight", "random_state")
    assert best[1, 1] == max(r["ndcg"] for r in three.rows if r["weight"] == 1.0 and r["random_state"] == 1)
    with pytest.raises(ValueError, match="row"):
        result.pivot("nope", "weight")
    with pytest.raises(ValueError, match="two different"):
        result.pivot("weight", "weight")


def test_grid_search_rejects_bad_inputs(counts):
    train, validation, _ = train_validation_test_split(counts, random_state=1)
    with pytest.raises(TypeError, match="make_model"):
        grid_search(42, {"weight": [1.0]}, train, validation)
    with pytest.raises(ValueError, match="same users x items shape"):
        grid_search(Blend, {"weight": [1.0]}, train, validation[:, :10])
    with pytest.raises(ValueError, match="metric"):
        grid_search(Blend, {"weight": [1.0]}, train, validation, metric="accuracy")
    with pytest.raises(TypeError, match=r"make_model\(nope=1\) failed"):
        grid_search(Blend, {"nope": [1]}, train, validation)
    with pytest.raises(TypeError, match="fit method"):
        grid_search(lambda: object(), {}, train, validation)
    with pytest.raises(ValueError, match="k must be"):
        grid_search(Blend, {"weight": [1.0]}, train, validation, k=0)


# ------------------------------------------------------------------ compare
def test_compare_tunes_on_validation_and_scores_test_once(counts):
    splits = repeated_splits(counts, n_seeds=3, seed=10)
    assert [s.seed for s in splits] == [10, 11, 12]
    contenders = {
        "blend": (Blend, {"weight": [0.0, 2.0]}),
        "popularity": (lambda: Popularity(), {}),
        "knn": (lambda neighbors: ItemKNN(neighbors=neighbors), {"neighbors": [5, 40]}),
    }
    result = compare(contenders, splits, metric="ndcg", k=5, test_metrics=("ndcg", "auc"))
    assert isinstance(result, Comparison) and result.n_seeds == 3
    assert result.contenders == ["blend", "popularity", "knn"] and result.test_metrics == ("ndcg", "auc")
    for row in result.per_seed:
        split = splits[row["seed"]]
        search = grid_search(*_factory(contenders[row["contender"]]), split.train, split.validation, k=5)
        assert row["params"] == search.best_params and row["validation"] == search.best_score
        assert row["n_settings"] == search.n_settings
        # the chosen setting, refitted on train + validation, scored on test once
        make_model = contenders[row["contender"]][0]
        refit = make_model(**row["params"]).fit(split.train_and_validation)
        expected = evaluate(refit, split.train_and_validation, split.test, k=5, metrics=("ndcg", "auc"))
        assert row["ndcg"] == pytest.approx(expected["ndcg"]) and row["auc"] == pytest.approx(expected["auc"])
    summary = result.summary()
    values = result.values("knn", "auc")
    assert summary["knn"]["auc"] == (pytest.approx(values.mean()), pytest.approx(values.std(ddof=1)))
    mean, std, wins, n = result.difference("knn", "popularity", "ndcg")
    diff = result.values("knn") - result.values("popularity")
    assert (mean, std, wins, n) == (pytest.approx(diff.mean()), pytest.approx(diff.std(ddof=1)),
                                    int((diff > 0).sum()), 3)
    assert len(result.chosen("blend")) == 3
    assert result.grid("knn", 2).n_settings == 2
    table = result.table()
    assert "±" in table and table.count("\n") == 3
    with pytest.raises(ValueError, match="contender"):
        result.values("nobody")
    with pytest.raises(ValueError, match="test metrics"):
        result.values("knn", "recall")
    with pytest.raises(ValueError, match="seed"):
        result.grid("knn", 7)


def _factory(entry):
    return entry


def test_compare_demands_equal_budgets(counts):
    splits = repeated_splits(counts, n_seeds=1)
    with pytest.raises(ValueError, match="same tuning budget.*a: 2, b: 3"):
        compare({"a": (Blend, {"weight": [0.0, 1.0]}), "b": (Blend, {"weight": [0.0, 1.0, 2.0]})}, splits)


def test_compare_passes_the_split_seed(counts):
    seen = []

    def make(weight, random_state):
        seen.append(random_state)
        return Blend(weight, random_state)

    compare({"blend": (make, {"weight": [0.5]})}, repeated_splits(counts, n_seeds=2), seed_param="random_state")
    assert set(seen) == {0, 1}


@pytest.mark.parametrize("contenders, splits, error, text", [
    ({}, None, TypeError, "contenders"),
    ({"a": Blend}, None, TypeError, "pair"),
    ({"a": (3, {})}, None, TypeError, "callable"),
    ({"a": (Blend, {"weight": [1.0]})}, [], TypeError, "splits"),
    ({"a": (Blend, {"weight": [1.0]})}, ["x"], TypeError, r"splits\[0\]"),
])
def test_compare_rejects_bad_inputs(counts, contenders, splits, error, text):
    if splits is None:
        splits = repeated_splits(counts, n_seeds=1)
    with pytest.raises(error, match=text):
        compare(contenders, splits)


def test_compare_with_implicit_als_is_reproducible(counts):
    splits = repeated_splits(counts, n_seeds=2)

    def make(regularization):
        return ImplicitALS(factors=4, regularization=regularization, alpha=1.0, iterations=3,
                           random_state=0, progress=False, dtype=np.float64)

    a = compare({"als": (make, {"regularization": [0.1, 10.0]})}, splits)
    b = compare({"als": (make, {"regularization": [0.1, 10.0]})}, splits)
    assert a.per_seed == b.per_seed


# -------------------------------------------------------------------- plots
def test_plots_of_a_comparison(counts):
    splits = repeated_splits(counts, n_seeds=2)
    result = compare({"blend": (Blend, {"weight": [0.0, 1.0]}), "pop": (lambda: Popularity(), {})}, splits)
    ax = comparison_bars(result)
    assert len(ax.patches) == 2 and "over 2 splits" in ax.get_title()
    heights = [p.get_height() for p in ax.patches]
    assert heights == pytest.approx([result.summary()[n]["ndcg"][0] for n in ("blend", "pop")])
    plt.close("all")
    grid = result.grid("blend", 0)
    search = grid_search(Blend, {"weight": [0.0, 1.0], "random_state": [0, 1]}, splits[0].train,
                         splits[0].validation)
    ax = grid_heatmap(search, "weight", "random_state")
    boxes = [p for p in ax.patches if p.get_edgecolor()[:3] == (1.0, 0.0, 0.0)]
    assert len(boxes) == 1
    row, column = search.best_params["weight"], search.best_params["random_state"]
    assert boxes[0].get_xy() == (column - 0.5, [0.0, 1.0].index(row) - 0.5)
    assert grid.n_settings == 2
    plt.close("all")
    with pytest.raises(TypeError, match="comparison"):
        comparison_bars(search)
    with pytest.raises(TypeError, match="result"):
        grid_heatmap(result, "weight", "random_state")
