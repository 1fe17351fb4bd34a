"""ImplicitALS(regularization_scaling="frequency_relative"): the offset as a fraction of the other
side's size, lambda (n_u + offset |I|)^exponent for a user and lambda (n_i + offset |U|)^exponent for
an item (Rendle et al.'s released iALS code uses offset alpha_0), against a dense float64 solve."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recsys_course.models import ImplicitALS
from recsys_course.models.als import implicit_als_loss, row_regularization

ALPHA = 3.0
LAM = 0.05


def counts_matrix(seed=3, n_users=25, n_items=15, density=0.25):
    rng = np.random.default_rng(seed)
    R = rng.poisson(2.0, size=(n_users, n_items)) * (rng.random((n_users, n_items)) < density)
    R[0, 0] = 3
    return sp.csr_matrix(R.astype(np.float64))


def dense_rows(P, C, fixed, lams):
    """(Y' C^u Y + lambda_u I) x_u = Y' C^u p(u), one dense solve per row."""
    f = fixed.shape[1]
    return np.array([np.linalg.solve(fixed.T @ (C[u][:, None] * fixed) + lams[u] * np.eye(f),
                                     fixed.T @ (C[u] * P[u])) for u in range(P.shape[0])])


def make(**kwargs):
    params = dict(factors=3, regularization=LAM, alpha=ALPHA, iterations=2, solver="cholesky", random_state=0,
                  dtype=np.float64, progress=False, regularization_scaling="frequency_relative")
    params.update(kwargs)
    return ImplicitALS(**params)


def test_row_lambdas_use_the_other_sides_size():
    counts = counts_matrix()
    n_users, n_items = counts.shape  # 25 x 15: the two offsets differ
    R = counts.toarray()
    users, items = row_regularization(counts, 2.0, "frequency_relative", offset=0.4, exponent=1.0)
    np.testing.assert_array_equal(users, 2.0 * ((R > 0).sum(axis=1) + 0.4 * n_items))
    np.testing.assert_array_equal(items, 2.0 * ((R > 0).sum(axis=0) + 0.4 * n_users))
    # an absolute offset of the same number is a different penalty on both sides
    absolute = row_regularization(counts, 2.0, "frequency", offset=0.4, exponent=1.0)
    assert not np.allclose(absolute[0], users) and not np.allclose(absolute[1], items)
    # with offset 0 it is plain frequency scaling
    for a, b in zip(row_regularization(counts, 2.0, "frequency_relative", offset=0.0, exponent=0.5),
                    row_regularization(counts, 2.0, "frequency", offset=0.0, exponent=0.5)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("offset, exponent", [(0.3, 1.0), (1.5, 0.5)])
@pytest.mark.parametrize("solver", ["cholesky", "cg"])
def test_relative_offset_matches_the_dense_reference(solver, offset, exponent):
    counts = counts_matrix()
    n_users, n_items = counts.shape
    R = counts.toarray()
    P, C = (R > 0).astype(np.float64), 1.0 + ALPHA * R
    lam_u = LAM * ((P > 0).sum(axis=1) + offset * n_items) ** exponent
    lam_i = LAM * ((P > 0).sum(axis=0) + offset * n_users) ** exponent
    X, Y = make()._initial_factors(n_users, n_items, 3, np.dtype(np.float64), np.random.default_rng(0))
    extra = dict(cg_steps=30) if solver == "cg" else {}
    for iterations in (1, 2):
        Y = dense_rows(P.T, C.T, X, lam_i)
        X = dense_rows(P, C, Y, lam_u)
        fitted = make(iterations=iterations, solver=solver, regularization_offset=offset,
                      regularization_exponent=exponent, compute_loss=True, **extra).fit(counts)
        np.testing.assert_allclose(fitted.item_factors, Y, atol=1e-6, rtol=0)
        np.testing.assert_allclose(fitted.user_factors, X, atol=1e-6, rtol=0)
        dense = float(np.sum(C * (P - X @ Y.T) ** 2) + lam_u @ np.sum(X ** 2, axis=1)
                      + lam_i @ np.sum(Y ** 2, axis=1))
        assert fitted.loss_history[-1] == pytest.approx(dense, rel=1e-9)
        assert implicit_als_loss(counts, X, Y, LAM, alpha=ALPHA, regularization_scaling="frequency_relative",
                                 regularization_offset=offset,
                                 regularization_exponent=exponent) == pytest.approx(dense, rel=1e-12)


def test_unknown_scaling_is_named_with_the_choices():
    with pytest.raises(ValueError, match="regularization_scaling.*frequency_relative"):
        make(regularization_scaling="relative").fit(counts_matrix())
    with pytest.raises(ValueError, match="regularization_offset"):
        make(regularization_offset=-0.1).fit(counts_matrix())
