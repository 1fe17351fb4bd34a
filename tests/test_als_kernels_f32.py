"""The float32 fast paths of the ALS kernels against dense float64 references.

float32 factors take their own kernel (``solve_rows_cholesky_f32``: the system padded to a multiple
of LANES and augmented by its right-hand side, the upper triangle built by register tiles, a
panelled right-looking Cholesky); float64 keeps ``solve_rows_cholesky_exact``, the bit-for-bit
reference.
"""

from __future__ import annotations

import os
import subprocess
import sys

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


#: empty rows, rows shorter than a tile's four rows, and one, two and three gather chunks
ROW_SIZES = [0, 1, 2, 5, K.GATHER_CHUNK_F32 - 1, K.GATHER_CHUNK_F32,
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


@pytest.mark.parametrize("solver", ["cholesky", "cg"])
def test_float32_results_do_not_depend_on_the_blocks(solver):
    systems = _systems([3, 80, 0, 150, 12, 64, 65, 1, 200, 33] * 4, 16, 300, seed=2)
    run = (lambda n: _run(K.solve_rows_cholesky_f32, systems, np.float32, n_blocks=n)) if solver == "cholesky" \
        else (lambda n: _run_cg(K.solve_rows_cg_f32, systems, np.float32, n_blocks=n))
    first, _ = run(1)
    for n_blocks in (2, 5, 40):
        assert np.array_equal(first, run(n_blocks)[0])


def _augmented(A, b, dtype, lower=np.nan):
    """[A b 0] padded by an identity block to n = f rounded up to LANES, its strict lower triangle
    set to ``lower`` (only the upper one may be read)."""
    f = A.shape[0]
    n = K.padded(f)
    a = np.zeros((n, n + K.LANES), dtype=dtype)
    a[:f, :f] = A
    a[f:n, f:n] = np.eye(n - f)
    a[:n, :n][np.tril_indices(n, -1)] = lower
    a[:f, n] = b
    return a


@pytest.mark.parametrize("f", [1, 2, 3, 4, 5, 8, 9, 12, 16, 17, 24, 25, 64, 67])
def test_augmented_cholesky_solves_like_numpy(f):
    rng = np.random.default_rng(f)
    M = rng.standard_normal((2 * f + 3, f))
    A = M.T @ M + 0.1 * np.eye(f)
    b = rng.standard_normal(f)
    n = K.padded(f)
    for dtype, rtol in ((np.float64, 1e-9), (np.float32, 2e-3)):
        a = _augmented(A, b, dtype)
        x = np.full(n, np.nan, dtype=dtype)
        diag = np.empty(n, dtype=dtype)
        assert K.cholesky_solve_augmented(a, diag, x, float(np.finfo(dtype).eps)) == 0
        want = np.linalg.solve(A, b)
        assert np.abs(x[:f] - want).max() <= rtol * np.abs(want).max() * max(1.0, np.linalg.cond(A) ** 0.5)
        assert np.all(x[f:] == 0)  # the identity padding leaves its unknowns at zero
        np.testing.assert_array_equal(diag[:f], A.astype(dtype).diagonal())
        U = np.triu(a[:f, :f])
        np.testing.assert_allclose(U.T @ U, A, rtol=rtol, atol=rtol * np.abs(A).max())
        z = np.linalg.solve(U.T.astype(np.float64), b)  # column n holds U'^-1 b
        np.testing.assert_allclose(a[:f, n], z, rtol=rtol, atol=rtol * np.abs(z).max())


def test_augmented_cholesky_rejects_a_matrix_that_is_not_positive_definite():
    f = 6
    A = np.eye(f)
    A[4, 4] = -1.0
    for bad in (A, np.full((f, f), np.nan)):
        assert K.cholesky_solve_augmented(_augmented(bad, np.ones(f), np.float64), np.empty(8), np.empty(8), 1e-12) == 1
    singular = np.ones((f, f))  # rank one: the second pivot is rounding noise
    assert K.cholesky_solve_augmented(_augmented(singular, np.ones(f), np.float64), np.empty(8), np.empty(8), 1e-7) == 1
    for f in (9, 64):  # a pivot that falls to tol x its diagonal after many tile updates
        rng = np.random.default_rng(f)
        M = rng.standard_normal((f // 2, f))
        A = (M.T @ M).astype(np.float32)  # rank f // 2: pivot f // 2 + 1 is rounding noise
        n = K.padded(f)
        a = _augmented(A, np.ones(f), np.float32)
        assert K.cholesky_solve_augmented(a, np.empty(n, np.float32), np.empty(n, np.float32), 1e-4) == 1


@pytest.mark.parametrize("f", [8, 9, 16, 24, 40, 64, 67, 128])
@pytest.mark.parametrize("m", [0, 1, 3, 64])
def test_register_tiles_add_the_upper_triangle_of_the_gram_matrix(f, m):
    """gram_upper_add adds g'g to every entry of the upper triangle, sums over t in order, and writes
    nothing left of any row's diagonal rounded down to LANES."""
    rng = np.random.default_rng(f + m)
    n = K.padded(f)
    g = np.zeros((max(m, 1) + 2, n), dtype=np.float32)
    g[:, :f] = rng.standard_normal((g.shape[0], f))
    a = rng.standard_normal((n, n + K.LANES)).astype(np.float32)
    before = a.copy()
    K.gram_upper_add(a, g, m, n)
    G = g[:m].astype(np.float64)
    want = before[:, :n] + G.T @ G
    rows, cols = np.triu_indices(n)
    np.testing.assert_allclose(a[rows, cols], want[rows, cols], rtol=1e-5, atol=1e-5 * max(m, 1))
    for i in range(n):
        untouched = i - i % K.LANES
        assert np.array_equal(a[i, :untouched], before[i, :untouched])
    assert np.array_equal(a[:, n:], before[:, n:])  # columns from ``width`` on are never written
    if m >= 3:  # entry (0, 1) in the tile's order: ((a + g0 g0') + g1 g1') + g2 g2' in float32 fused steps
        acc = np.float32(before[0, 1])
        for t in range(m):
            acc = np.float32(np.float64(g[t, 0]) * np.float64(g[t, 1]) + np.float64(acc))
        assert a[0, 1] == acc


def _run_cg(kernel, systems, dtype, n_blocks=3, steps=3, seed=0):
    indptr, indices, weights, targets, Y, reg = systems
    Yd = np.ascontiguousarray(Y, dtype=dtype)
    start = np.random.default_rng(seed).standard_normal((indptr.size - 1, Y.shape[1])) / np.sqrt(Y.shape[1])
    out = start.astype(dtype)  # warm start; rows without entries must be zeroed
    status = np.full(indptr.size - 1, 9, dtype=np.int8)
    kernel(indptr, indices, weights.astype(dtype), targets.astype(dtype), Yd, np.ascontiguousarray(Yd.T @ Yd),
           reg.astype(dtype), out, status, K.row_blocks(indptr, 4.0, n_blocks), steps)
    return out, status


@pytest.mark.parametrize("f", [1, 3, 16, 64, 67])
def test_float32_cg_takes_the_steps_of_the_grouped_kernel(f):
    """Rows one at a time (float32) and groups of CG_GROUP rows (the float64 reference) are the same
    algorithm: from the same start they end at the same point up to float32 rounding, and enough
    steps reach the exact solution."""
    sizes = ROW_SIZES * 4  # more than one group of rows
    systems = _systems(sizes, f, 3 * K.GATHER_CHUNK_F32, seed=f)
    rows, status = _run_cg(K.solve_rows_cg_f32, systems, np.float32)
    assert np.all(status == 0)
    grouped, _ = _run_cg(K.solve_rows_cg_groups, systems, np.float64)
    scale = np.abs(grouped).max(axis=1, keepdims=True) + 1e-12
    np.testing.assert_allclose(rows / scale, grouped / scale, atol=1e-3)
    assert np.all(rows[np.diff(systems[0]) == 0] == 0)
    converged, _ = _run_cg(K.solve_rows_cg_f32, systems, np.float32, steps=4 * f)
    want = _dense_solution(*systems)
    scale = np.abs(want).max(axis=1, keepdims=True) + 1e-12
    np.testing.assert_allclose(converged / scale, want / scale, atol=2e-3)
    if f > 3:  # CG solves f unknowns in f steps: three are not enough above that
        assert not np.allclose(rows / scale, want / scale, atol=2e-3)


def test_cg_dispatch_float32_rows_float64_groups():
    systems = _systems([3, 80, 0, 150, 12, 64, 65, 1, 200, 33] * 4, 16, 300, seed=4)
    assert np.array_equal(_run_cg(K.solve_rows_cg, systems, np.float32)[0],
                          _run_cg(K.solve_rows_cg_f32, systems, np.float32)[0])
    assert np.array_equal(_run_cg(K.solve_rows_cg, systems, np.float64)[0],
                          _run_cg(K.solve_rows_cg_groups, systems, np.float64)[0])


def test_float32_cg_reports_a_curvature_that_is_not_positive():
    systems = list(_systems([5, 7, 0, 9], 8, 40, seed=9))
    systems[2] = -np.abs(systems[2]) * 50  # negative weights: A is not positive definite
    systems[5] = np.zeros_like(systems[5])
    out, status = _run_cg(K.solve_rows_cg_f32, systems, np.float32)
    assert status[2] == 0 and np.all(out[2] == 0)
    assert np.all(status[[0, 1, 3]] == 1)


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


def _problem_with_nan_checks(f, seed=0, row_sizes=(0, 1, 3, 5, 40, 64, 65, 150, 7, 0, 90)):
    rng = np.random.default_rng(seed)
    n_cols = 200
    indptr = np.concatenate([[0], np.cumsum(row_sizes)]).astype(np.int64)
    indices = np.concatenate([np.sort(rng.choice(n_cols, n, replace=False)) for n in row_sizes]).astype(np.int32)
    weights = rng.uniform(0.0, 20.0, indices.size).astype(np.float32)
    targets = (1.0 + weights).astype(np.float32)
    Y = (rng.standard_normal((n_cols, f)) / np.sqrt(f)).astype(np.float32)
    reg = np.full(len(row_sizes), 0.1, dtype=np.float32)
    return indptr, indices, weights, targets, Y, reg


def _solve_f32(problem, base):
    indptr, indices, weights, targets, Y, reg = problem
    out = np.full((indptr.size - 1, Y.shape[1]), 7.0, dtype=np.float32)
    status = np.full(indptr.size - 1, 9, dtype=np.int8)
    K.solve_rows_cholesky_f32(indptr, indices, weights, targets, Y, base, reg, out, status,
                              K.row_blocks(indptr, 4.0, 3), float(np.finfo(np.float32).eps))
    return out, status


@pytest.mark.parametrize("f", [5, 16, 17, 64])
def test_only_the_upper_triangle_of_the_matrix_is_read(f):
    """NaN in the strictly lower triangle of Y'Y changes nothing; NaN in the upper one does."""
    problem = _problem_with_nan_checks(f, seed=f)
    Y = problem[4]
    base = np.ascontiguousarray(Y.T @ Y)
    want, status = _solve_f32(problem, base)
    assert np.all(status == 0) and np.all(np.isfinite(want))
    lower = base.copy()
    lower[np.tril_indices(f, -1)] = np.nan
    got, status = _solve_f32(problem, lower)
    assert np.all(status == 0)
    assert np.array_equal(got, want)
    upper = base.copy()
    upper[np.triu_indices(f, 1)] = np.nan
    _, status = _solve_f32(problem, upper)
    assert np.all(status[np.diff(problem[0]) > 0] != 0)  # the test can fail: the upper part is used


@pytest.mark.slow
def test_cached_float32_kernel_is_loaded_not_compiled_in_a_second_process(tmp_path):
    """The kernel holds no address of this process (its vector code is generated inline, the
    prefetch is an LLVM intrinsic), so numba caches it: a second process loads it (no compile) and
    gets the same factors."""
    script = (
        "import numpy as np, scipy.sparse as sp\n"
        "from recsys_course.models import ImplicitALS\n"
        "from recsys_course.models import _als_kernels as K\n"
        "rng = np.random.default_rng(0)\n"
        "counts = sp.csr_matrix(rng.poisson(0.8, (120, 90)).astype(float))\n"
        "m = ImplicitALS(factors=16, iterations=2, solver='cholesky', dtype=np.float32, progress=False,\n"
        "                random_state=0, num_threads=1).fit(counts)\n"
        "s = K.solve_rows_cholesky_f32.stats\n"
        "print(sum(s.cache_hits.values()), sum(s.cache_misses.values()), repr(float(np.abs(m.user_factors).sum())))\n"
    )
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    runs = [subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
            for _ in range(2)]
    (hits1, misses1, total1), (hits2, misses2, total2) = (r.stdout.split() for r in runs)
    assert int(misses1) >= 1 and int(hits1) == 0
    assert int(hits2) >= 1 and int(misses2) == 0
    assert total1 == total2
