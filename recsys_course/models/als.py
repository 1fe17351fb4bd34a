"""Implicit-feedback ALS (Hu, Koren and Volinsky, ICDM 2008) with numba kernels.

Counts r_ui become a preference p_ui = [r_ui > 0] and a confidence c_ui
(``recsys_course.feedback``). The model minimises, over ALL user-item cells,

    L = sum_ui c_ui (p_ui - x_u . y_i)^2 + lambda (sum_u |x_u|^2 + sum_i |y_i|^2)

by alternating exact least-squares updates. With the item factors Y fixed, user u's
best factors solve

    (Y'Y + Y'(C^u - I)Y + lambda I) x_u = Y' C^u p(u)

where only the user's own items enter the correction term (C^u - I is zero
elsewhere): Y'Y is computed once per half-sweep and shared by every user. The same
holds for items with the roles swapped. ``solver="cholesky"`` solves each system
exactly; ``solver="cg"`` takes a few conjugate-gradient steps warm-started from the
previous factors (Takacs, Pilaszy and Tikk, RecSys 2011), which is cheaper per sweep.

Each iteration updates the items, then the users, so the user factors are always
the exact (Cholesky) best answer to the final item factors; ``explain`` relies on it.
"""

from __future__ import annotations

import contextlib
import threading
import time
import warnings
from typing import Any, NamedTuple

import numba
import numpy as np
import scipy.sparse as sp
from threadpoolctl import ThreadpoolController

from .. import feedback
from .._validation import (
    check_bool,
    check_choice,
    check_csr_counts,
    check_float,
    check_float_dtype,
    check_index,
    check_int,
    check_random_state,
    describe,
)
from . import _als_kernels as K
from . import _als_prepare as P
from ._base import FactorModelBase

__all__ = [
    "Explanation",
    "ImplicitALS",
    "SingularSystemError",
    "als_half_sweep",
    "gram_trick_half_sweep",
    "implicit_als_loss",
    "naive_half_sweep",
    "row_regularization",
]

SOLVERS = ("cg", "cholesky")
REGULARIZATION_SCALINGS = ("none", "frequency", "frequency_relative")
# epsilon of the log scheme, c = 1 + alpha log(1 + r / epsilon): the model and its loss use the same
LOG_EPSILON = 1.0


