"""ImplicitALS.fit(counts, initial=...): a warm start from given factors (used by the live explorer)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recsys_course.models import ImplicitALS
from recsys_course.models.als import implicit_als_loss


def counts_matrix(seed=0, n_users=40, n_items=25, density=0.25):
    rng = np.random.default_rng(seed)
    R = rng.poisson(2.0, size=(n_users, n_items)) * (rng.random((n_users, n_items)) < density)
    R[:, 0] += 1  # every user has at least one item
    return sp.csr_matrix(R.astype(np.float64))


def model(**overrides):
    params = dict(factors=6, regularization=0.5, alpha=5.0, iterations=8, solver="cholesky", random_state=3,
                  dtype=np.float64, progress=False, num_threads=1)
    params.update(overrides)
    return ImplicitALS(**params)


def test_starting_from_the_seeded_draw_reproduces_the_cold_fit_exactly():
    """The warm-start path is the same algorithm: given the factors the seed would draw, same bits."""
    counts = counts_matrix()
    cold = model().fit(counts)
    draw = model()._initial_factors(counts.shape[0], counts.shape[1], 6, np.dtype(np.float64),
                                    np.random.default_rng(3))
    warm = model().fit(counts, initial=draw)
    np.testing.assert_array_equal(warm.user_factors, cold.user_factors)
    np.testing.assert_array_equal(warm.item_factors, cold.item_factors)
    assert warm.loss_history == cold.loss_history


def test_initial_none_is_the_default_behaviour():
    counts = counts_matrix(1)
    a = model(solver="cg").fit(counts)
    b = model(solver="cg").fit(counts, initial=None)
    np.testing.assert_array_equal(a.user_factors, b.user_factors)


@pytest.mark.parametrize("solver", ["cholesky", "cg"])
def test_a_warm_start_after_a_small_change_beats_a_cold_start_of_the_same_length(solver):
    counts = counts_matrix(2)
    converged = model(iterations=30, solver=solver).fit(counts)
    start = (converged.user_factors, converged.item_factors)
    # lambda changes a little: one warm iteration lands near the new optimum, one cold one does not
    warm = model(iterations=1, solver=solver, regularization=0.6).fit(counts, initial=start)
    cold = model(iterations=1, solver=solver, regularization=0.6).fit(counts)
    reference = model(iterations=60, solver="cholesky", regularization=0.6).fit(counts)
    best = reference.loss_history[-1]
    assert warm.loss_history[-1] - best < 0.1 * (cold.loss_history[-1] - best)


def test_the_starting_factors_are_copied_not_changed():
    counts = counts_matrix(3)
    first = model().fit(counts)
    X, Y = first.user_factors.copy(), first.item_factors.copy()
    second = model(alpha=1.0).fit(counts, initial=(first.user_factors, first.item_factors))
    np.testing.assert_array_equal(first.user_factors, X)
    np.testing.assert_array_equal(first.item_factors, Y)
    assert second.user_factors is not first.user_factors
    assert not np.array_equal(second.user_factors, X)


def test_float32_factors_start_a_float64_model():
    counts = counts_matrix(4)
    first = model(dtype=np.float32).fit(counts)
    second = model(iterations=2).fit(counts, initial=(first.user_factors, first.item_factors))
    assert second.user_factors.dtype == np.float64
    loss = implicit_als_loss(counts, second.user_factors, second.item_factors, 0.5, alpha=5.0)
    assert np.isclose(loss, second.loss_history[-1], rtol=1e-9)


@pytest.mark.parametrize(
    "initial, error, words",
    [
        (np.zeros((40, 6)), TypeError, "pair"),
        ((np.zeros((40, 6)),), TypeError, "pair"),
        ((np.zeros((39, 6)), np.zeros((25, 6))), ValueError, "40 rows"),
        ((np.zeros((40, 6)), np.zeros((24, 6))), ValueError, "25 rows"),
        ((np.zeros((40, 5)), np.zeros((25, 5))), ValueError, "factors=6"),
        ((np.full((40, 6), np.nan), np.zeros((25, 6))), ValueError, "finite"),
        ((np.zeros((40, 6), dtype=int), np.zeros((25, 6))), TypeError, "floating"),
        (("x", np.zeros((25, 6))), TypeError, "initial[0]"),
    ],
)
def test_bad_starting_factors_are_refused_and_the_model_is_left_as_it_was(initial, error, words):
    counts = counts_matrix()
    fitted = model().fit(counts)
    before = fitted.user_factors.copy()
    with pytest.raises(error, match=None) as caught:
        fitted.fit(counts, initial=initial)
    assert words in str(caught.value)
    assert "initial" in str(caught.value)
    np.testing.assert_array_equal(fitted.user_factors, before)
