"""grid_search(scorer=...): a validation protocol of one's own (e.g. sampled negatives)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recsys_course.metrics import evaluate
from recsys_course.models import ImplicitALS
from recsys_course.tuning import grid_search


def data(seed=0):
    rng = np.random.default_rng(seed)
    train = sp.csr_matrix((rng.random((40, 25)) < 0.25).astype(float))
    validation = sp.csr_matrix(((rng.random((40, 25)) < 0.08) & (train.toarray() == 0)).astype(float))
    return train, validation


def make(factors, random_state=0):
    return ImplicitALS(factors=factors, regularization=0.1, alpha=2.0, iterations=3, dtype=np.float64,
                       random_state=random_state, progress=False)


def test_the_scorer_picks_the_setting_and_fills_the_table():
    train, validation = data()
    seen = []

    def scorer(model):
        seen.append(model.factors)
        # a made-up score that prefers 2 factors, plus a real metric for the table
        return {"made_up": -abs(model.factors - 2), "ndcg": evaluate(model, train, validation, metrics=["ndcg"])["ndcg"]}

    result = grid_search(make, {"factors": [1, 2, 4]}, train, validation, metric="made_up", scorer=scorer)
    assert seen == [1, 2, 4]  # one call per setting, in grid order
    assert result.best_params == {"factors": 2} and result.best_score == 0.0
    assert [row["made_up"] for row in result.rows] == [-1.0, 0.0, -2.0]
    assert "made_up" in result.table() and "ndcg" in result.table()
    # the "ndcg" column is what evaluate gives, so the two paths agree
    plain = grid_search(make, {"factors": [1, 2, 4]}, train, validation, metric="ndcg")
    np.testing.assert_allclose(result.scores("ndcg"), plain.scores("ndcg"))


def test_without_a_scorer_nothing_changes():
    train, validation = data(1)
    a = grid_search(make, {"factors": [1, 3]}, train, validation, metric="ndcg", metrics=["ndcg", "auc"])
    assert a.rows[0].keys() == {"factors", "ndcg", "auc"}


def test_bad_scorers_are_named():
    train, validation = data()
    with pytest.raises(TypeError, match="scorer must be None or a callable"):
        grid_search(make, {"factors": [1]}, train, validation, scorer="ndcg")
    with pytest.raises(ValueError, match="metrics must be None when a scorer is given"):
        grid_search(make, {"factors": [1]}, train, validation, metrics=["ndcg"], scorer=lambda m: {"x": 1.0})
    with pytest.raises(ValueError, match="metric must be one of the scorer's metrics \\['x'\\], got 'ndcg'"):
        grid_search(make, {"factors": [1]}, train, validation, metric="ndcg", scorer=lambda m: {"x": 1.0})
    with pytest.raises(TypeError, match="scorer must return a non-empty dict"):
        grid_search(make, {"factors": [1]}, train, validation, metric="x", scorer=lambda m: 0.5)
    with pytest.raises(TypeError, match="scorer must return metric names \\(strings\\) with numbers"):
        grid_search(make, {"factors": [1]}, train, validation, metric="x", scorer=lambda m: {"x": "high"})
    with pytest.raises(ValueError, match="NaN"):
        grid_search(make, {"factors": [1]}, train, validation, metric="x", scorer=lambda m: {"x": float("nan")})