def row_regularization(counts: Any, regularization: float, scaling: str = "none", offset: float = 0.0,
                       exponent: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """lambda per user row and per item row (float64), as ``ImplicitALS`` uses them.

    ``scaling="none"``: lambda for every row. ``scaling="frequency"``: row u gets
    lambda (n_u + offset)^exponent, where n_u is the number of observed (non-zero) entries
    of the row: items the user has for a user, users who have the item for an item.
    With offset 0 and exponent 1 this is the weighted-lambda regularisation of Zhou et al.
    (2008; Spark's ALS does the same); Rendle et al. (2022) write lambda (|I_u| + alpha_0 |I|)^nu,
    an offset of the row's total weight on unobserved cells and an exponent nu.
    ``scaling="frequency_relative"`` takes ``offset`` as a fraction of the other side's size:
    lambda (n_u + offset |I|)^exponent for a user, lambda (n_i + offset |U|)^exponent for an item
    (with offset = alpha_0, the form of Rendle et al.'s released iALS code).
    """
    counts = check_csr_counts(counts, "counts", allow_empty=True)
    regularization = check_float(regularization, "regularization", minimum=0.0)
    scaling = check_choice(scaling, "regularization_scaling", REGULARIZATION_SCALINGS)
    offset = check_float(offset, "regularization_offset", minimum=0.0)
    exponent = check_float(exponent, "regularization_exponent", minimum=0.0)
    return _row_regularization(counts, regularization, scaling, offset, exponent)


def _row_regularization(counts: sp.csr_matrix, regularization: float, scaling: str, offset: float,
                        exponent: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`row_regularization` on counts and parameters that are already checked."""
    n_users, n_items = counts.shape
    if scaling == "none":
        return np.full(n_users, regularization), np.full(n_items, regularization)
    per_user = np.diff(counts.indptr).astype(np.float64)
    per_item = np.bincount(counts.indices, minlength=n_items).astype(np.float64)
    relative = scaling == "frequency_relative"
    user_offset, item_offset = (offset * n_items, offset * n_users) if relative else (offset, offset)
    return (regularization * (per_user + user_offset) ** exponent,
            regularization * (per_item + item_offset) ** exponent)


class SingularSystemError(ValueError):
    """A row's least-squares system could not be solved (not positive definite)."""


class Explanation(NamedTuple):
    """Why an item is recommended to a user (HKV section 5).

    ``score`` = sum over the user's past items j of s_ij c_uj, with
    s_ij = y_i' W^u y_j and W^u = (Y'C^uY + lambda I)^-1. ``items`` and
    ``contributions`` are the (at most k) largest terms of that sum, largest first;
    ``rest`` is the sum of the other terms, so ``contributions.sum() + rest == score``.
    """

    score: float
    items: np.ndarray
    contributions: np.ndarray
    rest: float


# --------------------------------------------------------------------------- helpers
def _check_dtype(dtype: Any) -> np.dtype:
    return check_float_dtype(dtype, "dtype")


def _resolve_threads(num_threads: int) -> int:
    available = int(numba.config.NUMBA_NUM_THREADS)
    return available if num_threads == 0 else min(num_threads, available)


_CONTROLLER: list = []
_WARNED: list = []


def _blas_controller() -> ThreadpoolController:
    """One threadpoolctl controller per process (scanning the loaded libraries takes milliseconds)."""
    if not _CONTROLLER:
        import scipy.linalg.cython_blas  # noqa: F401  (the BLAS numba calls; load it before the scan)

        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0]


def _warn_if_blas_still_threaded(controller: ThreadpoolController) -> None:
    if _WARNED:
        return
    busy = [lib for lib in controller.select(user_api="blas").lib_controllers if lib.num_threads > 1]
    if busy:
        _WARNED.append(True)
        warnings.warn(
            f"BLAS ({busy[0].internal_api}) still uses {busy[0].num_threads} threads inside the parallel "
            "ALS kernels, which slows them down; set OPENBLAS_NUM_THREADS=1 (or MKL_NUM_THREADS=1) "
            "before starting Python",
            RuntimeWarning,
            stacklevel=4,
        )


@contextlib.contextmanager
def parallel_section(num_threads: int):
    """Run numba kernels on ``num_threads`` threads with BLAS limited to one thread.

    The float64 kernels call BLAS (a small matmul per row) from inside numba's own threads;
    a multi-threaded BLAS would start its threads on top of ours and fight for the
    cores. The numba thread count is restored afterwards.
    """
    controller = _blas_controller()
    previous = numba.get_num_threads()
    numba.set_num_threads(num_threads)
    # rows are cut into many blocks of similar work; hand them out one at a time so a
    # thread slowed down by another process does not hold up the half-sweep
    previous_chunk = numba.set_parallel_chunksize(1)
    try:
        with controller.limit(limits=1, user_api="blas"):
            _warn_if_blas_still_threaded(controller)
            yield
    finally:
        numba.set_parallel_chunksize(previous_chunk)
        numba.set_num_threads(previous)


def _gram(factors: np.ndarray) -> np.ndarray:
    """Y'Y (one BLAS call; callers hold BLAS at one thread, so it is reproducible)."""
    return np.ascontiguousarray(factors.T @ factors)


class _Side:
    """One side of the matrix as the kernels need it: CSR arrays plus weights and targets."""

    def __init__(self, conf: sp.csr_matrix, dtype: np.dtype, factors: int, n_threads: int,
                 weights: np.ndarray | None = None, targets: np.ndarray | None = None):
        # implicit ALS: weight c - 1 in the matrix, target c * p = c on the right-hand side;
        # explicit ALS passes its own (1 and the rating)
        # no copies where the CSR arrays already fit (indices stay int32: less memory)
        self.indptr = np.asarray(conf.indptr, dtype=np.int64)
        self.indices = np.asarray(conf.indices, dtype=np.int32 if conf.indices.dtype == np.int32 else np.int64)
        self.conf64 = np.asarray(conf.data, dtype=np.float64)
        self.weights = (conf.data - 1.0 if weights is None else weights).astype(dtype)
        self.targets = (conf.data if targets is None else targets).astype(dtype)
        self.n_rows = conf.shape[0]
        self.blocks = K.row_blocks(self.indptr, max(factors / 4.0, 1.0), 16 * n_threads)

    @classmethod
    def from_arrays(cls, indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray, targets: np.ndarray,
                    factors: int, n_threads: int, conf64: np.ndarray | None = None) -> "_Side":
        """A side from arrays the caller built (no copies); ``conf64`` None: the loss derives c itself."""
        side = cls.__new__(cls)
        side.indptr, side.indices, side.weights, side.targets = indptr, indices, weights, targets
        side.conf64 = conf64
        side.n_rows = indptr.shape[0] - 1
        side.blocks = K.row_blocks(indptr, max(factors / 4.0, 1.0), 16 * n_threads)
        return side


def _solve_side(side: _Side, fixed: np.ndarray, gram: np.ndarray, reg: np.ndarray, out: np.ndarray,
                solver: str, cg_steps: int, what: str, regularization: float) -> None:
    if side.indices.size == 0:  # nothing observed: every row's best answer is zero
        out[:] = 0
        return
    status = np.zeros(side.n_rows, dtype=np.int8)
    tol = float(np.finfo(fixed.dtype).eps)
    if solver == "cholesky":
        K.solve_rows_cholesky(side.indptr, side.indices, side.weights, side.targets, fixed, gram,
                              reg, out, status, side.blocks, tol)
    else:
        K.solve_rows_cg(side.indptr, side.indices, side.weights, side.targets, fixed, gram,
                        reg, out, status, side.blocks, cg_steps)
    bad = np.flatnonzero(status)
    if bad.size:
        raise SingularSystemError(
            f"could not solve the least-squares system of {bad.size} {what}(s) (first: {what} {bad[0]}): "
            f"the matrix is not positive definite or the factors overflowed; use a larger "
            f"regularization (got regularization={regularization}), fewer factors or a smaller alpha"
        )


def _check_factor_matrix(value: Any, name: str, n_rows: int | None = None) -> np.ndarray:
    if not isinstance(value, np.ndarray) or value.ndim != 2:
        raise TypeError(f"{name} must be a 2-d numpy array of factors, got {describe(value)}")
    if not np.issubdtype(value.dtype, np.floating):
        raise TypeError(f"{name} must hold floating-point numbers, got dtype {value.dtype}")
    if value.shape[1] == 0:
        raise ValueError(f"{name} must have at least one factor column, got shape {value.shape}")
    if n_rows is not None and value.shape[0] != n_rows:
        raise ValueError(f"{name} must have {n_rows} rows, got shape {value.shape}")
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{name} must hold finite numbers")
    return value


def _check_initial(initial: Any, n_users: int, n_items: int, factors: int, dtype: np.dtype):
    """Copies of a warm start ``(user_factors, item_factors)`` in ``dtype``, shapes checked."""
    if not isinstance(initial, (tuple, list)) or len(initial) != 2:
        raise TypeError(f"initial must be None or a pair (user_factors, item_factors), got {describe(initial)}")
    X = _check_factor_matrix(initial[0], "initial[0] (user_factors)", n_users)
    Y = _check_factor_matrix(initial[1], "initial[1] (item_factors)", n_items)
    for name, value in (("initial[0] (user_factors)", X), ("initial[1] (item_factors)", Y)):
        if value.shape[1] != factors:
            raise ValueError(f"{name} must have factors={factors} columns, got shape {value.shape}")
    return np.array(X, dtype=dtype, order="C"), np.array(Y, dtype=dtype, order="C")


def _check_sparse_confidence(value: Any, name: str) -> sp.csr_matrix:
    if not sp.issparse(value) or value.ndim != 2:
        raise TypeError(f"{name} must be a 2-d scipy sparse matrix, got {describe(value)}")
    if isinstance(value, sp.csr_matrix) and value.dtype == np.float64 and value.has_canonical_format:
        conf = value  # read only below: no copy needed
    else:
        conf = sp.csr_matrix(value, dtype=np.float64, copy=True)
        conf.sum_duplicates()
        conf.sort_indices()
    if conf.nnz and (not np.all(np.isfinite(conf.data)) or conf.data.min() < 1.0):
        raise ValueError(
            f"{name} must hold confidences c_ui >= 1 on its stored (observed) entries, found {conf.data.min()}"
        )
    return conf


# ------------------------------------------------------------------ public functions
def als_half_sweep(
    confidence: Any,
    fixed_factors: np.ndarray,
    regularization: float,
    solver: str = "cholesky",
    cg_steps: int = 3,
    initial: np.ndarray | None = None,
    num_threads: int = 0,
) -> np.ndarray:
    """One half-sweep: the best factors of every row given the other side's factors.

    ``confidence`` is rows x columns sparse with c_ui >= 1 on observed cells
    (unobserved cells mean p = 0, c = 1), e.g. ``feedback.confidence(counts)`` for
    the user side or its transpose for the item side; ``fixed_factors`` has one row
    per column. ``initial`` warm-starts CG (default zeros). Returns a new array in the
    dtype of ``fixed_factors``.
    """
    conf = _check_sparse_confidence(confidence, "confidence")
    fixed = _check_factor_matrix(fixed_factors, "fixed_factors", conf.shape[1])
    if fixed.dtype not in (np.float32, np.float64):
        fixed = fixed.astype(np.float64)
    fixed = np.ascontiguousarray(fixed)
    regularization = check_float(regularization, "regularization", minimum=0.0)
    solver = check_choice(solver, "solver", SOLVERS)
    cg_steps = check_int(cg_steps, "cg_steps", minimum=1)
    num_threads = check_int(num_threads, "num_threads", minimum=0)
    f = fixed.shape[1]
    if initial is None:
        out = np.zeros((conf.shape[0], f), dtype=fixed.dtype)
    else:
        out = np.array(_check_factor_matrix(initial, "initial", conf.shape[0]), dtype=fixed.dtype, order="C")
        if out.shape[1] != f:
            raise ValueError(f"initial must have {f} columns like fixed_factors, got shape {out.shape}")
    threads = _resolve_threads(num_threads)
    with parallel_section(threads):
        side = _Side(conf, fixed.dtype, f, threads)
        gram = _gram(fixed)
        reg = np.full(side.n_rows, regularization, dtype=fixed.dtype)
        _solve_side(side, fixed, gram, reg, out, solver, cg_steps, "row", regularization)
    return out


def _teaching_inputs(confidence: Any, fixed_factors: Any, regularization: Any):
    conf = _check_sparse_confidence(confidence, "confidence")
    fixed = _check_factor_matrix(fixed_factors, "fixed_factors", conf.shape[1]).astype(np.float64)
    regularization = check_float(regularization, "regularization", minimum=0.0)
    return conf, fixed, regularization


def naive_half_sweep(confidence: Any, fixed_factors: np.ndarray, regularization: float) -> np.ndarray:
    """The update exactly as written, one row at a time, in numpy (float64; for teaching).

    x_u = (Y' C^u Y + lambda I)^-1 Y' C^u p(u) with the full diagonal C^u of every
    column: O(f^2 n) work per row, O(f^2 m n) for the half-sweep. Same arguments as
    :func:`als_half_sweep`.
    """
    conf, Y, lam = _teaching_inputs(confidence, fixed_factors, regularization)
    f = Y.shape[1]
    out = np.zeros((conf.shape[0], f))
    for u in range(conf.shape[0]):
        c = np.ones(conf.shape[1])  # unobserved: c = 1, p = 0
        p = np.zeros(conf.shape[1])
        start, end = conf.indptr[u], conf.indptr[u + 1]
        c[conf.indices[start:end]] = conf.data[start:end]
        p[conf.indices[start:end]] = 1.0
        A = Y.T @ (c[:, None] * Y) + lam * np.eye(f)
        out[u] = np.linalg.solve(A, Y.T @ (c * p))
    return out


def gram_trick_half_sweep(confidence: Any, fixed_factors: np.ndarray, regularization: float) -> np.ndarray:
    """The same update with Y'Y computed once (Hu et al., section 4), in numpy (float64).

    Y'C^uY = Y'Y + Y_u'(C^u - I)Y_u, where Y_u holds only the n_u rows of the row's own
    columns: O(f^2 n_u + f^3) per row, O(f^2 N + f^3 m) for the half-sweep (N non-zeros).
    """
    conf, Y, lam = _teaching_inputs(confidence, fixed_factors, regularization)
    f = Y.shape[1]
    base = Y.T @ Y + lam * np.eye(f)
    out = np.zeros((conf.shape[0], f))
    for u in range(conf.shape[0]):
        start, end = conf.indptr[u], conf.indptr[u + 1]
        if end == start:
            continue
        Yu = Y[conf.indices[start:end]]
        c = conf.data[start:end]
        A = base + Yu.T @ ((c - 1.0)[:, None] * Yu)
        out[u] = np.linalg.solve(A, Yu.T @ c)
    return out


#: stored entries per piece when the loss computes c on the fly (8 MB of float64 at a time)
LOSS_CHUNK = 1 << 20


def _loss(side: _Side, X: np.ndarray, Y: np.ndarray, regularization: float, row_reg=None,
          confidence_of=None) -> float:
    """L in float64. ``side.conf64`` holds c per entry, or is None and ``confidence_of(start, stop)``
    gives c for the entries start:stop: the rows then go in pieces of about ``LOSS_CHUNK`` entries
    (every row's term is computed alone, so the pieces change no bit of it)."""
    Y64 = Y.astype(np.float64)
    gram64 = np.ascontiguousarray(Y64.T @ Y64)
    rows = np.empty(side.n_rows, dtype=np.float64)
    if side.conf64 is not None:
        K.implicit_loss_rows(side.indptr, side.indices, side.conf64, X, Y, gram64, side.blocks, rows)
    else:
        indptr, first = side.indptr, 0
        while first < side.n_rows:
            last = int(np.searchsorted(indptr, indptr[first] + LOSS_CHUNK, side="right")) - 1
            last = min(max(last, first + 1), side.n_rows)
            start, stop = int(indptr[first]), int(indptr[last])
            piece = indptr[first:last + 1] - start
            blocks = K.row_blocks(piece, 1.0, max(side.blocks.size - 1, 1))
            K.implicit_loss_rows(piece, side.indices[start:stop], confidence_of(start, stop), X[first:last], Y,
                                 gram64, blocks, rows[first:last])
            first = last
    if row_reg is None:  # lambda for every row
        penalty = regularization * (float(np.sum(X.astype(np.float64) ** 2)) + float(np.sum(Y64 ** 2)))
    else:  # (lambda per user, lambda per item), float64
        penalty = float(row_reg[0] @ np.sum(X.astype(np.float64) ** 2, axis=1)) + float(
            row_reg[1] @ np.sum(Y64 ** 2, axis=1))
    return float(np.sum(rows)) + penalty


def implicit_als_loss(
    counts: Any,
    user_factors: np.ndarray,
    item_factors: np.ndarray,
    regularization: float,
    alpha: float = 40.0,
    scheme: str = "linear",
    regularization_scaling: str = "none",
    regularization_offset: float = 0.0,
    regularization_exponent: float = 1.0,
) -> float:
    """The full weighted objective L (every user-item cell, zeros included), in float64.

    Computed without building the dense matrix: the unobserved cells contribute
    sum_u x_u'(Y'Y)x_u minus the observed cells' share, so the cost is
    O(f^2 (users + items) + f nnz). With ``regularization_scaling="frequency"`` the
    penalty is sum_u lambda_u |x_u|^2 + sum_i lambda_i |y_i|^2 (see :func:`row_regularization`).
    ``scheme="log"`` uses c_ui = 1 + alpha log(1 + r_ui), epsilon = 1, as :class:`ImplicitALS` does.
    """
    counts = _counts_matrix(counts)
    row_reg = None
    if check_choice(regularization_scaling, "regularization_scaling", REGULARIZATION_SCALINGS) != "none":
        row_reg = row_regularization(counts, regularization, regularization_scaling, regularization_offset,
                                     regularization_exponent)
    scheme = check_choice(scheme, "scheme", feedback.SCHEMES)
    conf = feedback.confidence(counts, alpha=alpha, scheme=scheme,
                               epsilon=LOG_EPSILON if scheme == "log" else 1e-8)
    n_users, n_items = conf.shape
    X = _check_factor_matrix(user_factors, "user_factors", n_users)
    Y = _check_factor_matrix(item_factors, "item_factors", n_items)
    if X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"user_factors and item_factors must have the same number of columns, got {X.shape[1]} and {Y.shape[1]}"
        )
    regularization = check_float(regularization, "regularization", minimum=0.0)
    side = _Side(conf, np.dtype(np.float64), X.shape[1], 1)
    with parallel_section(_resolve_threads(0)):
        return _loss(side, np.ascontiguousarray(X, dtype=np.float64), np.ascontiguousarray(Y, dtype=np.float64),
                     regularization, row_reg)


