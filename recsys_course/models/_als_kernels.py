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
    "cholesky_solve_augmented",
    "gram_upper_add",
    "padded",
    "cholesky_solve_inplace",
    "row_blocks",
    "solve_rows_cg",
    "solve_rows_cg_f32",
    "solve_rows_cg_groups",
    "solve_rows_cholesky",
    "solve_rows_cholesky_exact",
    "solve_rows_cholesky_f32",
    "implicit_loss_rows",
    "squared_error_rows",
]

#: reassociation lets LLVM vectorise the dot products; NaN/inf checks must keep working,
#: so the "no NaN" and "no inf" assumptions of full fastmath are left out
_FAST = {"reassoc", "contract", "arcp", "nsz"}

#: rows solved together by the float64 CG kernel: their products with Y'Y are one small matmul
#: per step (the float32 kernel solves rows one at a time)
CG_GROUP = 16

#: rows of Y gathered at once before one level-3 product. Small on purpose: OpenBLAS
#: multiplies (f x 32) by (32 x f) with its small-matrix kernel at ~100 GFLOP/s on one
#: core, while taller blocks take its general path, 3-6x slower per flop when called
#: from many threads (measured: half-sweep at f=128 on long-tail data 27 s -> 4 s)
GATHER_CHUNK = 32
#: rows with at most this many entries update the matrix by rank-1 loops instead of a matmul
INLINE_MAX = 4
#: rows of Y gathered at once by the float32 Cholesky kernel before its register tiles add them
#: to the row's matrix (the tiles' loads and stores of the matrix are shared by this many rows)
GATHER_CHUNK_F32 = 64

#: gathered entries ahead whose row of Y is prefetched: the rows are scattered over a matrix
#: larger than the caches, so without a hint each gather waited for memory (the build took
#: about 1.5x the CPU time on the 100k x 50k long tail at f = 64)
PREFETCH_AHEAD = 8


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
    kernel = solve_rows_cholesky_f32 if Y.dtype == np.float32 else solve_rows_cholesky_exact
    kernel(indptr, indices, weights, targets, Y, base, reg, out, status, blocks, tol)


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


#: lanes of the explicit vector operations of the float32 kernel (8 float32: one 256-bit register)
LANES = 8
#: rows of a register tile: each step of a tile broadcasts TILE_ROWS numbers and loads up to
#: three LANES-wide vectors, for up to 12 fused multiply-adds into accumulators held in registers
TILE_ROWS = 4
#: rows of U factored together before their product updates every row below them
PANEL = 8


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


@intrinsic
def _row_scale(typingctx, a, i, k, s):
    """a[i, k:k+LANES] *= s (2-D C-contiguous float array; no bounds check: k + LANES <= a.shape[1])."""
    if _vector_rows(a):
        return types.void(a, i, k, s), _row_scale_codegen
    return None


#: what a tile does (``_tile``'s ``kind``): add g'g with TILE_ROWS-row tiles, subtract it with
#: TILE_ROWS-row tiles, subtract it with one-row tiles
_ADD, _SUBTRACT, _SUBTRACT_ONE_ROW = 0, 1, 2


