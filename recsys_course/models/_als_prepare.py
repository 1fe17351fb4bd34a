"""Set-up kernels of ``ImplicitALS.fit``: the per-side arrays the solvers read, in one pass each.

The solvers (``_als_kernels``) read, for each side (users, items), the CSR structure plus a
weight ``w = c - 1`` and a target ``t = c`` per stored entry, in the model's dtype. These
kernels build them straight from the counts, without a confidence matrix in between:

* :func:`confidence_weights` turns counts (or, for the log scheme, confidences computed by
  numpy) into ``w`` and ``t`` in one pass; the arithmetic is the same IEEE operations as
  ``feedback.confidence`` followed by ``c - 1`` and a cast, so the values are bit for bit
  the ones a confidence matrix would give.
* :func:`transpose_rows` is a counting sort: the item side's CSR arrays, weights and targets
  in one pass, rows kept in order inside each column (as ``scipy``'s transpose does).

No input checks here: ``als.py`` validates once, before calling them.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["confidence_weights", "transpose_rows"]


@numba.njit(cache=True, nogil=True)
def confidence_weights(values, alpha, linear, weights, targets):
    """``c = 1 + alpha * values`` (``linear``) or ``c = values``; ``weights = c - 1``, ``targets = c``.

    Computed in float64 and rounded once when stored (so float32 output equals
    ``(c - 1.0).astype(np.float32)`` and ``c.astype(np.float32)``). Returns the largest c.
    """
    largest = 1.0
    for p in range(values.shape[0]):
        c = 1.0 + alpha * values[p] if linear else values[p]
        weights[p] = c - 1.0
        targets[p] = c
        if c > largest:
            largest = c
    return largest


@numba.njit(cache=True, nogil=True)
def transpose_rows(indptr, indices, weights, targets, out_indptr, out_indices, out_weights, out_targets):
    """The transpose of a CSR matrix with two value arrays, by counting sort.

    ``out_indptr`` (length columns + 1) must come in zeroed; every other output is filled.
    Inside each output row the column indices (the input's row numbers) come out sorted.
    """
    n_rows = indptr.shape[0] - 1
    n_cols = out_indptr.shape[0] - 1
    for p in range(indptr[0], indptr[n_rows]):
        out_indptr[indices[p] + 1] += 1
    for j in range(n_cols):
        out_indptr[j + 1] += out_indptr[j]
    cursor = out_indptr[:n_cols].copy()
    for r in range(n_rows):
        for p in range(indptr[r], indptr[r + 1]):
            j = indices[p]
            q = cursor[j]
            out_indices[q] = r
            out_weights[q] = weights[p]
            out_targets[q] = targets[p]
            cursor[j] = q + 1