def _counts_matrix(counts: Any) -> sp.csr_matrix:
    return check_csr_counts(counts, "counts", allow_empty=True)


def _canonical_counts(counts: Any) -> sp.csr_matrix | None:
    """``counts`` itself when it is already what validation would return, else None.

    That is a ``scipy.sparse.csr_matrix`` of float64 with sorted, distinct column indices per
    row and only positive, finite stored values (no explicit zeros). Checking costs two passes
    over the values and one over the indices; copying would cost the whole matrix again.
    """
    if type(counts) is not sp.csr_matrix or counts.dtype != np.float64 or counts.nnz == 0:
        return None
    if 0 in counts.shape or counts.indices.dtype not in (np.int32, np.int64):
        return None
    data = counts.data
    if not data.flags.c_contiguous or not counts.indices.flags.c_contiguous or data.size != counts.nnz:
        return None
    if not data.min() > 0 or not data.max() < np.inf:  # NaN fails both; zeros, negatives, inf go to the checks
        return None
    return counts if counts.has_canonical_format else None


def _empty_item_side(nnz: int, n_users: int, n_items: int, dtype: np.dtype):
    """The item side's arrays to fill: indptr (zeroed), indices, weights, targets."""
    return (np.zeros(n_items + 1, dtype=np.int64),
            np.empty(nnz, dtype=np.int32 if n_users <= np.iinfo(np.int32).max else np.int64),
            np.empty(nnz, dtype=dtype), np.empty(nnz, dtype=dtype))