def _emit_tile(context, builder, a_type, a_arr, g_type, g_arr, i, j, t0, t1, n_rows, n_vectors, subtract):
    """LLVM code for ``a[i:i+n_rows, j:j+LANES*n_vectors] (+ or -)= g[t0:t1, i:i+n_rows]' g[t0:t1, j:...]``.

    The tile of ``a`` is loaded into n_rows x n_vectors vector accumulators (local variables that
    LLVM keeps in registers), then for each t = t0, ..., t1 - 1 in order: n_vectors loads of row t of
    ``g``, n_rows broadcasts, one fused multiply-add per accumulator; the tile is stored once at the
    end. Numba leaves LLVM's SLP vectoriser off and its loop vectoriser does not block for
    registers, hence the explicit code.
    """
    vector = ir.VectorType(context.get_value_type(a_type.dtype), LANES)
    bits = 32 if a_type.dtype == types.float32 else 64
    fma = cgutils.get_or_insert_function(builder.module, ir.FunctionType(vector, [vector] * 3),
                                         f"llvm.fma.v{LANES}f{bits}")
    zeros = ir.Constant(ir.VectorType(ir.IntType(32), LANES), [0] * LANES)

    def const(value):
        return context.get_constant(types.intp, value)

    def item(arr, array_type, row, col):
        return cgutils.get_item_pointer2(context, builder, arr.data, cgutils.unpack_tuple(builder, arr.shape),
                                         cgutils.unpack_tuple(builder, arr.strides), array_type.layout, [row, col])

    def vector_at(arr, array_type, row, col):
        return builder.bitcast(item(arr, array_type, row, col), vector.as_pointer())

    places, slots = [], []
    for r in range(n_rows):
        for v in range(n_vectors):
            place = vector_at(a_arr, a_type, builder.add(i, const(r)), builder.add(j, const(LANES * v)))
            slot = cgutils.alloca_once(builder, vector)
            builder.store(builder.load(place, align=1), slot)
            places.append(place)
            slots.append(slot)
    with cgutils.for_range_slice(builder, t0, t1, const(1)) as (t, _):
        loaded = [builder.load(vector_at(g_arr, g_type, t, builder.add(j, const(LANES * v))), align=1)
                  for v in range(n_vectors)]
        for r in range(n_rows):
            scalar = builder.load(item(g_arr, g_type, t, builder.add(i, const(r))))
            if subtract:
                scalar = builder.fneg(scalar)
            splat = builder.insert_element(ir.Constant(vector, ir.Undefined), scalar, ir.Constant(ir.IntType(32), 0))
            splat = builder.shuffle_vector(splat, ir.Constant(vector, ir.Undefined), zeros)
            for v in range(n_vectors):
                slot = slots[r * n_vectors + v]
                builder.store(builder.call(fma, [splat, loaded[v], builder.load(slot)]), slot)
    for place, slot in zip(places, slots):
        builder.store(builder.load(slot), place, align=1)


def _tile_codegen(context, builder, signature, args):
    """One branch per (kind, number of vectors 1..3), chosen at run time by a switch."""
    a_type, g_type = signature.args[0], signature.args[3]
    a_arr = context.make_array(a_type)(context, builder, args[0])
    g_arr = context.make_array(g_type)(context, builder, args[3])
    i, j, t0, t1, n_vectors, kind = (context.cast(builder, args[n], signature.args[n], types.intp)
                                     for n in (1, 2, 4, 5, 6, 7))
    selector = builder.add(builder.mul(kind, context.get_constant(types.intp, 4)), n_vectors)
    done = builder.append_basic_block("tile.done")
    switch = builder.switch(selector, done)
    for which in (_ADD, _SUBTRACT, _SUBTRACT_ONE_ROW):
        for count in (1, 2, 3):
            branch = builder.append_basic_block(f"tile.{which}.{count}")
            switch.add_case(context.get_constant(types.intp, 4 * which + count), branch)
            builder.position_at_end(branch)
            _emit_tile(context, builder, a_type, a_arr, g_type, g_arr, i, j, t0, t1,
                       1 if which == _SUBTRACT_ONE_ROW else TILE_ROWS, count, which != _ADD)
            builder.branch(done)
    builder.position_at_end(done)
    return context.get_dummy_value()


@intrinsic
def _tile(typingctx, a, i, j, g, t0, t1, n_vectors, kind):
    """``_emit_tile`` with n_rows = TILE_ROWS (1 for _SUBTRACT_ONE_ROW) and n_vectors in 1..3, both
    chosen at run time (any other value does nothing). 2-D C-contiguous float arrays of one dtype; no
    bounds check: the caller keeps every row and column in range."""
    if _vector_rows(a) and _vector_rows(g) and a.dtype == g.dtype:
        return types.void(a, i, j, g, t0, t1, n_vectors, kind), _tile_codegen
    return None


def _vector_rows(a) -> bool:
    """The intrinsics load LANES neighbours of a row at once: only C-contiguous 2-D float arrays."""
    return isinstance(a, types.Array) and a.ndim == 2 and a.layout == "C" and a.dtype in (types.float32, types.float64)


