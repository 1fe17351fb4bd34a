"""The float32 fast paths of the ALS kernels against dense float64 references.

float32 factors take their own kernels (``solve_rows_cholesky_f32``: the upper triangle built by
BLAS sgemm in column bands, a right-looking Cholesky with explicit vector updates); float64 keeps
``solve_rows_cholesky_exact``, the bit-for-bit reference.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recsys_course.models import ImplicitALS
from recsys_course.models import _als_kernels as K


def _systems(row_sizes, f, n_cols, seed):
    """CSR rows of the given sizes over n_cols columns, with weights, targets and factors."""
    rng = np.random.default_rng(seed)
    indptr = np.concatenate([[0], np.cumsum(row_sizes)]).astype(np.int64)
    indices = np.concatenate([np.sort(rng.choice(n_cols, n, replace=False)) for n in row_sizes]
                             + [np.zeros(0, dtype=np.int64)]).astype(np.int32)
    weights = rng.uniform(0.0, 20.0, indices.size)
    targets = 1.0 + weights
    Y = rng.standard_normal((n_cols, f)) / np.sqrt(f)
    reg = rng.uniform(0.05, 1.0, len(row_sizes))  # a different lambda per row
    return indptr, indices, weights, targets, Y, reg


def _dense_solution(indptr, indices, weights, targets, Y, reg):
    base = Y.T @ Y
    out = np.zeros((indptr.size - 1, Y.shape[1]))
    for u in range(indptr.size - 1):
        s = slice(indptr[u], indptr[u + 1])
        if s.start == s.stop:
            continue
        Yu = Y[indices[s]]
        A = base + reg[u] * np.eye(Y.shape[1]) + Yu.T @ (weights[s][:, None] * Yu)
        out[u] = np.linalg.solve(A, Yu.T @ targets[s])
    return out


def _run(kernel, systems, dtype, n_blocks=3):
    indptr, indices, weights, targets, Y, reg = systems
    Yd = np.ascontiguousarray(Y, dtype=dtype)
    out = np.full((indptr.size - 1, Y.shape[1]), 7.0, dtype=dtype)  # rows without entries must be zeroed
    status = np.full(indptr.size - 1, 9, dtype=np.int8)
    blocks = K.row_blocks(indptr, 4.0, n_blocks)
    kernel(indptr, indices, weights.astype(dtype), targets.astype(dtype), Yd, np.ascontiguousarray(Yd.T @ Yd),
           reg.astype(dtype), out, status, blocks, float(np.finfo(dtype).eps))
    return out, status


ROW_SIZES = [0, 1, K.INLINE_MAX, K.INLINE_MAX + 1, K.GATHER_CHUNK_F32 - 1, K.GATHER_CHUNK_F32,
             K.GATHER_CHUNK_F32 + 1, 2 * K.GATHER_CHUNK_F32 + 5, 0, 37]


@pytest.mark.parametrize("f", [1, 3, 4, 7, 16, 17, 64, 67])
def test_float32_cholesky_kernel_matches_the_dense_reference(f):
    systems = _systems(ROW_SIZES, f, 3 * K.GATHER_CHUNK_F32, seed=f)
    got, status = _run(K.solve_rows_cholesky_f32, systems, np.float32)
    want = _dense_solution(*systems)
    assert np.all(status == 0)
    scale = np.abs(want).max(axis=1, keepdims=True) + 1e-12  # each row relative to its own size
    np.testing.assert_allclose(got / scale, want / scale, atol=2e-4)
    assert np.all(got[[0, 8]] == 0)


def test_dispatch_float32_fast_path_float64_exact_path():
    systems = _systems(ROW_SIZES, 9, 3 * K.GATHER_CHUNK_F32, seed=5)
    fast, _ = _run(K.solve_rows_cholesky_f32, systems, np.float32)
    via32, _ = _run(K.solve_rows_cholesky, systems, np.float32)
    assert np.array_equal(fast, via32)
    exact, _ = _run(K.solve_rows_cholesky_exact, systems, np.float64)
    via64, _ = _run(K.solve_rows_cholesky, systems, np.float64)
    assert np.array_equal(exact, via64)
    np.testing.assert_allclose(exact, _dense_solution(*systems), rtol=1e-9, atol=1e-12)


def test_float32_without_blas_sgemm_takes_the_exact_kernel(monkeypatch):
    """If scipy's BLAS sgemm cannot be found, float32 must still solve (exactly)."""
    systems = _systems(ROW_SIZES, 9, 3 * K.GATHER_CHUNK_F32, seed=6)
    exact, _ = _run(K.solve_rows_cholesky_exact, systems, np.float32)
    fast, _ = _run(K.solve_rows_cholesky_f32, systems, np.float32)
    monkeypatch.setattr(K, "_sgemm", None)
    fallback, status = _run(K.solve_rows_cholesky, systems, np.float32)
    assert np.all(status == 0)
    assert np.array_equal(fallback, exact)
    assert not np.array_equal(fallback, fast)  # the other kernel really ran