def _item_side_arrays(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray, targets: np.ndarray,
                      n_users: int, n_items: int, derive: bool = False):
    """The transpose (items x users) of the user side's arrays: indptr, indices, weights, targets."""
    out = _empty_item_side(indices.size, n_users, n_items, weights.dtype)
    P.transpose_rows(indptr, indices, weights, targets, derive, *out)
    return out


# ---------------------------------------------------------------------------- model
class ImplicitALS(FactorModelBase):
    """Implicit ALS of Hu, Koren and Volinsky: confidence-weighted matrix factorisation.

    Parameters
    ----------
    factors : int
        Number of latent factors f.
    regularization : float
        lambda of the objective; by default not scaled by a row's number of entries (unlike Spark).
    regularization_scaling : {"none", "frequency", "frequency_relative"}
        ``"frequency"`` gives row u the penalty lambda (n_u + regularization_offset)^regularization_exponent
        with n_u its number of observed entries (Zhou et al. 2008; Rendle et al. 2022 write
        lambda (|I_u| + alpha_0 |I|)^nu): active users and popular items are held back more.
        ``"frequency_relative"``: the offset times the other side's size (|I| for a user row,
        |U| for an item row), Rendle et al.'s alpha_0 |I| on each side.
    regularization_offset : float
        Added to n_u before scaling (Rendle et al.'s alpha_0 |I|) with ``"frequency"``; with
        ``"frequency_relative"`` the fraction alpha_0 itself. Unused with ``"none"``.
    regularization_exponent : float
        The exponent (Rendle et al.'s nu; 1 is Zhou et al.'s weighted lambda); unused with ``"none"``.
    alpha : float
        Confidence scale: c_ui = 1 + alpha r_ui (``scheme="linear"``) or
        1 + alpha log(1 + r_ui) (``scheme="log"``, epsilon = 1).
    scheme : {"linear", "log"}
    iterations : int
        Full sweeps (items then users).
    solver : {"cg", "cholesky"}
        Conjugate gradient (``cg_steps`` steps per row and sweep, warm-started) or an
        exact Cholesky solve.
    cg_steps : int
    random_state : None, int or numpy Generator
        Seeds the initial factors; the same seed gives the same factors whatever
        ``num_threads``.
    num_threads : int
        0 for every core numba may use.
    dtype : numpy.float32 or numpy.float64
    progress : bool
        A tqdm bar over the iterations.
    compute_loss : bool
        Record ``loss_history`` (one extra pass per iteration); the benchmark turns it off.

    Attributes after ``fit``: ``user_factors`` (users x f), ``item_factors`` (items x f),
    ``loss_history`` (L after each iteration), ``iteration_seconds``.
    """

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.01,
        alpha: float = 40.0,
        scheme: str = "linear",
        iterations: int = 15,
        solver: str = "cg",
        cg_steps: int = 3,
        random_state: Any = None,
        num_threads: int = 0,
        dtype: Any = np.float32,
        progress: bool = True,
        compute_loss: bool = True,
        regularization_scaling: str = "none",
        regularization_offset: float = 0.0,
        regularization_exponent: float = 1.0,
    ):
        self.factors = factors
        self.regularization = regularization
        self.regularization_scaling = regularization_scaling
        self.regularization_offset = regularization_offset
        self.regularization_exponent = regularization_exponent
        self.alpha = alpha
        self.scheme = scheme
        self.iterations = iterations
        self.solver = solver
        self.cg_steps = cg_steps
        self.random_state = random_state
        self.num_threads = num_threads
        self.dtype = dtype
        self.progress = progress
        self.compute_loss = compute_loss

    def __repr__(self) -> str:
        return (
            f"ImplicitALS(factors={self.factors}, regularization={self.regularization}, alpha={self.alpha}, "
            f"scheme={self.scheme!r}, iterations={self.iterations}, solver={self.solver!r}"
            + (f", regularization_scaling={self.regularization_scaling!r}, regularization_offset="
               f"{self.regularization_offset}, regularization_exponent={self.regularization_exponent}"
               if getattr(self, "regularization_scaling", "none") != "none" else "")
            + ")"
        )

    # ------------------------------------------------------------------ fitting
    def _remember_training(self, counts: Any, name: str = "counts") -> sp.csr_matrix:
        """Validate once; a matrix already in canonical form is kept as it is, without a copy."""
        same = _canonical_counts(counts)
        if same is None:
            return super()._remember_training(counts, name)
        self._train = same
        self.n_users, self.n_items = same.shape
        return same

    def _checked_parameters(self) -> dict:
        return {
            "factors": check_int(self.factors, "factors", minimum=1),
            "regularization": check_float(self.regularization, "regularization", minimum=0.0),
            "alpha": check_float(self.alpha, "alpha", minimum=0.0),
            "scheme": check_choice(self.scheme, "scheme", feedback.SCHEMES),
            "iterations": check_int(self.iterations, "iterations", minimum=1),
            "solver": check_choice(self.solver, "solver", SOLVERS),
            "cg_steps": check_int(self.cg_steps, "cg_steps", minimum=1),
            "num_threads": check_int(self.num_threads, "num_threads", minimum=0),
            "dtype": _check_dtype(self.dtype),
            "progress": check_bool(self.progress, "progress"),
            "compute_loss": check_bool(self.compute_loss, "compute_loss"),
            "regularization_scaling": check_choice(self.regularization_scaling, "regularization_scaling",
                                                   REGULARIZATION_SCALINGS),
            "regularization_offset": check_float(self.regularization_offset, "regularization_offset", minimum=0.0),
            "regularization_exponent": check_float(self.regularization_exponent, "regularization_exponent",
                                                   minimum=0.0),
        }

    def _initial_factors(self, n_users: int, n_items: int, factors: int, dtype: np.dtype, rng: np.random.Generator):
        """Random starting factors, users drawn first, then items.

        Scale 1/sqrt(f) gives x_u . y_i of order one. Much smaller starting factors make
        the first solve divide by them: factors of order 1/scale, a Y'Y dominated by a
        few huge entries and, with a small lambda in float32, pivots lost in rounding.
        """
        scale = 1.0 / np.sqrt(factors)
        # drawn in pieces of rows (the same numbers as one draw: float64 normals take one
        # generator step each), so no float64 copy of a whole factor matrix is ever held
        rows = max(1, (1 << 20) // factors)
        buffer = None if dtype == np.float64 else np.empty((min(rows, max(n_users, n_items)), factors))
        out = []
        for n in (n_users, n_items):
            M = np.empty((n, factors), dtype=dtype)
            for start in range(0, n, rows):
                stop = min(start + rows, n)
                if buffer is None:  # float64: drawn straight into the factors
                    rng.standard_normal(out=M[start:stop])
                    M[start:stop] *= scale
                else:  # the product in float64, rounded once into the factors (as astype would)
                    block = buffer[:stop - start]
                    rng.standard_normal(out=block)
                    np.multiply(block, scale, out=M[start:stop], casting="same_kind")
            out.append(M)
        return out[0], out[1]

    def fit(self, counts: Any, initial: Any = None) -> "ImplicitALS":
        """Learn user and item factors from a users x items sparse matrix of counts.

        ``initial``: None (random factors drawn from ``random_state``) or a pair
        ``(user_factors, item_factors)`` of arrays shaped (users, factors) and (items, factors)
        to start from instead, e.g. the factors of a previous fit with other alpha or lambda
        (a warm start: fewer iterations reach the same loss). They are copied, never changed.

        ``counts`` is validated once. A ``scipy.sparse.csr_matrix`` that is already in the form
        validation produces (float64, sorted distinct column indices, only positive finite values
        stored) is kept by reference for ``filter_seen`` and ``explain``, not copied: fit never
        writes to it, and changing it in place afterwards changes what the model treats as seen.
        No confidence matrix is built: the solvers get w = c - 1 and c per stored entry, computed
        from the counts.
        """
        saved = dict(self.__dict__)
        try:
            return self._fit(counts, initial)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)  # nothing half-written on failure
            raise

    def _fit(self, counts: Any, initial: Any = None) -> "ImplicitALS":
        params = self._checked_parameters()
        rng = check_random_state(self.random_state)
        self._fitted = False
        counts = self._remember_training(counts)  # the one validation (no copy when already canonical)
        f, dtype, reg_value = params["factors"], params["dtype"], params["regularization"]
        alpha, scheme = params["alpha"], params["scheme"]
        epsilon = LOG_EPSILON if scheme == "log" else 1e-8
        threads = _resolve_threads(params["num_threads"])
        drawn: dict = {}

        def draw() -> None:
            try:
                drawn["factors"] = self._initial_factors(self.n_users, self.n_items, f, dtype, rng)
            except BaseException as error:  # handed to the main thread below
                drawn["error"] = error

        def confidence_of(start: int, stop: int) -> np.ndarray:  # c in float64, as feedback.confidence
            return feedback._confidence_values(counts.data[start:stop], alpha, scheme, epsilon)

        # the random start is drawn beside the set-up (numpy's generator and the set-up kernels
        # release the GIL) when more than one thread is allowed
        worker = threading.Thread(target=draw, daemon=True) if initial is None and threads > 1 else None
        if worker is not None:
            worker.start()
        try:
            # the solvers' arrays, built from the counts without a confidence matrix: per stored
            # entry w = c - 1 and t = c in ``dtype``, users' side, then items' side by one transpose
            indptr = np.asarray(counts.indptr, dtype=np.int64)
            indices = counts.indices
            weights = np.empty(counts.nnz, dtype=dtype)
            targets = np.empty(counts.nnz, dtype=dtype)
            if scheme == "linear":  # both sides in one pass over the counts
                item_arrays = _empty_item_side(counts.nnz, self.n_users, self.n_items, dtype)
                largest, _ = P.build_sides(counts.data, alpha, True, indptr, indices, weights, targets,
                                           *item_arrays)
            else:
                largest, derive = 1.0, True
                for start in range(0, counts.nnz, LOSS_CHUNK):
                    stop = min(start + LOSS_CHUNK, counts.nnz)
                    piece = P.confidence_weights(confidence_of(start, stop), 0.0, False, weights[start:stop],
                                                 targets[start:stop])
                    largest, derive = max(largest, piece[0]), derive and piece[1]
            if largest > float(np.finfo(dtype).max) / 1e3:  # the kernels multiply confidences by factors
                raise ValueError(
                    f"alpha={params['alpha']:g} makes confidences up to {largest:.3g}, too large for "
                    f"dtype {np.dtype(dtype).name}; use a smaller alpha or dtype=np.float64"
                )
            if scheme != "linear":
                item_arrays = _item_side_arrays(indptr, indices, weights, targets, self.n_users, self.n_items,
                                                derive)
        finally:
            if worker is not None:
                worker.join()
        if initial is None:
            if worker is None:
                draw()
            if "error" in drawn:
                raise drawn["error"]
            X, Y = drawn["factors"]
        else:
            X, Y = _check_initial(initial, self.n_users, self.n_items, f, dtype)
        # float64: the targets are c exactly, so the loss reads them; float32: it derives c from the counts
        users = _Side.from_arrays(indptr, indices, weights, targets, f, threads,
                                  conf64=targets if dtype == np.float64 else None)
        items = _Side.from_arrays(*item_arrays, f, threads)
        row_reg = None  # per-row lambdas in float64 (None: lambda for every row, the default)
        if params["regularization_scaling"] == "none":
            reg_users = np.full(self.n_users, reg_value, dtype=dtype)
            reg_items = np.full(self.n_items, reg_value, dtype=dtype)
        else:
            row_reg = _row_regularization(counts, reg_value, params["regularization_scaling"],
                                          params["regularization_offset"], params["regularization_exponent"])
            reg_users, reg_items = row_reg[0].astype(dtype), row_reg[1].astype(dtype)
        self.loss_history: list[float] = []
        self.iteration_seconds: list[float] = []
        bar = _progress(params["iterations"], params["progress"])
        with parallel_section(threads):
            for _ in bar:
                start = time.perf_counter()
                _solve_side(items, X, _gram(X), reg_items, Y, params["solver"], params["cg_steps"], "item", reg_value)
                _solve_side(users, Y, _gram(Y), reg_users, X, params["solver"], params["cg_steps"], "user", reg_value)
                self.iteration_seconds.append(time.perf_counter() - start)
                if params["compute_loss"]:
                    self.loss_history.append(_loss(users, X, Y, reg_value, row_reg, confidence_of))
                    if hasattr(bar, "set_postfix"):
                        bar.set_postfix(loss=f"{self.loss_history[-1]:.5g}")
        self.user_factors = X
        self.item_factors = Y
        self._confidence = (alpha, scheme, epsilon)  # c of any entry, from the counts, for explain
        self._reg_value = reg_value
        self._user_reg = None if row_reg is None else row_reg[0]
        self._fitted = True
        return self

    # -------------------------------------------------------------- explanation
    def explain(self, user: Any, item: Any, k: int = 5) -> Explanation:
        """The user's past items that push ``item``'s score up the most (HKV section 5).

        With W^u = (Y'C^uY + lambda I)^-1, the score is sum_j (y_i' W^u y_j) c_uj over
        the user's items j: each past item votes with its similarity to ``item`` in the
        user's own metric W^u, weighted by the confidence. Computed in float64 against
        the final item factors; equals ``score`` up to rounding (CG: up to its
        tolerance, since the user factors are then approximate).
        """
        self._check_fitted()
        user = check_index(user, "user", self.n_users, "user")
        item = check_index(item, "item", self.n_items, "item")
        k = check_int(k, "k", minimum=1)
        start, end = self._train.indptr[user], self._train.indptr[user + 1]
        past = self._train.indices[start:end]
        c = feedback._confidence_values(self._train.data[start:end], *self._confidence)
        if past.size == 0:
            empty = np.zeros(0)
            return Explanation(0.0, past.astype(np.int64), empty, 0.0)
        Y = self.item_factors.astype(np.float64)
        Yu = Y[past]
        lam = self._reg_value if getattr(self, "_user_reg", None) is None else float(self._user_reg[user])
        A = Y.T @ Y + (Yu * (c - 1.0)[:, None]).T @ Yu + lam * np.eye(Y.shape[1])
        try:
            z = np.linalg.solve(A, Y[item])  # W^u y_i (W^u is symmetric)
        except np.linalg.LinAlgError:
            raise SingularSystemError(
                f"the system of user {user} is singular; refit with a larger regularization"
            ) from None
        terms = c * (Yu @ z)
        order = np.lexsort((past, -terms))[:k]
        top = terms[order]
        score = float(terms.sum())
        return Explanation(score, past[order].astype(np.int64), top, score - float(top.sum()))


def _progress(iterations: int, enabled: bool):
    if not enabled:
        return range(iterations)
    from tqdm.auto import tqdm

    return tqdm(range(iterations), desc="ImplicitALS", unit="it")
