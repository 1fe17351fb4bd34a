"""Set-up kernels of ``ImplicitALS.fit``: the per-side arrays the solvers read, in one pass each.

The solvers (``_als_kernels``) read, for each side (users, items), the CSR structure plus a
weight ``w = c - 1`` and a target ``t = c`` per stored entry, in the model's dtype. These
kernels build them straight from the counts, without a confidence matrix in between:

* :func:`confidence_weights` turns counts (or, for the log scheme, confidences computed by
  numpy) into ``w`` and ``t`` in one pass; the arithmetic is the same IEEE operations as
  ``feedback.confidence`` followed by ``c - 1`` and a cast, so the values are bit for bit
  the ones a confidence matrix would give.
* :func:`transpose_rows` is a counting sort: the item side's CSR arrays, weights and targets
  in one pass, rows kept in order inside each column (as ``scipy``'s transpose does). When
  every target is exactly its weight + 1 in the stored dtype (integer counts with the linear
  scheme, and always in float64), only the weights are scattered and the targets are
  recomputed in order afterwards: one random-access stream fewer.

No input checks here: ``als.py`` validates once, before calling them.
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.core.extending import intrinsic

__all__ = ["build_sides", "confidence_weights", "transpose_rows"]


#: entries ahead whose scatter slots are prefetched for writing: each entry writes a slot in two
#: arrays far larger than the caches, so without a hint each write waited for its cache line
#: (build_sides on the 7.3M-entry benchmark matrix, arrays already in memory, best of 6: 0.27-0.35 s
#: without the hint, 0.17-0.24 s with it, in interleaved runs on one 2-core Zen 3 machine)
SCATTER_AHEAD = 16


@intrinsic
def _prefetch_for_write(typingctx, array, index):
    """Ask the CPU to fetch the cache line of ``array[index]`` (1-D) to be written. A hint: it never
    changes a result, and an index out of range is harmless because nothing is accessed."""
    sig = types.void(array, index)

    def codegen(context, builder, signature, args):
        arr = context.make_array(signature.args[0])(context, builder, args[0])
        index = context.cast(builder, args[1], signature.args[1], types.intp)
        byte = ir.IntType(8).as_pointer()
        hint = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte] + [ir.IntType(32)] * 3), "llvm.prefetch.p0")
        i32 = ir.IntType(32)
        builder.call(hint, [builder.bitcast(builder.gep(arr.data, [index]), byte), i32(1), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen


@numba.njit(inline="always", cache=True)
def _column_cursor(indptr, indices, out_indptr):
    """Fills the zeroed ``out_indptr`` of the transpose (entries per column, then their running
    sum) and returns a copy of each column's first slot, to be advanced as entries land."""
    n_rows = indptr.shape[0] - 1
    n_cols = out_indptr.shape[0] - 1
    for p in range(indptr[0], indptr[n_rows]):
        out_indptr[indices[p] + 1] += 1
    for j in range(n_cols):
        out_indptr[j + 1] += out_indptr[j]
    return out_indptr[:n_cols].copy()


@numba.njit(inline="always", cache=True)
def _store_confidence(values, p, alpha, linear, weights, targets):
    """Entry p's c (computed in float64), stored as weight c - 1 and target c; returns c and
    whether the stored target is exactly the stored weight + 1."""
    c = 1.0 + alpha * values[p] if linear else values[p]
    weights[p] = c - 1.0
    targets[p] = c
    return c, float(targets[p]) == float(weights[p]) + 1.0


@numba.njit(inline="always", cache=True)
def _targets_from_weights(weights, targets):
    """Every target as its weight + 1 (valid only when that was exact for every entry)."""
    for q in range(weights.shape[0]):
        targets[q] = float(weights[q]) + 1.0


@numba.njit(cache=True, nogil=True)
def confidence_weights(values, alpha, linear, weights, targets):
    """``c = 1 + alpha * values`` (``linear``) or ``c = values``; ``weights = c - 1``, ``targets = c``.

    Computed in float64 and rounded once when stored (so float32 output equals
    ``(c - 1.0).astype(np.float32)`` and ``c.astype(np.float32)``). Returns the largest c and
    whether every stored target equals its stored weight + 1 exactly (then the weight + 1,
    computed in float64 and stored, gives back the target bit for bit).
    """
    largest = 1.0
    derivable = True
    for p in range(values.shape[0]):
        c, exact = _store_confidence(values, p, alpha, linear, weights, targets)
        largest = max(largest, c)
        derivable = derivable and exact
    return largest, derivable


@numba.njit(cache=True, nogil=True)
def transpose_rows(indptr, indices, weights, targets, derive, out_indptr, out_indices, out_weights, out_targets):
    """The transpose of a CSR matrix with two value arrays, by counting sort.

    ``out_indptr`` (length columns + 1) must come in zeroed; every other output is filled.
    Inside each output row the column indices (the input's row numbers) come out sorted.
    ``derive``: every target is its weight + 1 exactly (see :func:`confidence_weights`), so the
    targets are recomputed from the transposed weights instead of being scattered.
    """
    cursor = _column_cursor(indptr, indices, out_indptr)
    end = indptr[indptr.shape[0] - 1]
    for r in range(indptr.shape[0] - 1):
        for p in range(indptr[r], indptr[r + 1]):
            if p + SCATTER_AHEAD < end:  # where an entry further on will land (a hint only)
                ahead = cursor[indices[p + SCATTER_AHEAD]]
                _prefetch_for_write(out_indices, ahead)
                _prefetch_for_write(out_weights, ahead)
            j = indices[p]
            q = cursor[j]
            out_indices[q] = r
            out_weights[q] = weights[p]
            if not derive:
                out_targets[q] = targets[p]
            cursor[j] = q + 1
    if derive:
        _targets_from_weights(out_weights, out_targets)


@numba.njit(cache=True, nogil=True)
def build_sides(values, alpha, linear, indptr, indices, weights, targets, out_indptr, out_indices, out_weights,
                out_targets):
    """:func:`confidence_weights` and :func:`transpose_rows` in one pass over the counts.

    Fills the user side's ``weights``/``targets`` and the item side's four arrays
    (``out_indptr`` must come in zeroed). The item side's targets are recomputed from its
    weights when every target is its weight + 1 exactly, else scattered in a second pass.
    Returns the largest c and whether the targets were derivable; the arrays are the same,
    bit for bit, as the two kernels give.
    """
    n_rows = indptr.shape[0] - 1
    cursor = _column_cursor(indptr, indices, out_indptr)
    largest = 1.0
    derivable = True
    end = indptr[n_rows]
    for r in range(n_rows):
        for p in range(indptr[r], indptr[r + 1]):
            if p + SCATTER_AHEAD < end:  # where an entry further on will land (a hint only)
                ahead = cursor[indices[p + SCATTER_AHEAD]]
                _prefetch_for_write(out_indices, ahead)
                _prefetch_for_write(out_weights, ahead)
            c, exact = _store_confidence(values, p, alpha, linear, weights, targets)
            largest = max(largest, c)
            derivable = derivable and exact
            j = indices[p]
            q = cursor[j]
            out_indices[q] = r
            out_weights[q] = weights[p]
            cursor[j] = q + 1
    if derivable:
        _targets_from_weights(out_weights, out_targets)
    else:
        cursor[:] = out_indptr[:cursor.shape[0]]
        for r in range(n_rows):
            for p in range(indptr[r], indptr[r + 1]):
                j = indices[p]
                out_targets[cursor[j]] = targets[p]
                cursor[j] += 1
    return largest, derivable