@numba.njit(cache=True, nogil=True, fastmath=_FAST)
def _tile_band(a, i, width, g, t0, t1, kind):
    """Rows i.. of a (TILE_ROWS of them, or one for _SUBTRACT_ONE_ROW), columns from i rounded down to
    LANES up to ``width``: a[i + r, c] (+ or -)= sum over t0 <= t < t1 of g[t, i + r] g[t, c], in tiles of
    three vectors and a last one of two or one."""
    c = i - i % LANES
    while c < width:
        n_vectors = min(3, (width - c) // LANES)
        _tile(a, i, c, g, t0, t1, n_vectors, kind)
        c += n_vectors * LANES


@numba.njit(cache=True, nogil=True, fastmath=_FAST)
def gram_upper_add(a, g, m, width):
    """a[i, i':width] += g[:m, i]' g[:m, i':width] for every row i, i' = i rounded down to a multiple of LANES.

    The upper triangle of ``a[:, :width]`` gains ``g[:m, :width]' g[:m, :width]`` (``width`` a multiple
    of LANES, at most ``a.shape[0]`` rows), in TILE_ROWS x 24 register tiles; the few entries left of
    each diagonal that a tile also touches are scratch. Each entry sums over t = 0, ..., m - 1 in order.
    """
    for i in range(0, width, TILE_ROWS):
        _tile_band(a, i, width, g, 0, m, _ADD)


@numba.njit(cache=True, nogil=True, fastmath=_FAST)
def cholesky_solve_augmented(a, diag, x, tol):
    """Solve ``A x = b`` given ``a = [A b 0]``: n x (n + LANES), n a multiple of LANES, b in column n.

    Only the upper triangle of A is read (row-major). A = U'U is factored right-looking, PANEL pivot
    rows at a time: each pivot row first takes the updates of the panel rows above it in one pass
    and is scaled by 1 / its pivot; then the panel updates every row below it by register tiles.
    The same row operations turn column n into z = U'^-1 b. Back substitution U x = z goes eight
    rows at a time (their dot products with the solved part are independent). Row i's entries left of its diagonal, from i rounded down to LANES, are scratch
    (zeroed before the row is read); U is left in the upper triangle. ``diag`` receives A's diagonal
    before factoring (the pivot test compares against it). Returns 0, or 1 for a pivot at or below
    ``tol`` x its diagonal (NaN included).
    """
    n = a.shape[0]
    width = a.shape[1]
    for i in range(n):
        diag[i] = a[i, i]
    for j0 in range(0, n, PANEL):
        j1 = min(j0 + PANEL, n)
        for j in range(j0, j1):
            if j > j0:  # the panel's pivot rows above j, applied to row j at once
                _tile_band(a, j, width, a, j0, j, _SUBTRACT_ONE_ROW)
            d = a[j, j]
            if not d > tol * diag[j]:  # also catches NaN
                return 1
            d = np.sqrt(d)
            k = j - j % LANES
            for q in range(k, j):
                a[j, q] = 0  # later updates read row j from a multiple of LANES: the scratch must be zero
            inv = np.float32(1.0) / d  # float32 stays float32 (float64: exact 1.0)
            while k < width:
                _row_scale(a, j, k, inv)
                k += LANES
            a[j, j] = d
        for i in range(j1, n, TILE_ROWS):  # the panel's rows of U applied to every row below it
            _tile_band(a, i, width, a, j0, j1, _SUBTRACT)
    for i0 in range(n - LANES, -1, -LANES):
        s0, s1, s2, s3 = a[i0, n], a[i0 + 1, n], a[i0 + 2, n], a[i0 + 3, n]
        s4, s5, s6, s7 = a[i0 + 4, n], a[i0 + 5, n], a[i0 + 6, n], a[i0 + 7, n]
        for k in range(i0 + LANES, n):
            xk = x[k]
            s0 -= a[i0, k] * xk
            s1 -= a[i0 + 1, k] * xk
            s2 -= a[i0 + 2, k] * xk
            s3 -= a[i0 + 3, k] * xk
            s4 -= a[i0 + 4, k] * xk
            s5 -= a[i0 + 5, k] * xk
            s6 -= a[i0 + 6, k] * xk
            s7 -= a[i0 + 7, k] * xk
        x[i0], x[i0 + 1], x[i0 + 2], x[i0 + 3] = s0, s1, s2, s3
        x[i0 + 4], x[i0 + 5], x[i0 + 6], x[i0 + 7] = s4, s5, s6, s7
        for i in range(i0 + LANES - 1, i0 - 1, -1):
            s = x[i]
            for k in range(i + 1, i0 + LANES):
                s -= a[i, k] * x[k]
            x[i] = s / a[i, i]
    return 0


def padded(f: int) -> int:
    """f rounded up to a multiple of LANES: the float32 kernel's systems are padded by an identity block."""
    return -(-f // LANES) * LANES


@numba.njit(cache=True, parallel=True, fastmath=_FAST)
def solve_rows_cholesky_f32(indptr, indices, weights, targets, Y, base, reg, out, status, blocks, tol):
    """float32 version of ``solve_rows_cholesky_exact``: the same systems, solved faster.

    Each row's system is padded to n = f rounded up to LANES (an identity block below and right of it,
    which leaves the first f unknowns unchanged) and augmented by its right-hand side
    (``cholesky_solve_augmented``). The gathered rows of ``Y``, scaled by sqrt(w_k), are added to
    the upper triangle by register tiles (``gram_upper_add``), GATHER_CHUNK_F32 rows at a time; the
    rows to gather are prefetched PREFETCH_AHEAD entries ahead. No BLAS: the speed does not depend on
    a library's small-matrix path. Results depend on the row only, never on the threads or blocks.
    """
    f = Y.shape[1]
    n = (f + LANES - 1) // LANES * LANES
    width = n + LANES
    n_blocks = blocks.shape[0] - 1
    for blk in prange(n_blocks):
        start_flat = np.zeros(n * width, dtype=np.float32)  # [upper triangle of base, identity padding | 0]
        start = start_flat.reshape((n, width))
        for i in range(f):
            for j in range(i, f):
                start[i, j] = base[i, j]
        for i in range(f, n):
            start[i, i] = 1
        a_flat = np.empty(n * width, dtype=np.float32)
        a = a_flat.reshape((n, width))
        gather = np.zeros((GATHER_CHUNK_F32, n), dtype=np.float32)  # columns f..n-1 stay zero
        rhs = np.empty(n, dtype=np.float32)
        x = np.empty(n, dtype=np.float32)
        diag = np.empty(n, dtype=np.float32)
        block_end = indptr[blocks[blk + 1]]
        for u in range(blocks[blk], blocks[blk + 1]):
            first = indptr[u]
            end = indptr[u + 1]
            if end == first:
                out[u, :] = 0
                status[u] = 0
                continue
            for q in range(n * width):
                a_flat[q] = start_flat[q]
            for i in range(f):
                a[i, i] += reg[u]
            rhs[:] = 0
            for chunk in range(first, end, GATHER_CHUNK_F32):
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
                gram_upper_add(a, gather, m, n)
            for i in range(n):
                a[i, n] = rhs[i]
            code = cholesky_solve_augmented(a, diag, x, tol)
            if code == 0:
                for i in range(f):
                    if not np.isfinite(x[i]):
                        code = 2
                    out[u, i] = x[i]
            else:
                out[u, :] = 0
            status[u] = code


@numba.njit(cache=True, nogil=True, fastmath=_FAST)
def _add_entries(Y, indices, weights, targets, minus_b, start, end, v, out, zero, prefetch_end):
    """out += sum_k w_k (y_k . v) y_k over one row's entries, minus b = sum_k t_k y_k if ``minus_b``.

    The rows of Y for entries up to ``prefetch_end`` (exclusive) are prefetched PREFETCH_AHEAD
    entries ahead; None compiles a version without prefetching (the machine code of the float64
    kernel before prefetching existed, so its results keep their bits).
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
        if prefetch_end is not None:  # a None argument compiles without this branch
            for e in range(p + PREFETCH_AHEAD, min(p + PREFETCH_AHEAD + 4, prefetch_end)):
                _prefetch_row(Y, indices[e])
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


def solve_rows_cg(indptr, indices, weights, targets, Y, base, reg, out, status, blocks, cg_steps):
    """``cg_steps`` conjugate-gradient steps per row (see module docstring), warm-started from ``out``.

    float32 factors go to ``solve_rows_cg_f32`` (rows one at a time, faster); every other dtype to
    ``solve_rows_cg_groups``, whose float64 results the notebooks print. Both take the same steps
    and differ only by rounding.
    """
    kernel = solve_rows_cg_f32 if Y.dtype == np.float32 else solve_rows_cg_groups
    kernel(indptr, indices, weights, targets, Y, base, reg, out, status, blocks, cg_steps)


@numba.njit(cache=True, parallel=True, fastmath=_FAST)
def solve_rows_cg_groups(indptr, indices, weights, targets, Y, base, reg, out, status, blocks, cg_steps):
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
                _add_entries(Y, indices, weights, targets, True, indptr[u], indptr[u + 1], X[q], AP[q], zero,
                             None)
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
                                 zero, None)
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


@numba.njit(cache=True, nogil=True, fastmath=_FAST)
def _base_times(base, p, reg, out):
    """out = base p + reg p for a symmetric ``base``: the rows of base weighted by p's entries, so
    the inner loop runs along contiguous rows (and vectorises)."""
    f = p.shape[0]
    for j in range(f):
        out[j] = reg * p[j]
    for t in range(f):
        pt = p[t]
        row = base[t]
        for j in range(f):
            out[j] += pt * row[j]


@numba.njit(cache=True, parallel=True, fastmath=_FAST)
def solve_rows_cg_f32(indptr, indices, weights, targets, Y, base, reg, out, status, blocks, cg_steps):
    """The steps of ``solve_rows_cg_groups``, one row at a time.

    A row's CG steps all run before the next row starts, so the rows of ``Y`` its entries
    gather stay in the core's caches for every pass after the first (a group of 16 rows, as in
    ``solve_rows_cg_groups``, can gather more than the L2 cache holds on long-tail data); the
    product with ``base`` is a matrix-vector product, and the first pass prefetches the rows
    of ``Y`` ahead. Results depend on the row only, never on the threads or blocks.
    """
    f = Y.shape[1]
    dtype = Y.dtype
    n_blocks = blocks.shape[0] - 1
    for blk in prange(n_blocks):
        x = np.empty(f, dtype=dtype)
        r = np.empty(f, dtype=dtype)
        p = np.empty(f, dtype=dtype)
        ap = np.empty(f, dtype=dtype)
        zero = targets[0] - targets[0]  # a typed 0 (targets are finite)
        block_end = indptr[blocks[blk + 1]]
        for u in range(blocks[blk], blocks[blk + 1]):
            status[u] = 0
            start = indptr[u]
            end = indptr[u + 1]
            if end == start:
                out[u, :] = 0
                continue
            for i in range(f):
                x[i] = out[u, i]
            # r = b - A x: base x + reg x, then the entries (minus b) in one pass
            _base_times(base, x, reg[u], ap)
            _add_entries(Y, indices, weights, targets, True, start, end, x, ap, zero, block_end)
            rs = 0.0
            for i in range(f):
                r[i] = -ap[i]
                p[i] = r[i]
                rs += r[i] * r[i]
            for _ in range(cg_steps):
                if rs <= 1e-20:  # converged
                    break
                _base_times(base, p, reg[u], ap)
                _add_entries(Y, indices, weights, targets, False, start, end, p, ap, zero, None)
                pap = 0.0
                for i in range(f):
                    pap += p[i] * ap[i]
                if not pap > 0:
                    status[u] = 1
                    break
                step = rs / pap
                rs_new = 0.0
                for i in range(f):
                    x[i] += step * p[i]
                    r[i] -= step * ap[i]
                    rs_new += r[i] * r[i]
                beta = rs_new / rs
                for i in range(f):
                    p[i] = r[i] + beta * p[i]
                rs = rs_new
            for i in range(f):
                if not np.isfinite(x[i]):
                    status[u] = 2
                out[u, i] = x[i]


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
