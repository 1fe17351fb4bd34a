"""ImplicitALS.fit's set-up (issue 11, targets 2 and 3): validate once, no confidence copy,
the solvers' arrays built straight from the counts, and the same answers as before."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recsys_course import feedback
from recsys_course.models import ImplicitALS
from recsys_course.models import _als_prepare as P
from recsys_course.models import als as A


@pytest.fixture(scope="module")
def counts():
    rng = np.random.default_rng(4)
    dense = rng.poisson(0.4, size=(70, 45)) * (rng.random((70, 45)) < 0.4)
    dense[np.arange(70), np.arange(70) % 45] += 2  # every user has an item
    return sp.csr_matrix(dense.astype(np.float64))


def _model(**kw):
    base = dict(factors=6, iterations=3, random_state=1, progress=False, regularization=0.1)
    return ImplicitALS(**{**base, **kw})


def _array_bytes(model, skip=("_train", "user_factors", "item_factors")):
    total = 0
    for name, value in vars(model).items():
        if name in skip:
            continue
        if isinstance(value, np.ndarray):
            total += value.nbytes
        elif sp.issparse(value):
            total += value.data.nbytes + value.indices.nbytes + value.indptr.nbytes
    return total


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fit_keeps_no_confidence_copy(counts, dtype):
    model = _model(dtype=dtype).fit(counts)
    # besides the training counts and the factors, only per-row arrays at most (no per-entry copy)
    assert _array_bytes(model) <= 8 * (counts.shape[0] + counts.shape[1])
    assert not hasattr(model, "_conf")
    assert model._train.nnz == counts.nnz


def test_canonical_counts_are_kept_without_a_copy_and_left_unchanged(counts):
    before = counts.copy()
    model = _model().fit(counts)
    assert model._train is counts  # already canonical float64 CSR: validated, not copied
    assert (counts != before).nnz == 0 and counts.dtype == np.float64


@pytest.mark.parametrize("variant", ["explicit zero", "unsorted", "int64", "coo", "csr_array", "float32"])
def test_other_layouts_are_copied_cleaned_and_give_the_same_model(counts, variant):
    if variant == "explicit zero":
        coo = counts.tocoo()
        other = sp.csr_matrix((np.r_[coo.data, 0.0], (np.r_[coo.row, 0], np.r_[coo.col, 44])), shape=counts.shape)
        assert other.nnz == counts.nnz + 1 or 0 in other.data
    elif variant == "unsorted":
        other = counts.copy()
        row = slice(other.indptr[0], other.indptr[1])
        other.indices[row] = other.indices[row][::-1].copy()
        other.data[row] = other.data[row][::-1].copy()
        other.has_sorted_indices = False
    elif variant == "int64":
        other = counts.astype(np.int64)
    elif variant == "coo":
        other = counts.tocoo()
    elif variant == "csr_array":
        other = sp.csr_array(counts)
    else:
        other = counts.astype(np.float32)
    expected = _model(dtype=np.float64).fit(counts)
    model = _model(dtype=np.float64).fit(other)
    assert model._train is not other
    assert model._train.has_canonical_format and model._train.nnz == counts.nnz
    np.testing.assert_array_equal(model.user_factors, expected.user_factors)
    np.testing.assert_array_equal(model.item_factors, expected.item_factors)


@pytest.mark.parametrize("bad, error, words", [
    (np.nan, ValueError, "finite"),
    (np.inf, ValueError, "finite"),
    (-1.0, ValueError, ">= 0"),
])
def test_bad_values_in_a_canonical_looking_matrix_are_refused(counts, bad, error, words):
    broken = counts.copy()
    broken.data[3] = bad
    with pytest.raises(error, match="counts") as caught:
        _model().fit(broken)
    assert words in str(caught.value)


def test_wrong_types_are_refused_naming_counts():
    with pytest.raises(TypeError, match="counts"):
        _model().fit("not a matrix")
    with pytest.raises(ValueError, match="counts"):
        _model().fit(sp.csr_matrix((3, 4)))  # no positive count


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scheme", ["linear", "log"])
def test_confidence_weights_match_the_confidence_matrix(counts, dtype, scheme):
    conf = feedback.confidence(counts, alpha=3.7, scheme=scheme, epsilon=1.0)
    w = np.empty(counts.nnz, dtype=dtype)
    t = np.empty(counts.nnz, dtype=dtype)
    if scheme == "linear":
        largest, derivable = P.confidence_weights(counts.data, 3.7, True, w, t)
    else:
        largest, derivable = P.confidence_weights(conf.data.copy(), 0.0, False, w, t)
    np.testing.assert_array_equal(w, (conf.data - 1.0).astype(dtype))
    np.testing.assert_array_equal(t, conf.data.astype(dtype))
    assert largest == conf.data.max()
    assert derivable == bool(np.all(t.astype(np.float64) == w.astype(np.float64) + 1.0))


def test_targets_are_derivable_for_counts_and_not_for_rounded_fractions():
    values = np.array([1.0, 2.0, 7.0, 1000.0])
    w, t = np.empty(4, np.float32), np.empty(4, np.float32)
    assert P.confidence_weights(values, 40.0, True, w, t)[1]  # integers: w and c exact in float32
    assert not P.confidence_weights(np.array([0.1, 1e-5]), 0.3, True, w[:2], t[:2])[1]
    w64, t64 = np.empty(2), np.empty(2)
    assert P.confidence_weights(np.array([0.1, 1e-5]), 0.3, True, w64, t64)[1]  # float64: c - 1 is exact


@pytest.mark.parametrize("derive", [False, True])
def test_transpose_matches_scipy(counts, derive):
    indptr = counts.indptr.astype(np.int64)
    w = counts.data * 2.0
    t = w + 1.0 if derive else counts.data + 0.5  # derive: targets recomputed as w + 1
    out = A._item_side_arrays(indptr, counts.indices, w, t, *counts.shape, derive=derive)
    expected = sp.csr_matrix((np.arange(counts.nnz, dtype=np.float64), counts.indices, counts.indptr),
                             shape=counts.shape).T.tocsr()
    order = expected.data.astype(np.int64)  # which user-side entry lands where
    np.testing.assert_array_equal(out[0], expected.indptr)
    np.testing.assert_array_equal(out[1], expected.indices)
    np.testing.assert_array_equal(out[2], w[order])
    np.testing.assert_array_equal(out[3], t[order])


@pytest.mark.parametrize("scheme", ["linear", "log"])
def test_loss_in_pieces_equals_the_loss_in_one_piece(counts, scheme, monkeypatch):
    whole = _model(scheme=scheme, alpha=5.0).fit(counts).loss_history
    monkeypatch.setattr(A, "LOSS_CHUNK", 7)  # many pieces, rows cut anywhere
    pieces = _model(scheme=scheme, alpha=5.0).fit(counts).loss_history
    assert pieces == whole
    # and it is the objective itself
    model = _model(scheme=scheme, alpha=5.0).fit(counts)
    direct = A.implicit_als_loss(counts, model.user_factors.astype(np.float64),
                                 model.item_factors.astype(np.float64), 0.1, alpha=5.0, scheme=scheme)
    assert model.loss_history[-1] == pytest.approx(direct, rel=1e-9)


@pytest.mark.parametrize("scheme", ["linear", "log"])
def test_explain_reads_confidence_from_the_counts(counts, scheme):
    model = _model(scheme=scheme, alpha=5.0, solver="cholesky", dtype=np.float64).fit(counts)
    user = 3
    conf = feedback.confidence(counts, alpha=5.0, scheme=scheme, epsilon=1.0)
    row = slice(conf.indptr[user], conf.indptr[user + 1])
    Y = model.item_factors
    Yu = Y[conf.indices[row]]
    c = conf.data[row]
    A_u = Y.T @ Y + (Yu * (c - 1.0)[:, None]).T @ Yu + 0.1 * np.eye(Y.shape[1])
    expected = c @ (Yu @ np.linalg.solve(A_u, Y[7]))
    explanation = model.explain(user, 7, k=2)
    assert explanation.score == pytest.approx(expected, rel=1e-10)
    assert explanation.score == pytest.approx(model.score([user])[0, 7], rel=1e-8)


@pytest.mark.parametrize("threads", [1, 2])
def test_drawing_beside_the_transpose_gives_the_same_factors(counts, threads):
    one = _model(num_threads=1, iterations=1).fit(counts)
    other = _model(num_threads=threads, iterations=1).fit(counts)
    np.testing.assert_array_equal(one.user_factors, other.user_factors)
    X, Y = _model()._initial_factors(70, 45, 6, np.dtype(np.float32), np.random.default_rng(1))
    rng = np.random.default_rng(1)
    scale = 1.0 / np.sqrt(6)
    np.testing.assert_array_equal(X, (rng.standard_normal((70, 6)) * scale).astype(np.float32))
    np.testing.assert_array_equal(Y, (rng.standard_normal((45, 6)) * scale).astype(np.float32))


def test_overflowing_confidence_is_still_refused(counts):
    with pytest.raises(ValueError, match="alpha"):
        _model(alpha=1e300, dtype=np.float32).fit(counts)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("alpha", [40.0, 0.37])
def test_one_pass_build_equals_the_two_kernels(counts, dtype, alpha):
    values = counts.data * 1e-9 if alpha != 40.0 else counts.data  # tiny w: 1 + w rounds to 1 in float32
    indptr = counts.indptr.astype(np.int64)
    w, t = np.empty(counts.nnz, dtype), np.empty(counts.nnz, dtype)
    largest, derive = P.confidence_weights(values, alpha, True, w, t)
    expected = A._item_side_arrays(indptr, counts.indices, w, t, *counts.shape, derive=derive)
    w1, t1 = np.empty(counts.nnz, dtype), np.empty(counts.nnz, dtype)
    out = A._empty_item_side(counts.nnz, *counts.shape, np.dtype(dtype))
    assert P.build_sides(values, alpha, True, indptr, counts.indices, w1, t1, *out) == (largest, derive)
    np.testing.assert_array_equal(w1, w)
    np.testing.assert_array_equal(t1, t)
    for got, want in zip(out, expected):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    if dtype == np.float32 and alpha != 40.0:
        assert not derive  # the scattered-targets branch was the one tested
