"""Input checks shared by every public function.

Each checker names the argument, shows the bad value and says what is allowed,
so a learner never meets a numba or scipy traceback for a wrong input.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = [
    "check_bool",
    "check_choice",
    "check_counts",
    "check_csr_counts",
    "check_float",
    "check_index",
    "check_int",
    "check_random_state",
    "describe",
]


def describe(value: Any) -> str:
    """A short, readable form of ``value`` for an error message."""
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    if sp.issparse(value):
        return f"sparse matrix of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_bool(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {describe(value)}")
    return bool(value)


def check_int(
    value: Any,
    name: str,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    """An integer (not a bool, not a float) inside ``[minimum, maximum]``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {describe(value)}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be an integer <= {maximum}, got {value}")
    return value


def check_float(
    value: Any,
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    strict_minimum: bool = False,
) -> float:
    """A finite real number inside the given bounds (``> minimum`` when strict)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {describe(value)}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    if minimum is not None:
        if strict_minimum and value <= minimum:
            raise ValueError(f"{name} must be a finite number > {minimum:g}, got {value}")
        if not strict_minimum and value < minimum:
            raise ValueError(f"{name} must be a finite number >= {minimum:g}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be a finite number <= {maximum:g}, got {value}")
    return value


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}, got {describe(value)}")
    return value


def check_random_state(random_state: Any, name: str = "random_state") -> np.random.Generator:
    """None, a non-negative int or a numpy Generator -> a Generator."""
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, (bool, np.bool_)) or not isinstance(random_state, numbers.Integral):
        raise TypeError(
            f"{name} must be None, an integer >= 0 or a numpy.random.Generator, "
            f"got {describe(random_state)}"
        )
    if random_state < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {random_state}")
    return np.random.default_rng(int(random_state))


def _check_values(values: np.ndarray, name: str) -> None:
    if values.dtype == bool:
        return
    if not np.issubdtype(values.dtype, np.number) or np.issubdtype(values.dtype, np.complexfloating):
        raise TypeError(f"{name} must hold real numbers, got dtype {values.dtype}")
    if values.size == 0:
        return
    if np.issubdtype(values.dtype, np.floating) and not np.all(np.isfinite(values)):
        bad = values[~np.isfinite(values)][0]
        raise ValueError(f"{name} must hold finite numbers, found {bad}")
    low = values.min()
    if low < 0:
        raise ValueError(f"{name} must hold counts >= 0, found {low}")


def check_counts(counts: Any, name: str = "counts", *, max_ndim: int = 2) -> np.ndarray | sp.csr_matrix:
    """Non-negative finite counts, dense (ndim <= ``max_ndim``) or scipy sparse.

    Dense input comes back as a float64 ndarray; sparse input as a float64 CSR
    matrix with duplicates summed and explicit zeros kept as given.
    """
    if sp.issparse(counts):
        if counts.ndim != 2:
            raise ValueError(f"{name} must be a 2-d sparse matrix, got {describe(counts)}")
        _check_values(np.asarray(counts.data), name)
        out = sp.csr_matrix(counts, dtype=np.float64, copy=True)
        out.sum_duplicates()
        return out
    if isinstance(counts, (str, bytes)) or counts is None:
        raise TypeError(f"{name} must be an array of counts or a scipy sparse matrix, got {describe(counts)}")
    try:
        array = np.asarray(counts)
    except (ValueError, TypeError) as err:  # ragged lists and the like
        raise ValueError(f"{name} must be a rectangular array of counts ({err})") from None
    if array.dtype == object:
        raise TypeError(f"{name} must hold real numbers, got {describe(counts)}")
    if array.ndim > max_ndim:
        raise ValueError(f"{name} must have at most {max_ndim} dimensions, got shape {array.shape}")
    _check_values(array, name)
    return array.astype(np.float64)


def check_csr_counts(
    counts: Any,
    name: str = "counts",
    *,
    allow_empty: bool = False,
) -> sp.csr_matrix:
    """A 2-d users x items matrix of non-negative counts as canonical float64 CSR.

    Accepts a scipy sparse matrix or array, or a 2-d dense array. Explicit zeros
    are dropped, duplicates summed, indices sorted.
    """
    if not sp.issparse(counts):
        if isinstance(counts, np.ndarray) and counts.ndim == 2:
            counts = sp.csr_matrix(check_counts(counts, name))
        else:
            raise TypeError(
                f"{name} must be a users x items scipy.sparse matrix of counts, got {describe(counts)}"
            )
    out = check_counts(counts, name)
    out.eliminate_zeros()
    out.sort_indices()
    if not allow_empty and (out.shape[0] == 0 or out.shape[1] == 0 or out.nnz == 0):
        raise ValueError(f"{name} must hold at least one positive count, got {describe(counts)} with {out.nnz} non-zeros")
    return out


def check_index(value: Any, name: str, size: int, what: str) -> int:
    """An integer index into ``range(size)``; ``what`` names the kind ('user', 'item')."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer {what} index, got {describe(value)}")
    value = int(value)
    if not 0 <= value < size:
        raise ValueError(f"{name} must be a known {what} index in [0, {size - 1}], got {value}")
    return value


def check_index_array(
    values: Any,
    name: str,
    size: int,
    what: str,
    *,
    ndim: int = 1,
    padding: int | None = None,
    nonempty: bool = False,
) -> np.ndarray:
    """An array of integer indices into ``range(size)`` as int64; ``what`` names the kind ('user',
    'item'). The one check for index arrays: a wrong number of dimensions or an empty array (when
    ``nonempty``) is a ValueError, a non-integer dtype (bool included) a TypeError, an index outside
    the range a ValueError naming the first one. ``padding`` is a value allowed besides the range
    (the -1 that fills top-k slots nobody could fill)."""
    array = np.asarray(values)
    if array.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-d sequence of {what} indices, got {describe(values)}")
    if nonempty and array.size == 0:
        raise ValueError(f"{name} must hold at least one {what} index, got an empty array")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{name} must hold integer {what} indices, got dtype {array.dtype}")
    array = array.astype(np.int64)
    outside = (array < 0) | (array >= size)
    if padding is not None:
        outside &= array != padding
    if outside.any():
        allowed = f"[0, {size - 1}]" + (f" or {padding}" if padding is not None else "")
        raise ValueError(f"{name} must hold known {what} indices in {allowed}, got {array[outside][0]}")
    return array


def check_float_dtype(dtype: Any, name: str = "dtype") -> np.dtype:
    """numpy.float32 or numpy.float64 (as a numpy dtype); anything else is a TypeError."""
    try:
        resolved = np.dtype(dtype)
    except (TypeError, ValueError):
        resolved = None  # (never compared with ==: numpy treats None as float64 there)
    if resolved is None or resolved.type not in (np.float32, np.float64):
        raise TypeError(f"{name} must be numpy.float32 or numpy.float64, got {describe(dtype)}")
    return resolved
