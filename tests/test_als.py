"""Implicit ALS against a dense float64 numpy reference of the same objective."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recsys_course import feedback
from recsys_course.models import Explanation, ImplicitALS, NotFittedError, SingularSystemError
from recsys_course.models.als import als_half_sweep, implicit_als_loss

ALPHA = 5.0
LAM = 0.3


# ------------------------------------------------------------------ dense reference
def dense_pc(counts, alpha=ALPHA):
    R = np.asarray(counts.toarray(), dtype=np.float64)
    return (R > 0).astype(np.float64), 1.0 + alpha * R


def dense_solve_rows(P, C, fixed, lam):
    """x_u = (Y' C^u Y + lam I)^-1 Y' C^u p(u) for every row, straight from the paper."""
    f = fixed.shape[1]
    out = np.empty((P.shape[0], f))
    for u in range(P.shape[0]):
        A = fixed.T @ (C[u][:, None] * fixed) + lam * np.eye(f)
        b = fixed.T @ (C[u] * P[u])
        out[u] = np.linalg.solve(A, b)
    return out


def dense_loss(P, C, X, Y, lam):
    return float(np.sum(C * (P - X @ Y.T) ** 2) + lam * (np.sum(X ** 2) + np.sum(Y ** 2)))


def toy_counts(seed=0, n_users=30, n_items=20, density=0.2):
    rng = np.random.default_rng(seed)
    R = rng.poisson(2.0, size=(n_users, n_items)) * (rng.random((n_users, n_items)) < density)
    R[3, :] = 0  # a user with no interactions
    R[:, 7] = 0  # an item nobody touched
    R[0, 0] = 4  # at least one count for sure
    return sp.csr_matrix(R.astype(np.float64))


def model(**kwargs):
    params = dict(factors=4, regularization=LAM, alpha=ALPHA, iterations=3, solver="cholesky",
                  random_state=0, dtype=np.float64, progress=False)
    params.update(kwargs)
    return ImplicitALS(**params)


# ------------------------------------------------------------------------ exactness
def test_every_half_sweep_matches_the_dense_reference():
    counts = toy_counts()
    P, C = dense_pc(counts)
    rng = np.random.default_rng(0)
    X, Y = model()._initial_factors(*counts.shape, 4, np.dtype(np.float64), rng)
    for iterations in (1, 2, 3):
        Y = dense_solve_rows(P.T, C.T, X, LAM)  # items first ...
        X = dense_solve_rows(P, C, Y, LAM)  # ... then users
        fitted = model(iterations=iterations).fit(counts)
        np.testing.assert_allclose(fitted.item_factors, Y, atol=1e-6, rtol=0)
        np.testing.assert_allclose(fitted.user_factors, X, atol=1e-6, rtol=0)
        assert fitted.loss_history[-1] == pytest.approx(dense_loss(P, C, X, Y, LAM), rel=1e-9)


def test_last_side_satisfies_its_normal_equations():
    counts = toy_counts(seed=1)
    P, C = dense_pc(counts)
    fitted = model(iterations=4).fit(counts)
    X, Y = fitted.user_factors, fitted.item_factors
    for u in range(counts.shape[0]):
        A = Y.T @ (C[u][:, None] * Y) + LAM * np.eye(4)
        np.testing.assert_allclose(A @ X[u], Y.T @ (C[u] * P[u]), atol=1e-9)


def test_half_sweep_function_matches_reference_and_cg_reaches_cholesky():
    counts = toy_counts(seed=2)
    P, C = dense_pc(counts)
    conf = feedback.confidence(counts, alpha=ALPHA)
    Y = np.random.default_rng(3).standard_normal((counts.shape[1], 6))
    exact = als_half_sweep(conf, Y, LAM, solver="cholesky")
    np.testing.assert_allclose(exact, dense_solve_rows(P, C, Y, LAM), atol=1e-9)
    cg_few = als_half_sweep(conf, Y, LAM, solver="cg", cg_steps=1)
    cg_many = als_half_sweep(conf, Y, LAM, solver="cg", cg_steps=40)
    np.testing.assert_allclose(cg_many, exact, atol=1e-8)
    assert np.abs(cg_few - exact).max() > 1e-4  # one step is visibly not the answer
    warm = als_half_sweep(conf, Y, LAM, solver="cg", cg_steps=1, initial=exact)
    np.testing.assert_allclose(warm, exact, atol=1e-8)  # starting at the answer stays there


def test_cg_model_approaches_cholesky_model():
    counts = toy_counts(seed=4)
    exact = model(iterations=3).fit(counts)
    cg = model(iterations=3, solver="cg", cg_steps=30).fit(counts)
    np.testing.assert_allclose(cg.user_factors, exact.user_factors, atol=1e-6)
    np.testing.assert_allclose(cg.item_factors, exact.item_factors, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cholesky_loss_never_increases(dtype):
    counts = toy_counts(seed=5, n_users=60, n_items=40)
    fitted = model(iterations=12, factors=6, dtype=dtype, regularization=0.05).fit(counts)
    loss = np.array(fitted.loss_history)
    assert loss.shape == (12,)
    slack = 1e-9 if dtype is np.float64 else 1e-5
    assert np.all(np.diff(loss) <= slack * loss[:-1]), loss
    assert loss[-1] < loss[0]


def test_loss_without_densifying_equals_dense_loss():
    counts = toy_counts(seed=6)
    P, C = dense_pc(counts, alpha=12.0)
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((30, 5)), rng.standard_normal((20, 5))
    got = implicit_als_loss(counts, X, Y, 0.7, alpha=12.0)
    assert got == pytest.approx(dense_loss(P, C, X, Y, 0.7), rel=1e-12)


def test_log_scheme_uses_log_confidence():
    counts = toy_counts(seed=7)
    fitted = model(scheme="log", alpha=2.0, iterations=2).fit(counts)
    R = counts.toarray()
    P, C = (R > 0).astype(float), 1.0 + 2.0 * np.log1p(R)
    rng = np.random.default_rng(0)
    X, Y = model()._initial_factors(*counts.shape, 4, np.dtype(np.float64), rng)
    for _ in range(2):
        Y = dense_solve_rows(P.T, C.T, X, LAM)
        X = dense_solve_rows(P, C, Y, LAM)
    np.testing.assert_allclose(fitted.user_factors, X, atol=1e-6)


# ------------------------------------------------------------------- behaviour
def test_rows_without_interactions_get_zero_factors():
    counts = toy_counts()
    for solver in ("cholesky", "cg"):
        fitted = model(solver=solver, dtype=np.float32).fit(counts)
        assert np.all(fitted.user_factors[3] == 0)
        assert np.all(fitted.item_factors[7] == 0)
        assert np.all(np.isfinite(fitted.user_factors)) and np.all(np.isfinite(fitted.item_factors))


@pytest.mark.parametrize("solver", ["cholesky", "cg"])
def test_explain_contributions_sum_to_the_score(solver):
    counts = toy_counts(seed=8)
    fitted = model(solver=solver, iterations=5).fit(counts)
    user = 0
    n_past = counts[user].nnz
    scores = fitted.score([user])[0]
    for item in range(counts.shape[1]):
        full = fitted.explain(user, item, k=n_past)
        assert isinstance(full, Explanation)
        assert full.rest == pytest.approx(0.0, abs=1e-12)
        assert full.contributions.sum() == pytest.approx(full.score, abs=1e-10)
        assert sorted(full.items.tolist()) == sorted(counts[user].indices.tolist())
        if solver == "cholesky":  # users are solved exactly against the final items
            assert full.score == pytest.approx(scores[item], abs=1e-8)
        top = fitted.explain(user, item, k=2)
        assert top.items.size == 2
        assert top.contributions.sum() + top.rest == pytest.approx(top.score, abs=1e-10)
        assert np.all(np.diff(top.contributions) <= 0)  # largest first
        assert top.contributions[0] == pytest.approx(full.contributions.max())


def test_explain_in_float32_is_close_to_the_score():
    counts = toy_counts(seed=8)
    fitted = model(dtype=np.float32).fit(counts)
    assert fitted.explain(1, 2).score == pytest.approx(float(fitted.score([1])[0, 2]), abs=1e-4)


def test_explain_a_user_without_history_is_empty():
    fitted = model().fit(toy_counts())
    empty = fitted.explain(3, 0)
    assert empty.items.size == 0 and empty.score == 0.0 and empty.rest == 0.0


def test_filter_seen_never_returns_a_seen_item():
    counts = toy_counts(seed=9)
    fitted = model(dtype=np.float32).fit(counts)
    users = np.arange(counts.shape[0])
    items, scores = fitted.recommend_batch(users, k=counts.shape[1], filter_seen=True)
    for u in users:
        seen = set(counts[u].indices.tolist())
        got = [i for i in items[u] if i >= 0]
        assert not seen & set(got)
        assert len(got) == counts.shape[1] - len(seen)
    one, _ = fitted.recommend(0, k=5, filter_seen=True)
    assert not set(one.tolist()) & set(counts[0].indices.tolist())
    unfiltered, _ = fitted.recommend(0, k=counts.shape[1], filter_seen=False)
    assert set(counts[0].indices.tolist()) <= set(unfiltered.tolist())


def test_recommend_scores_are_the_factor_products():
    counts = toy_counts(seed=10)
    fitted = model().fit(counts)
    items, scores = fitted.recommend(2, k=4, filter_seen=False)
    expected = fitted.user_factors[2] @ fitted.item_factors.T
    np.testing.assert_allclose(scores, expected[items])
    assert items[0] == int(np.argmax(expected))


def test_similar_items_leaves_the_item_out():
    fitted = model().fit(toy_counts(seed=11))
    items, scores = fitted.similar_items(0, k=5)
    assert 0 not in items.tolist() and items.size == 5
    assert np.all(np.diff(scores) <= 0)


@pytest.mark.parametrize("solver", ["cholesky", "cg"])
def test_same_seed_same_factors_whatever_the_thread_count(solver):
    counts = toy_counts(seed=12, n_users=300, n_items=120, density=0.1)
    runs = [
        ImplicitALS(factors=8, iterations=3, solver=solver, random_state=42, num_threads=t, progress=False).fit(counts)
        for t in (1, 2, 0)
    ]
    for other in runs[1:]:
        assert np.array_equal(runs[0].user_factors, other.user_factors)
        assert np.array_equal(runs[0].item_factors, other.item_factors)
    different = ImplicitALS(factors=8, iterations=3, solver=solver, random_state=43, progress=False).fit(counts)
    assert not np.array_equal(runs[0].user_factors, different.user_factors)


def test_generator_random_state_and_float32_default():
    counts = toy_counts()
    fitted = ImplicitALS(factors=3, iterations=1, random_state=np.random.default_rng(5), progress=False).fit(counts)
    assert fitted.user_factors.dtype == np.float32 and fitted.item_factors.dtype == np.float32
    assert fitted.user_factors.shape == (30, 3) and fitted.item_factors.shape == (20, 3)
    assert len(fitted.loss_history) == 1 and len(fitted.iteration_seconds) == 1


def test_numba_thread_count_is_restored():
    import numba

    before = numba.get_num_threads()
    model(num_threads=1).fit(toy_counts())
    assert numba.get_num_threads() == before


# ---------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "name, value, error",
    [
        ("factors", 0, ValueError),
        ("factors", 2.5, TypeError),
        ("regularization", -1.0, ValueError),
        ("regularization", float("nan"), ValueError),
        ("alpha", -3.0, ValueError),
        ("alpha", "40", TypeError),
        ("scheme", "sqrt", ValueError),
        ("iterations", 0, ValueError),
        ("solver", "lu", ValueError),
        ("cg_steps", 0, ValueError),
        ("num_threads", -1, ValueError),
        ("dtype", np.int32, TypeError),
        ("dtype", "float16", TypeError),
        ("dtype", "nonsense", TypeError),  # numpy cannot read it: once trained silently in float64
        ("progress", "yes", TypeError),
        ("random_state", -1, ValueError),
        ("random_state", "seed", TypeError),
    ],
)
def test_bad_parameters_name_the_argument(name, value, error):
    with pytest.raises(error, match=name):
        model(**{name: value}).fit(toy_counts())


@pytest.mark.parametrize(
    "counts, error",
    [
        (sp.csr_matrix(np.array([[1.0, -2.0], [0.0, 1.0]])), ValueError),
        (sp.csr_matrix(np.array([[1.0, np.nan], [0.0, 1.0]])), ValueError),
        (sp.csr_matrix((3, 4)), ValueError),
        (np.array([1.0, 2.0]), TypeError),
        ([[1, 2], [3, 4]], TypeError),
        ("counts", TypeError),
        (None, TypeError),
    ],
)
def test_bad_counts_are_rejected(counts, error):
    with pytest.raises(error, match="counts"):
        model().fit(counts)


def test_unsolvable_system_suggests_more_regularization():
    counts = sp.csr_matrix(np.array([[1.0, 0, 2], [0, 3, 0], [1, 1, 0], [0, 0, 1]]))
    for dtype in (np.float32, np.float64):
        with pytest.raises(SingularSystemError, match="larger regularization"):
            model(factors=6, regularization=0.0, dtype=dtype).fit(counts)


def test_failed_fit_leaves_the_previous_model_intact():
    good = model().fit(toy_counts())
    before = good.user_factors.copy()
    good.regularization = -1.0
    with pytest.raises(ValueError, match="regularization"):
        good.fit(toy_counts(seed=3))
    assert np.array_equal(good.user_factors, before)
    good.recommend(0)  # still usable


def test_use_before_fit_and_unknown_ids():
    fresh = model()
    for call in (lambda: fresh.recommend(0), lambda: fresh.recommend_batch([0]),
                 lambda: fresh.similar_items(0), lambda: fresh.explain(0, 0), lambda: fresh.score([0])):
        with pytest.raises(NotFittedError, match="fit"):
            call()
    fitted = model().fit(toy_counts())
    with pytest.raises(ValueError, match="user"):
        fitted.recommend(30)
    with pytest.raises(TypeError, match="user"):
        fitted.recommend("alice")
    with pytest.raises(ValueError, match="users"):
        fitted.recommend_batch([0, -1])
    with pytest.raises(ValueError, match="item"):
        fitted.explain(0, 20)
    with pytest.raises(ValueError, match="item"):
        fitted.similar_items(-1)
    with pytest.raises(ValueError, match="k"):
        fitted.recommend(0, k=0)
    with pytest.raises(ValueError, match="k"):
        fitted.explain(0, 0, k=0)


def test_half_sweep_rejects_bad_input():
    counts = toy_counts()
    conf = feedback.confidence(counts)
    Y = np.zeros((20, 3))
    with pytest.raises(TypeError, match="confidence"):
        als_half_sweep(counts.toarray(), Y, 0.1)
    with pytest.raises(ValueError, match="confidence"):
        als_half_sweep(counts * 0.5, Y, 0.1)
    with pytest.raises(ValueError, match="fixed_factors"):
        als_half_sweep(conf, np.zeros((19, 3)), 0.1)
    with pytest.raises(ValueError, match="fixed_factors"):
        als_half_sweep(conf, np.full((20, 3), np.inf), 0.1)
    with pytest.raises(ValueError, match="initial"):
        als_half_sweep(conf, Y, 0.1, solver="cg", initial=np.zeros((30, 4)))
    with pytest.raises(ValueError, match="regularization"):
        als_half_sweep(conf, Y, -0.1)
    with pytest.raises(ValueError, match="user_factors and item_factors"):
        implicit_als_loss(counts, np.zeros((30, 3)), np.zeros((20, 4)), 0.1)


def test_rows_longer_than_one_gather_chunk():
    from recsys_course.models._als_kernels import GATHER_CHUNK, INLINE_MAX

    rng = np.random.default_rng(13)
    n_items = 2 * GATHER_CHUNK + 37
    R = np.zeros((4, n_items))
    R[0] = rng.integers(1, 4, n_items)  # crosses two chunk boundaries
    R[1, :INLINE_MAX] = 1  # the rank-1 path
    R[2, : INLINE_MAX + 1] = 2  # the smallest matmul path
    counts = sp.csr_matrix(R)
    P, C = dense_pc(counts)
    Y = rng.standard_normal((n_items, 5))
    for dtype, atol in ((np.float64, 1e-9), (np.float32, 1e-3)):
        got = als_half_sweep(feedback.confidence(counts, alpha=ALPHA), Y.astype(dtype), LAM)
        np.testing.assert_allclose(got, dense_solve_rows(P, C, Y, LAM), atol=atol)
        assert np.all(got[3] == 0)


def test_teaching_half_sweeps_agree_with_the_kernel():
    from recsys_course.models.als import gram_trick_half_sweep, naive_half_sweep

    counts = toy_counts(seed=14)
    P, C = dense_pc(counts)
    conf = feedback.confidence(counts, alpha=ALPHA)
    Y = np.random.default_rng(4).standard_normal((counts.shape[1], 5))
    reference = dense_solve_rows(P, C, Y, LAM)
    np.testing.assert_allclose(naive_half_sweep(conf, Y, LAM), reference, atol=1e-10)
    np.testing.assert_allclose(gram_trick_half_sweep(conf, Y, LAM), reference, atol=1e-10)
    np.testing.assert_allclose(als_half_sweep(conf, Y, LAM), reference, atol=1e-9)
    with pytest.raises(ValueError, match="fixed_factors"):
        naive_half_sweep(conf, Y[:-1], LAM)
    with pytest.raises(ValueError, match="regularization"):
        gram_trick_half_sweep(conf, Y, -1.0)


# ------------------------------------------------------------------------- figures
def test_als_figures_have_titles_labels_and_reject_bad_input():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from recsys_course import plots

    axes = [
        plots.method_times({"naive": 2.0, "numba": 0.01}, unit="ms per user"),
        *plots.half_sweep_cost([16, 32], [0.1, 0.3], nnz=1000, n_rows=10),
        plots.loss_curves({"cholesky": [3.0, 2.0, 1.5]}),
        plots.explanation_bars(["a", "b"], [0.4, -0.1], 0.2, 0.5),
        plots.sweep_heatmap([[0.1, 0.2], [0.3, 0.05]], [1, 40], [16, 32], baseline=0.1),
        *plots.weighting_comparison({"x": {"NDCG@10": 0.5, "AUC": 0.7}, "y": {"NDCG@10": 0.2, "AUC": 0.6}}),
    ]
    for ax in axes:
        assert ax.get_title() and ax.get_xlabel() and (ax.get_ylabel() or ax.get_yticklabels())
    assert "ms per user" in axes[0].get_xlabel()
    plt.close("all")
    with pytest.raises(ValueError, match="seconds"):
        plots.method_times({"naive": -1.0})
    with pytest.raises(TypeError, match="seconds"):
        plots.method_times([1.0, 2.0])
    with pytest.raises(ValueError, match="same length"):
        plots.half_sweep_cost([16, 32], [0.1], nnz=10, n_rows=2)
    with pytest.raises(ValueError, match="shape"):
        plots.sweep_heatmap([[0.1, 0.2]], [1, 40], [16, 32])
    with pytest.raises(ValueError, match="same length"):
        plots.explanation_bars(["a"], [0.1, 0.2], 0.0, 0.3)


# ------------------------------------------------- frequency-scaled regularisation
def dense_solve_rows_per_row(P, C, fixed, lams):
    """The dense reference with lambda_u per row: (Y' C^u Y + lambda_u I) x_u = Y' C^u p(u)."""
    f = fixed.shape[1]
    out = np.empty((P.shape[0], f))
    for u in range(P.shape[0]):
        A = fixed.T @ (C[u][:, None] * fixed) + lams[u] * np.eye(f)
        out[u] = np.linalg.solve(A, fixed.T @ (C[u] * P[u]))
    return out


@pytest.mark.parametrize("offset, exponent", [(0.0, 1.0), (2.5, 1.0), (1.0, 0.5)])
@pytest.mark.parametrize("solver", ["cholesky", "cg"])
def test_frequency_scaled_regularization_matches_the_dense_reference(solver, offset, exponent):
    counts = toy_counts(seed=8)
    P, C = dense_pc(counts)
    n_u = (P > 0).sum(axis=1)  # observed items per user
    n_i = (P > 0).sum(axis=0)  # observed users per item
    lam_u = LAM * (n_u + offset) ** exponent
    lam_i = LAM * (n_i + offset) ** exponent
    rng = np.random.default_rng(0)
    X, Y = model()._initial_factors(*counts.shape, 4, np.dtype(np.float64), rng)
    extra = dict(cg_steps=40) if solver == "cg" else {}
    for iterations in (1, 2):
        Y = dense_solve_rows_per_row(P.T, C.T, X, lam_i)
        X = dense_solve_rows_per_row(P, C, Y, lam_u)
        # empty rows (user 3, item 7) get zero factors in the model; the reference gives zero too
        fitted = model(iterations=iterations, solver=solver, regularization_scaling="frequency",
                       regularization_offset=offset, regularization_exponent=exponent, **extra).fit(counts)
        np.testing.assert_allclose(fitted.item_factors, Y, atol=1e-6, rtol=0)
        np.testing.assert_allclose(fitted.user_factors, X, atol=1e-6, rtol=0)
        penalty = float(lam_u @ np.sum(X ** 2, axis=1) + lam_i @ np.sum(Y ** 2, axis=1))
        dense = float(np.sum(C * (P - X @ Y.T) ** 2)) + penalty
        assert fitted.loss_history[-1] == pytest.approx(dense, rel=1e-9)
        assert implicit_als_loss(counts, X, Y, LAM, alpha=ALPHA, regularization_scaling="frequency",
                                 regularization_offset=offset,
                                 regularization_exponent=exponent) == pytest.approx(dense, rel=1e-12)


def test_frequency_scaling_changes_the_answer_and_explain_uses_the_row_lambda():
    counts = toy_counts(seed=9)
    plain = model(iterations=3).fit(counts)
    scaled = model(iterations=3, regularization_scaling="frequency").fit(counts)
    assert np.abs(plain.user_factors - scaled.user_factors).max() > 1e-3
    explanation = scaled.explain(0, 5)
    assert explanation.score == pytest.approx(float(scaled.user_factors[0] @ scaled.item_factors[5]), abs=1e-9)
    assert "regularization_scaling='frequency'" in repr(scaled)
    assert "regularization_scaling" not in repr(plain)  # the default repr is unchanged


@pytest.mark.parametrize("solver", ["cholesky", "cg"])
def test_default_scaling_is_bit_identical_to_the_plain_model(solver):
    counts = toy_counts(seed=10)
    for dtype in (np.float32, np.float64):
        a = model(solver=solver, dtype=dtype).fit(counts)
        b = model(solver=solver, dtype=dtype, regularization_scaling="none", regularization_offset=7.0,
                  regularization_exponent=3.0).fit(counts)  # offset and exponent unused without scaling
        assert np.array_equal(a.user_factors, b.user_factors)
        assert np.array_equal(a.item_factors, b.item_factors)
        assert a.loss_history == b.loss_history


@pytest.mark.parametrize(
    "name, value, error",
    [
        ("regularization_scaling", "zhou", ValueError),
        ("regularization_scaling", None, ValueError),
        ("regularization_offset", -1.0, ValueError),
        ("regularization_offset", "2", TypeError),
        ("regularization_exponent", -0.5, ValueError),
        ("regularization_exponent", float("inf"), ValueError),
    ],
)
def test_bad_regularization_scaling_names_the_argument(name, value, error):
    with pytest.raises(error, match=name):
        model(**{name: value}).fit(toy_counts())


def test_loss_function_scores_the_log_scheme_the_model_minimises():
    # implicit_als_loss(scheme="log") once used feedback's default epsilon (1e-8) while the model
    # uses epsilon = 1: the function then scored a different objective from the model's loss_history
    counts = toy_counts(seed=8)
    fitted = model(scheme="log", alpha=3.0, iterations=2).fit(counts)
    R = counts.toarray()
    P, C = (R > 0).astype(np.float64), 1.0 + 3.0 * np.log1p(R)
    expected = dense_loss(P, C, fitted.user_factors, fitted.item_factors, LAM)
    assert fitted.loss_history[-1] == pytest.approx(expected, rel=1e-9)
    got = implicit_als_loss(counts, fitted.user_factors, fitted.item_factors, LAM, alpha=3.0, scheme="log")
    assert got == pytest.approx(expected, rel=1e-9)
