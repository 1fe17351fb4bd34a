"""The float32 Cholesky kernel's BLAS link, triangle and cache.

``solve_rows_cholesky_f32`` calls scipy's public BLAS sgemm through an LLVM symbol registered at
import (so the cached machine code holds a name, not an address), builds only the upper triangle
that ``cholesky_solve_upper`` reads, and uses explicit vector intrinsics. These tests check the
parts the dense-reference tests in tests/test_als_kernels_f32.py cannot see.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from recsys_course.models import _als_kernels as K


def _problem(f, seed=0, row_sizes=(0, 1, 3, 5, 40, 64, 65, 150, 7, 0, 90)):
    rng = np.random.default_rng(seed)
    n_cols = 200
    indptr = np.concatenate([[0], np.cumsum(row_sizes)]).astype(np.int64)
    indices = np.concatenate([np.sort(rng.choice(n_cols, n, replace=False)) for n in row_sizes]).astype(np.int32)
    weights = rng.uniform(0.0, 20.0, indices.size).astype(np.float32)
    targets = (1.0 + weights).astype(np.float32)
    Y = (rng.standard_normal((n_cols, f)) / np.sqrt(f)).astype(np.float32)
    reg = np.full(len(row_sizes), 0.1, dtype=np.float32)
    return indptr, indices, weights, targets, Y, reg


def _solve(problem, base):
    indptr, indices, weights, targets, Y, reg = problem
    out = np.full((indptr.size - 1, Y.shape[1]), 7.0, dtype=np.float32)
    status = np.full(indptr.size - 1, 9, dtype=np.int8)
    K.solve_rows_cholesky_f32(indptr, indices, weights, targets, Y, base, reg, out, status,
                              K.row_blocks(indptr, 4.0, 3), float(np.finfo(np.float32).eps))
    return out, status


def test_sgemm_comes_from_scipy_and_a_missing_routine_gives_none():
    assert K._sgemm is not None  # scipy is a dependency: the fast path must be active
    assert K._blas_function("no_such_blas_routine", 3) is None


@pytest.mark.parametrize("f", [5, 16, 17, 64])
def test_only_the_upper_triangle_of_the_matrix_is_read(f):
    """NaN in the strictly lower triangle of Y'Y changes nothing; NaN in the upper one does."""
    problem = _problem(f, seed=f)
    Y = problem[4]
    base = np.ascontiguousarray(Y.T @ Y)
    want, status = _solve(problem, base)
    assert np.all(status == 0) and np.all(np.isfinite(want))
    lower = base.copy()
    lower[np.tril_indices(f, -1)] = np.nan
    got, status = _solve(problem, lower)
    assert np.all(status == 0)
    assert np.array_equal(got, want)
    upper = base.copy()
    upper[np.triu_indices(f, 1)] = np.nan
    _, status = _solve(problem, upper)
    assert np.all(status[np.diff(problem[0]) > 0] != 0)  # the test can fail: the upper part is used


@pytest.mark.slow
def test_cached_float32_kernel_is_loaded_not_compiled_in_a_second_process(tmp_path):
    """The BLAS call is resolved by symbol name at load time, so numba can cache the kernel:
    a second process loads it (no compile) and gets the same factors."""
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
