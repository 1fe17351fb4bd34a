"""Explicit ALS against a dense reference of the ratings objective."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recsys_course.models import ExplicitALS, NotFittedError, SingularSystemError


def toy_ratings(seed=0):
    rng = np.random.default_rng(seed)
    R = rng.integers(1, 6, size=(25, 15)) * (rng.random((25, 15)) < 0.35)
    R[4] = 0
    R[0, :3] = [5, 4, 1]
    return sp.csr_matrix(R.astype(np.float64))


def dense_reference(R, X, lam, scaling, iterations):
    M = (R > 0).astype(float)

    def solve(M, R, fixed):
        f = fixed.shape[1]
        out = np.zeros((R.shape[0], f))
        for u in range(R.shape[0]):
            n = M[u].sum()
            reg = lam * (n if scaling == "count" else 1.0)
            A = fixed.T @ (M[u][:, None] * fixed) + reg * np.eye(f)
            out[u] = np.linalg.solve(A, fixed.T @ (M[u] * R[u])) if n else 0.0
        return out

    for _ in range(iterations):
        Y = solve(M.T, R.T, X)
        X = solve(M, R, Y)
    return X, Y


@pytest.mark.parametrize("scaling", ["plain", "count"])
def test_matches_dense_reference(scaling):
    ratings = toy_ratings()
    model = ExplicitALS(factors=3, regularization=0.5, regularization_scaling=scaling, iterations=3,
                        random_state=0).fit(ratings)
    X0 = np.random.default_rng(0).standard_normal((25, 3)) * 0.1
    X, Y = dense_reference(ratings.toarray(), X0, 0.5, scaling, 3)
    np.testing.assert_allclose(model.user_factors, X, atol=1e-6)
    np.testing.assert_allclose(model.item_factors, Y, atol=1e-6)
    assert np.all(model.user_factors[4] == 0)


def test_loss_decreases_and_predictions_fit_training_ratings():
    ratings = toy_ratings(1)
    model = ExplicitALS(factors=4, regularization=0.1, iterations=10, random_state=0).fit(ratings)
    loss = np.array(model.loss_history)
    assert np.all(np.diff(loss) <= 1e-9 * loss[:-1])
    coo = ratings.tocoo()
    assert model.rmse(ratings) < 1.0
    pred = model.predict(coo.row, coo.col)
    assert np.sqrt(np.mean((pred - coo.data) ** 2)) == pytest.approx(model.rmse(ratings))


def test_recommend_filters_rated_items():
    ratings = toy_ratings(2)
    model = ExplicitALS(factors=3, iterations=3, random_state=0).fit(ratings)
    items, _ = model.recommend(0, k=15)
    assert not set(items.tolist()) & set(ratings[0].indices.tolist())


def test_bad_input():
    ratings = toy_ratings()
    with pytest.raises(ValueError, match="regularization_scaling"):
        ExplicitALS(regularization_scaling="spark").fit(ratings)
    with pytest.raises(ValueError, match="factors"):
        ExplicitALS(factors=0).fit(ratings)
    with pytest.raises(ValueError, match="ratings"):
        ExplicitALS().fit(-ratings)
    with pytest.raises(NotFittedError):
        ExplicitALS().predict([0], [0])
    model = ExplicitALS(factors=2, iterations=1, random_state=0).fit(ratings)
    with pytest.raises(ValueError, match="items"):
        model.predict([0, 1], [0])
    with pytest.raises(ValueError, match="items"):
        model.predict([0], [15])
    with pytest.raises(ValueError, match="ratings"):
        model.rmse(sp.csr_matrix((3, 3)))
    with pytest.raises(SingularSystemError, match="regularization"):
        ExplicitALS(factors=8, regularization=0.0, iterations=1, random_state=0).fit(ratings)