def test_float32_cholesky_results_do_not_depend_on_the_blocks():
    systems = _systems([3, 80, 0, 150, 12, 64, 65, 1, 200, 33] * 4, 16, 300, seed=2)
    first, _ = _run(K.solve_rows_cholesky_f32, systems, np.float32, n_blocks=1)
    for n_blocks in (2, 5, 40):
        other, _ = _run(K.solve_rows_cholesky_f32, systems, np.float32, n_blocks=n_blocks)
        assert np.array_equal(first, other)


@pytest.mark.parametrize("f", [1, 2, 3, 4, 5, 8, 9, 12, 16, 64, 67])
def test_upper_cholesky_solves_like_numpy(f):
    rng = np.random.default_rng(f)
    M = rng.standard_normal((2 * f + 3, f))
    A = M.T @ M + 0.1 * np.eye(f)
    b = rng.standard_normal(f)
    for dtype, rtol in ((np.float64, 1e-9), (np.float32, 2e-3)):
        a = A.astype(dtype)
        a[np.tril_indices(f, -1)] = np.nan  # only the upper triangle may be read
        x = np.empty(f, dtype=dtype)
        diag = np.empty(f, dtype=dtype)
        assert K.cholesky_solve_upper(a, diag, b.astype(dtype), x, float(np.finfo(dtype).eps)) == 0
        want = np.linalg.solve(A, b)
        assert np.abs(x - want).max() <= rtol * np.abs(want).max() * max(1.0, np.linalg.cond(A) ** 0.5)
        np.testing.assert_array_equal(diag, A.astype(dtype).diagonal())
        U = np.triu(a)
        np.testing.assert_allclose(U.T @ U, A, rtol=rtol, atol=rtol * np.abs(A).max())


def test_upper_cholesky_reports_a_matrix_that_is_not_positive_definite():
    f = 6
    A = np.eye(f)
    A[4, 4] = -1.0
    for bad in (A, np.full((f, f), np.nan)):
        a = bad.copy()
        assert K.cholesky_solve_upper(a, np.empty(f), np.ones(f), np.empty(f), 1e-12) == 1
    singular = np.ones((f, f))  # rank one: the second pivot is rounding noise
    assert K.cholesky_solve_upper(singular.copy(), np.empty(f), np.ones(f), np.empty(f), 1e-7) == 1
    for f in (9, 64):  # a pivot that falls to tol x its diagonal after many vector updates
        rng = np.random.default_rng(f)
        M = rng.standard_normal((f // 2, f))
        A = (M.T @ M).astype(np.float32)  # rank f // 2: pivot f // 2 + 1 is rounding noise
        assert K.cholesky_solve_upper(A.copy(), np.empty(f, np.float32), np.ones(f, np.float32),
                                      np.empty(f, np.float32), 1e-4) == 1


@pytest.mark.parametrize("threads", [1, 2])
def test_float32_cholesky_model_same_factors_for_any_thread_count(threads):
    rng = np.random.default_rng(3)
    R = rng.poisson(0.3, size=(200, 150)) * (rng.random((200, 150)) < 0.6)
    R[:5] = rng.integers(1, 3, size=(5, 150))  # long rows: several gather chunks
    counts = sp.csr_matrix(R.astype(np.float64))
    kwargs = dict(factors=12, iterations=2, solver="cholesky", dtype=np.float32, random_state=1, progress=False)
    one = ImplicitALS(num_threads=1, **kwargs).fit(counts)
    other = ImplicitALS(num_threads=threads, **kwargs).fit(counts)
    assert np.array_equal(one.user_factors, other.user_factors)
    assert np.array_equal(one.item_factors, other.item_factors)
    exact = ImplicitALS(num_threads=threads, **{**kwargs, "dtype": np.float64}).fit(counts)
    np.testing.assert_allclose(other.user_factors, exact.user_factors, atol=2e-3 * np.abs(exact.user_factors).max())
