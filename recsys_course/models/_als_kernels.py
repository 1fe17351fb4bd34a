"""Arithmetic kernels of alternating least squares (no input checks here).

Every half-sweep solves, for each row ``u`` of a CSR matrix, one f x f system

    (base + reg[u] I + sum_k w_k y_k y_k') x_u = sum_k t_k y_k

where ``k`` runs over the stored entries of row ``u`` (``indices``), ``y_k`` is the
matching row of the fixed factor matrix ``Y``, ``w_k`` a weight and ``t_k`` a target.

* implicit ALS (Hu, Koren, Volinsky 2008): ``base = Y'Y``, ``w = c - 1``, ``t = c * p = c``
* explicit ALS on ratings: ``base = 0``, ``w = 1``, ``t = r``

Rows are solved in parallel (``prange`` over blocks of rows), each row alone, so the
result never depends on the number of threads. The Python layer (``als.py``,
``explicit.py``) validates every input; these functions assume clean arrays.

Status codes written per row: 0 solved, 1 the matrix is not positive definite
(Cholesky pivot not positive, CG curvature not positive), 2 a non-finite value appeared.
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import prange, types
from numba.core import cgutils
from numba.core.extending import intrinsic

__all__ = [
    "CG_GROUP",
    "GATHER_CHUNK",
    "INLINE_MAX",
    "cholesky_solve_upper",
    "cholesky_solve_inplace",
    "row_blocks",
    "solve_rows_cg",
    "solve_rows_cholesky",
    "solve_rows_cholesky_exact",
    "solve_rows_cholesky_f32",
    "implicit_loss_rows",
    "squared_error_rows",
]

#: reassociation lets LLVM vectorise the dot products; NaN/inf checks must keep working,
#: so the "no NaN" and "no inf" assumptions of full fastmath are left out
_FAST = {"reassoc", "contract", "arcp", "nsz"}

#: rows solved together by CG: their products with Y'Y are one small matmul per step
CG_GROUP = 16

#: rows of Y gathered at once before one level-3 product. Small on purpose: OpenBLAS
#: multiplies (f x 32) by (32 x f) with its small-matrix kernel at ~100 GFLOP/s on one
#: core, while taller blocks take its general path, 3-6x slower per flop when called
#: from many threads (measured: half-sweep at f=128 on long-tail data 27 s -> 4 s)
GATHER_CHUNK = 32
#: rows with at most this many entries update the matrix by rank-1 loops instead of a matmul
INLINE_MAX = 4
#: rows of Y per matmul in the float32 Cholesky kernel, which accumulates straight into the
#: row's matrix (BLAS beta = 1), so a larger block costs no extra pass over the matrix
GATHER_CHUNK_F32 = 64

#: the float32 Cholesky kernel builds only the (row-major upper) triangle the factorisation reads, as
#: GRAM_SPLIT sgemm calls over bands of f / GRAM_SPLIT columns, band b reaching down to its own
#: diagonal: (GRAM_SPLIT + 1) / (2 GRAM_SPLIT) of the full square's FLOPs (5/8 for 4 bands).
#: Four bands measured fastest at f = 64 (two: 7/8 of the time of one, eight: slower than four,
#: OpenBLAS's small-matrix kernel losing speed on narrow bands); BLAS ssyrk builds the triangle
#: in one call but took 1.5x sgemm's time for the full square at f = 64, m = 64.
GRAM_SPLIT = 4
#: gathered entries ahead whose row of Y is prefetched: the rows are scattered over a matrix
#: larger than the caches, so without a hint each gather waited for memory (the build took
#: about 1.5x the CPU time on the 100k x 50k long tail at f = 64)
PREFETCH_AHEAD = 8


def _blas_function(name: str, n_args: int):
    """scipy's public Fortran BLAS routine ``name`` as a numba external function, or None.

    The routine's address (``scipy.linalg.cython_blas``) is registered with LLVM under a name of
    ours and the kernels call it by that name, so the cached machine code stays valid in every
    process (an address embedded in the code would change per process and could not be cached).
    Every argument is a pointer (Fortran), ints are 32-bit (scipy's BLAS interface is LP64).
    None when scipy or the symbol is missing: float32 then takes the exact kernel.
    """
    try:
        import llvmlite.binding as llvm
        from numba.core.extending import get_cython_function_address

        address = get_cython_function_address("scipy.linalg.cython_blas", name)
    except (ImportError, ValueError, AttributeError, KeyError):  # pragma: no cover - depends on scipy
        return None
    symbol = f"recsys_course_blas_{name}"
    llvm.add_symbol(symbol, address)
    return types.ExternalFunction(symbol, types.void(*([types.voidptr] * n_args)))


#: sgemm(transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc): C = alpha op(A) op(B) + beta C
_sgemm = _blas_function("sgemm", 13)


@intrinsic
def _prefetch_row(typingctx, array, row):
    """Ask the CPU to start loading row ``row`` of the 2-D C-contiguous ``array`` into cache.

    A hint only (LLVM's prefetch: read, high locality): it never changes a result, and a row
    index out of range is harmless because nothing is read. One hint per 64-byte line, for
    the first 8 lines (a row of up to 128 float32).
    """
    sig = types.void(array, row)

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        arr = context.make_array(array_type)(context, builder, args[0])
        index = context.cast(builder, args[1], signature.args[1], types.intp)
        row_bytes = builder.mul(index, builder.extract_value(arr.strides, 0))
        start = builder.gep(builder.bitcast(arr.data, ir.IntType(8).as_pointer()), [row_bytes])
        n_bytes = builder.mul(builder.extract_value(arr.shape, 1), builder.extract_value(arr.strides, 1))
        hint = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [ir.IntType(8).as_pointer()] + [ir.IntType(32)] * 3),
            "llvm.prefetch.p0")
        i32 = ir.IntType(32)
        for line in range(8):
            offset = context.get_constant(types.intp, 64 * line)
            with builder.if_then(builder.icmp_signed("<", offset, n_bytes), likely=True):
                builder.call(hint, [builder.gep(start, [offset]), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen


@numba.njit(cache=True, nogil=True, fastmath=_FAST)
def cholesky_solve_inplace(a, b, x, tol):
    """Solve ``a x = b`` for symmetric positive definite ``a`` (lower triangle read).

    ``a`` is overwritten by its Cholesky factor L (lower); ``b`` is left untouched.
    Returns 0 on success, 1 when a pivot falls to ``tol`` times its diagonal or below.
    """
    f = a.shape[0]
    for j in range(f):
        d = a[j, j]
        for k in range(j):
            d -= a[j, k] * a[j, k]
        if not d > tol * a[j, j]:  # also catches NaN
            return 1
        d = np.sqrt(d)
        a[j, j] = d
        inv = 1.0 / d
        for i in range(j + 1, f):
            s = a[i, j]
            for k in range(j):
                s -= a[i, k] * a[j, k]
            a[i, j] = s * inv
    # forward: L z = b
    for i in range(f):
        s = b[i]
        for k in range(i):
            s -= a[i, k] * x[k]
        x[i] = s / a[i, i]
    # backward: L' x = z
    for i in range(f - 1, -1, -1):
        s = x[i]
        for k in range(i + 1, f):
            s -= a[k, i] * x[k]
        x[i] = s / a[i, i]
    return 0


@numba.njit(cache=True)
def row_blocks(indptr, cost_per_row, n_blocks, align=CG_GROUP):
    """Split rows into about ``n_blocks`` contiguous blocks of similar work.

    Work of a row = its number of entries + ``cost_per_row``. Returns block boundaries
    (length n + 1, first 0, last n_rows), each inner one a multiple of ``align`` so that
    CG's groups of rows are the same whatever the number of blocks: only load balance
    depends on the blocks, never results.
    """
    n_rows = indptr.shape[0] - 1
    total = float(indptr[n_rows] - indptr[0]) + cost_per_row * n_rows
    target = total / max(n_blocks, 1)
    bounds = [0]
    acc = 0.0
    for r in range(n_rows):
        acc += float(indptr[r + 1] - indptr[r]) + cost_per_row
        if acc >= target and r + 1 < n_rows and (r + 1) % align == 0:
            bounds.append(r + 1)
            acc = 0.0
    bounds.append(n_rows)
    return np.array(bounds, dtype=np.int64)


def solve_rows_cholesky(indptr, indices, weights, targets, Y, base, reg, out, status, blocks, tol):
    """Exact solve of every row's system (see module docstring) into ``out``.

    float32 factors go to ``solve_rows_cholesky_f32`` (same systems, faster arithmetic, other
    rounding); every other dtype to ``solve_rows_cholesky_exact``, whose float64 results are
    the reference the notebooks print.
    """
    if Y.dtype == np.float32 and _sgemm is not None:
        solve_rows_cholesky_f32(indptr, indices, weights, targets, Y, base, reg, out, status, blocks, tol)
    else:
        solve_rows_cholesky_exact(indptr, indices, weights, targets, Y, base, reg, out, status, blocks, tol)


@numba.njit(cache=True, parallel=True, fastmath=_FAST)
def solve_rows_cholesky_exact(indptr, indices, weights, targets, Y, base, reg, out, status, blocks, tol):
    """Exact solve of every row's system (see module docstring) into ``out``.

    Level-3 work: a row's factors ``y_k`` are gathered (scaled by sqrt(w_k)) into a
    buffer of up to ``GATHER_CHUNK`` rows and added to the matrix with one small matmul.
    Rows without entries get zero factors.
    """
    f = Y.shape[1]
    dtype = Y.dtype
    n_blocks = blocks.shape[0] - 1
    for blk in prange(n_blocks):
        a = np.empty((f, f), dtype=dtype)
        tmp = np.empty((f, f), dtype=dtype)
        gather = np.empty((GATHER_CHUNK, f), dtype=dtype)
        rhs = np.empty(f, dtype=dtype)
        x = np.empty(f, dtype=dtype)
        for u in range(blocks[blk], blocks[blk + 1]):
            start = indptr[u]
            end = indptr[u + 1]
            if end == start:
                out[u, :] = 0
                status[u] = 0
                continue
            for i in range(f):
                for j in range(i + 1):
                    a[i, j] = base[i, j]
                a[i, i] += reg[u]
                rhs[i] = 0
            n = end - start
            if n <= INLINE_MAX:
                for p in range(start, end):
                    w = weights[p]
                    t = targets[p]
                    y = Y[indices[p]]
                    for i in range(f):
                        wy = w * y[i]
                        for j in range(i + 1):
                            a[i, j] += wy * y[j]
                        rhs[i] += t * y[i]
            else:
                for chunk in range(start, end, GATHER_CHUNK):
                    stop = min(chunk + GATHER_CHUNK, end)
                    m = stop - chunk
                    for q in range(m):
                        p = chunk + q
                        y = Y[indices[p]]
                        sw = np.sqrt(weights[p])
                        t = targets[p]
                        for i in range(f):
                            gather[q, i] = sw * y[i]
                            rhs[i] += t * y[i]
                    g = gather[:m]
                    np.dot(g.T, g, tmp)
                    for i in range(f):
                        for j in range(i + 1):
                            a[i, j] += tmp[i, j]
            code = cholesky_solve_inplace(a, rhs, x, tol)
            if code == 0:
                for i in range(f):
                    if not np.isfinite(x[i]):
                        code = 2
                    out[u, i] = x[i]
            else:
                out[u, :] = 0
            status[u] = code


#: lanes of the explicit vector updates in ``cholesky_solve_upper`` (8 float32: one 256-bit register)
LANES = 8


def _row_update_codegen(n_terms):
    """LLVM code for a[i, k:k+LANES] -= c_0 a[j, k:k+LANES] + ... + c_{n-1} a[j+n-1, k:k+LANES].

    One fused multiply-add per term, in the order t = 0, 1, ..., on LANES-wide vectors (an
    explicit vector: numba leaves LLVM's SLP vectoriser off, and its loop vectoriser only
    pays off on loops longer than the rows of a 64 x 64 triangle).
    """

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        arr = context.make_array(array_type)(context, builder, args[0])
        shape = cgutils.unpack_tuple(builder, arr.shape)
        strides = cgutils.unpack_tuple(builder, arr.strides)
        i, j, k = (context.cast(builder, v, t, types.intp) for v, t in zip(args[1:4], signature.args[1:4]))
        element = context.get_value_type(array_type.dtype)
        vector = ir.VectorType(element, LANES)

        def pointer(row):
            item = cgutils.get_item_pointer2(context, builder, arr.data, shape, strides, array_type.layout, [row, k])
            return builder.bitcast(item, vector.as_pointer())

        bits = 32 if array_type.dtype == types.float32 else 64
        fma = cgutils.get_or_insert_function(builder.module, ir.FunctionType(vector, [vector] * 3),
                                             f"llvm.fma.v{LANES}f{bits}")
        broadcast = ir.Constant(ir.VectorType(ir.IntType(32), LANES), [0] * LANES)
        target = pointer(i)
        value = builder.load(target, align=1)
        for t in range(n_terms):
            row = builder.add(j, context.get_constant(types.intp, t))
            coefficient = context.cast(builder, args[4 + t], signature.args[4 + t], array_type.dtype)
            splat = builder.insert_element(ir.Constant(vector, ir.Undefined), builder.fneg(coefficient),
                                           ir.Constant(ir.IntType(32), 0))
            splat = builder.shuffle_vector(splat, ir.Constant(vector, ir.Undefined), broadcast)
            value = builder.call(fma, [splat, builder.load(pointer(row), align=1), value])
        builder.store(value, target, align=1)
        return context.get_dummy_value()

    return codegen


def _row_scale_codegen(context, builder, signature, args):
    """LLVM code for a[i, k:k+LANES] *= s."""
    array_type = signature.args[0]
    arr = context.make_array(array_type)(context, builder, args[0])
    i, k = (context.cast(builder, v, t, types.intp) for v, t in zip(args[1:3], signature.args[1:3]))
    item = cgutils.get_item_pointer2(context, builder, arr.data, cgutils.unpack_tuple(builder, arr.shape),
                                     cgutils.unpack_tuple(builder, arr.strides), array_type.layout, [i, k])
    vector = ir.VectorType(context.get_value_type(array_type.dtype), LANES)
    target = builder.bitcast(item, vector.as_pointer())
    scale = context.cast(builder, args[3], signature.args[3], array_type.dtype)
    splat = builder.insert_element(ir.Constant(vector, ir.Undefined), scale, ir.Constant(ir.IntType(32), 0))
    splat = builder.shuffle_vector(splat, ir.Constant(vector, ir.Undefined),
                                   ir.Constant(ir.VectorType(ir.IntType(32), LANES), [0] * LANES))
    builder.store(builder.fmul(builder.load(target, align=1), splat), target, align=1)
    return context.get_dummy_value()


def _vector_rows(a) -> bool:
    """The intrinsics load LANES neighbours of a row at once: only C-contiguous 2-D float arrays."""
    return isinstance(a, types.Array) and a.ndim == 2 and a.layout == "C" and a.dtype in (types.float32, types.float64)


@intrinsic
def _row_scale(typingctx, a, i, k, s):
    """a[i, k:k+LANES] *= s (2-D C-contiguous float array; no bounds check: k + LANES <= a.shape[1])."""
    if _vector_rows(a):
        return types.void(a, i, k, s), _row_scale_codegen
    return None


@intrinsic
def _row_update1(typingctx, a, i, j, k, c0):
    """a[i, k:k+LANES] -= c0 a[j, k:k+LANES] (as ``_row_scale``: no bounds check)."""
    if _vector_rows(a):
        return types.void(a, i, j, k, c0), _row_update_codegen(1)
    return None


@intrinsic
def _row_update4(typingctx, a, i, j, k, c0, c1, c2, c3):
    """a[i, k:k+LANES] -= sum_t c_t a[j+t, k:k+LANES], t = 0..3 (as ``_row_scale``: no bounds check)."""
    if _vector_rows(a):
        return types.void(a, i, j, k, c0, c1, c2, c3), _row_update_codegen(4)
    return None


@numba.njit(cache=True, nogil=True, fastmath=_FAST)
def _subtract_row(a, i, j, c):
    """a[i, s:] -= c a[j, s:] from s = i rounded down to a multiple of LANES (row i's part left of
    the diagonal is scratch: ``cholesky_solve_upper`` never reads it as a result)."""
    f = a.shape[1]
    k = i - i % LANES
    while k + LANES <= f:
        _row_update1(a, i, j, k, c)
        k += LANES
    while k < f:
        a[i, k] -= c * a[j, k]
        k += 1


@numba.njit(cache=True, nogil=True, fastmath=_FAST)
def cholesky_solve_upper(a, diag, b, x, tol):
    """Solve ``a x = b`` (upper triangle of ``a`` read, row-major) by a = U'U.

    Right-looking: four pivot rows of U at a time, then one rank-4 update of every row below,
    a row at a time and LANES columns at a time (explicit vector fused multiply-adds, from the
    row's diagonal rounded down to a multiple of LANES: the few entries left of the diagonal
    that this touches are scratch). The lower triangle is overwritten; U is left in the upper.
    ``diag`` receives a copy of the diagonal before factoring (the pivot test compares against
    it). Returns 0, or 1 for a pivot at or below ``tol`` x diagonal.
    """
    f = a.shape[0]
    for i in range(f):
        diag[i] = a[i, i]
    j0 = 0
    while j0 < f:
        nb = min(4, f - j0)
        for j in range(j0, j0 + nb):  # the panel: pivot rows j0..j0+nb-1, right-looking among themselves
            d = a[j, j]
            if not d > tol * diag[j]:  # also catches NaN
                return 1
            d = np.sqrt(d)
            k = j - j % LANES
            for q in range(k, j):
                a[j, q] = 0  # rows below read row j from a multiple of LANES: the scratch must be zero
            inv = np.float32(1.0) / d  # float32 stays float32 (float64: exact 1.0)
            while k + LANES <= f:
                _row_scale(a, j, k, inv)
                k += LANES
            while k < f:
                a[j, k] *= inv
                k += 1
            a[j, j] = d
            for i in range(j + 1, j0 + nb):
                _subtract_row(a, i, j, a[j, i])
        for i in range(j0 + nb, f):  # every row below the panel: a[i, i:] -= sum_t U[j0+t, i] U[j0+t, i:]
            if nb == 4:
                c0 = a[j0, i]
                c1 = a[j0 + 1, i]
                c2 = a[j0 + 2, i]
                c3 = a[j0 + 3, i]
                k = i - i % LANES
                while k + LANES <= f:
                    _row_update4(a, i, j0, k, c0, c1, c2, c3)
                    k += LANES
                while k < f:
                    a[i, k] = (((a[i, k] - c0 * a[j0, k]) - c1 * a[j0 + 1, k]) - c2 * a[j0 + 2, k]) - c3 * a[j0 + 3, k]
                    k += 1
            else:
                for j in range(j0, j0 + nb):
                    _subtract_row(a, i, j, a[j, i])
        j0 += nb
    # forward: U' z = b, column k of U' is row k of U: subtract z_k U[k, k+1:] from the rest
    for i in range(f):
        x[i] = b[i]
    for k in range(f):
        xk = x[k] / a[k, k]
        x[k] = xk
        uk = a[k, k + 1:]
        rest = x[k + 1:]
        for i in range(f - k - 1):
            rest[i] -= xk * uk[i]
    # backward: U x = z, dot products along rows of U in eight partial sums (independent chains)
    zero = b[0] - b[0]
    for i in range(f - 1, -1, -1):
        ui = a[i]
        s0 = x[i]
        s1 = s2 = s3 = s4 = s5 = s6 = s7 = zero
        k = i + 1
        while k + 8 <= f:
            s0 -= ui[k] * x[k]
            s1 -= ui[k + 1] * x[k + 1]
            s2 -= ui[k + 2] * x[k + 2]
            s3 -= ui[k + 3] * x[k + 3]
            s4 -= ui[k + 4] * x[k + 4]
            s5 -= ui[k + 5] * x[k + 5]
            s6 -= ui[k + 6] * x[k + 6]
            s7 -= ui[k + 7] * x[k + 7]
            k += 8
        while k < f:
            s0 -= ui[k] * x[k]
            k += 1
        x[i] = (((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))) / a[i, i]
    return 0


@numba.njit(cache=True, parallel=True, fastmath=_FAST)
def solve_rows_cholesky_f32(indptr, indices, weights, targets, Y, base, reg, out, status, blocks, tol):
    """float32 version of ``solve_rows_cholesky_exact``: the same systems, solved faster.

    The gathered rows (scaled by sqrt(w_k)) are added to the row's matrix by BLAS sgemm with
    beta = 1 (no temporary matrix, no extra pass), in ``GRAM_SPLIT`` column bands so that only
    the upper triangle, which ``cholesky_solve_upper`` reads, is computed; the rows of ``Y`` to
    gather are prefetched ``PREFETCH_AHEAD`` entries ahead. Results depend on the row only,
    never on the threads or blocks.
    """
    f = Y.shape[1]
    n_blocks = blocks.shape[0] - 1
    n_bands = GRAM_SPLIT if f >= 4 * GRAM_SPLIT else 1
    band = f // n_bands
    for blk in prange(n_blocks):
        a = np.empty((f, f), dtype=np.float32)
        gather = np.empty((GATHER_CHUNK_F32, f), dtype=np.float32)
        rhs = np.empty(f, dtype=np.float32)
        x = np.empty(f, dtype=np.float32)
        diag = np.empty(f, dtype=np.float32)
        one = np.ones(1, dtype=np.float32)
        # sgemm's by-reference arguments: "N", "T"; and m, n, k, leading dimension
        trans = np.array([ord("N"), ord("T")], dtype=np.uint8)
        dims = np.empty(4, dtype=np.int32)
        dims[3] = f
        block_end = indptr[blocks[blk + 1]]
        for u in range(blocks[blk], blocks[blk + 1]):
            start = indptr[u]
            end = indptr[u + 1]
            if end == start:
                out[u, :] = 0
                status[u] = 0
                continue
            for i in range(f):
                for j in range(f):
                    a[i, j] = base[i, j]
                a[i, i] += reg[u]
                rhs[i] = 0
            n = end - start
            if n <= INLINE_MAX:
                for p in range(start, end):
                    w = weights[p]
                    t = targets[p]
                    y = Y[indices[p]]
                    for i in range(f):
                        wy = w * y[i]
                        ai = a[i, i:]
                        yi = y[i:]
                        for j in range(f - i):
                            ai[j] += wy * yi[j]
                        rhs[i] += t * y[i]
            else:
                for chunk in range(start, end, GATHER_CHUNK_F32):
                    m = min(GATHER_CHUNK_F32, end - chunk)
                    for q in range(m):
                        p = chunk + q
                        if p + PREFETCH_AHEAD < block_end:  # the next rows' entries follow in order
                            _prefetch_row(Y, indices[p + PREFETCH_AHEAD])
                        y = Y[indices[p]]
                        sw = np.sqrt(weights[p])
                        t = targets[p]
                        g = gather[q]
                        for i in range(f):
                            g[i] = sw * y[i]
                            rhs[i] += t * y[i]
                    # column-major, BLAS sees a as its transpose C and G' as f x m (leading dimension f).
                    # a's upper triangle = C's lower: band b is C[lo:f, lo:hi] += G'[lo:f] G'[lo:hi]',
                    # i.e. rows lo..hi of a from column lo on (the diagonal block computed whole)
                    dims[2] = m
                    for b in range(n_bands):
                        lo = b * band
                        hi = f if b == n_bands - 1 else lo + band
                        dims[0] = f - lo
                        dims[1] = hi - lo
                        _sgemm(trans[0:].ctypes, trans[1:].ctypes, dims[0:].ctypes, dims[1:].ctypes,
                               dims[2:].ctypes, one.ctypes, gather[:, lo:].ctypes, dims[3:].ctypes,
                               gather[:, lo:].ctypes, dims[3:].ctypes, one.ctypes, a[lo, lo:].ctypes,
                               dims[3:].ctypes)
            code = cholesky_solve_upper(a, diag, rhs, x, tol)
            if code == 0:
                for i in range(f):
                    if not np.isfinite(x[i]):
                        code = 2
                    out[u, i] = x[i]
            else:
                out[u, :] = 0
            status[u] = code


@numba.njit(cache=True, nogil=True, fastmath=_FAST)
def _add_entries(Y, indices, weights, targets, minus_b, start, end, v, out, zero):
    """out += sum_k w_k (y_k . v) y_k over one row's entries, minus b = sum_k t_k y_k if ``minus_b``.

    Subtracting b in the same pass gives CG's first residual without another pass.
    ``zero`` is a 0 of the data's dtype, so float32 sums stay float32 (and vectorise).
    Entries go four at a time: one pass over v serves four dot products and one pass
    over ``out`` four updates, which saves loads and stores. On an x86-64 CPU with FMA, LLVM
    contracts the update of ``out`` into the same chain of fused multiply-adds as the earlier
    two-at-a-time loop, so the factors came out the same bits in float32 and float64 (checked
    on fits of both solvers); it takes up to ~20% less CPU on long-tail users.
    """
    f = v.shape[0]
    p = start
    while p + 3 < end:
        y1 = Y[indices[p]]
        y2 = Y[indices[p + 1]]
        y3 = Y[indices[p + 2]]
        y4 = Y[indices[p + 3]]
        d1 = zero
        d2 = zero
        d3 = zero
        d4 = zero
        for j in range(f):
            vj = v[j]
            d1 += y1[j] * vj
            d2 += y2[j] * vj
            d3 += y3[j] * vj
            d4 += y4[j] * vj
        d1 *= weights[p]
        d2 *= weights[p + 1]
        d3 *= weights[p + 2]
        d4 *= weights[p + 3]
        if minus_b:
            d1 -= targets[p]
            d2 -= targets[p + 1]
            d3 -= targets[p + 2]
            d4 -= targets[p + 3]
        for j in range(f):
            out[j] += d1 * y1[j] + d2 * y2[j] + d3 * y3[j] + d4 * y4[j]
        p += 4
    while p < end:
        k = indices[p]
        d = zero
        for j in range(f):
            d += Y[k, j] * v[j]
        d *= weights[p]
        if minus_b:
            d -= targets[p]
        for j in range(f):
            out[j] += d * Y[k, j]
        p += 1


@numba.njit(cache=True, parallel=True, fastmath=_FAST)
def solve_rows_cg(indptr, indices, weights, targets, Y, base, reg, out, status, blocks, cg_steps):
    """``cg_steps`` conjugate-gradient steps per row, warm-started from ``out``.

    Each step costs one product with the f x f ``base`` and two passes over the row's
    entries (Takacs, Pilaszy, Tikk 2011). Rows go in groups of ``CG_GROUP`` (fixed by
    the row index, so results never depend on the threads): the products of a group's
    vectors with ``base`` are one small matmul (level-3) instead of 16 matrix-vector
    products. Rows without entries get zero factors.
    """
    f = Y.shape[1]
    dtype = Y.dtype
    n_blocks = blocks.shape[0] - 1
    for blk in prange(n_blocks):
        X = np.empty((CG_GROUP, f), dtype=dtype)
        R = np.empty((CG_GROUP, f), dtype=dtype)
        P = np.empty((CG_GROUP, f), dtype=dtype)
        AP = np.empty((CG_GROUP, f), dtype=dtype)
        rs = np.empty(CG_GROUP, dtype=np.float64)
        active = np.empty(CG_GROUP, dtype=np.bool_)
        zero = targets[0] - targets[0]  # a typed 0 (targets are finite)
        for g0 in range(blocks[blk], blocks[blk + 1], CG_GROUP):
            m = min(CG_GROUP, blocks[blk + 1] - g0)
            for q in range(m):
                u = g0 + q
                status[u] = 0
                active[q] = indptr[u + 1] > indptr[u]
                for i in range(f):
                    X[q, i] = out[u, i] if active[q] else zero
            # R = b - A X, one matmul for the group plus one pass over each row's entries
            np.dot(X[:m], base, AP[:m])  # base is symmetric: row q of X base = (base x_q)'
            for q in range(m):
                u = g0 + q
                rs[q] = 0.0
                if not active[q]:
                    continue
                for i in range(f):
                    AP[q, i] += reg[u] * X[q, i]
                _add_entries(Y, indices, weights, targets, True, indptr[u], indptr[u + 1], X[q], AP[q], zero)
                for i in range(f):
                    R[q, i] = -AP[q, i]
                    P[q, i] = R[q, i]
                    rs[q] += R[q, i] * R[q, i]
            for _ in range(cg_steps):
                for q in range(m):
                    if active[q] and rs[q] <= 1e-20:
                        active[q] = False  # converged
                if not active[:m].any():
                    break
                np.dot(P[:m], base, AP[:m])
                for q in range(m):
                    if not active[q]:
                        continue
                    u = g0 + q
                    for i in range(f):
                        AP[q, i] += reg[u] * P[q, i]
                    _add_entries(Y, indices, weights, targets, False, indptr[u], indptr[u + 1], P[q], AP[q],
                                 zero)
                    pap = 0.0
                    for i in range(f):
                        pap += P[q, i] * AP[q, i]
                    if not pap > 0:
                        status[u] = 1
                        active[q] = False
                        continue
                    step = rs[q] / pap
                    rs_new = 0.0
                    for i in range(f):
                        X[q, i] += step * P[q, i]
                        R[q, i] -= step * AP[q, i]
                        rs_new += R[q, i] * R[q, i]
                    beta = rs_new / rs[q]
                    for i in range(f):
                        P[q, i] = R[q, i] + beta * P[q, i]
                    rs[q] = rs_new
            for q in range(m):
                u = g0 + q
                for i in range(f):
                    if not np.isfinite(X[q, i]):
                        status[u] = 2
                    out[u, i] = X[q, i]


@numba.njit(cache=True, parallel=True)
def implicit_loss_rows(indptr, indices, conf, X, Y, gram64, blocks, out):
    """Per-row part of the implicit objective, float64, without densifying.

    Row u: sum over ALL items of c_ui (p_ui - x_u.y_i)^2 =
    x_u' (Y'Y) x_u + sum over observed i of [c_ui (1 - s)^2 - s^2], s = x_u.y_i
    (every unobserved cell has p = 0 and c = 1). ``gram64`` is Y'Y in float64.
    """
    f = X.shape[1]
    n_blocks = blocks.shape[0] - 1
    for blk in prange(n_blocks):
        xu = np.empty(f, dtype=np.float64)
        for u in range(blocks[blk], blocks[blk + 1]):
            for i in range(f):
                xu[i] = X[u, i]
            total = 0.0
            for i in range(f):
                s = 0.0
                for j in range(f):
                    s += gram64[i, j] * xu[j]
                total += xu[i] * s
            for q in range(indptr[u], indptr[u + 1]):
                y = Y[indices[q]]
                s = 0.0
                for j in range(f):
                    s += xu[j] * y[j]
                c = conf[q]
                total += c * (1.0 - s) * (1.0 - s) - s * s
            out[u] = total


@numba.njit(cache=True, parallel=True)
def squared_error_rows(indptr, indices, values, X, Y, blocks, out):
    """Per-row sum over stored entries of (value - x_u.y_i)^2, in float64 (explicit ALS)."""
    f = X.shape[1]
    n_blocks = blocks.shape[0] - 1
    for blk in prange(n_blocks):
        for u in range(blocks[blk], blocks[blk + 1]):
            total = 0.0
            for q in range(indptr[u], indptr[u + 1]):
                i = indices[q]
                s = 0.0
                for j in range(f):
                    s += float(X[u, j]) * float(Y[i, j])
                e = values[q] - s
                total += e * e
            out[u] = total
