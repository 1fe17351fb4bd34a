"""From raw counts to the two matrices of Hu, Koren and Volinsky (ICDM 2008).

An implicit signal r_ui (plays, purchases, clicks) is split into

* a **preference** p_ui = 1 if r_ui > 0 else 0 -- did the user show interest at all?
* a **confidence** c_ui -- how sure are we of that preference?

  - ``scheme="linear"``: c_ui = 1 + alpha * r_ui   (alpha = 40 in the paper)
  - ``scheme="log"``:    c_ui = 1 + alpha * log(1 + r_ui / epsilon)

The "+1" gives every pair, observed or not, a baseline confidence of 1: a missing
interaction is a weak guess of "no", never a hard negative.

Dense input gives dense output for every cell. Sparse input (scipy) gives sparse output
that stores the observed entries only; an unobserved cell means p = 0 and c = 1, by
definition, and is not stored.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from ._validation import check_choice, check_counts, check_float

__all__ = ["SCHEMES", "confidence", "preference", "preference_confidence"]

SCHEMES = ("linear", "log")


def _observed(counts: Any) -> np.ndarray | sp.csr_matrix:
    """Validated counts; sparse comes back as CSR with only the positive entries stored."""
    checked = check_counts(counts, "counts")
    if sp.issparse(checked):
        checked.eliminate_zeros()
        checked.sort_indices()
    return checked


def _confidence_values(values: np.ndarray, alpha: float, scheme: str, epsilon: float) -> np.ndarray:
    if scheme == "linear":
        return 1.0 + alpha * values
    return 1.0 + alpha * np.log1p(values / epsilon)


def _check_parameters(alpha: Any, scheme: Any, epsilon: Any) -> tuple[float, str, float]:
    alpha = check_float(alpha, "alpha", minimum=0.0)
    scheme = check_choice(scheme, "scheme", SCHEMES)
    epsilon = check_float(epsilon, "epsilon", minimum=0.0, strict_minimum=True)
    return alpha, scheme, epsilon


def preference(counts: Any) -> np.ndarray | sp.csr_matrix:
    """p_ui = 1 where the count is positive, else 0.

    >>> preference([[0, 3, 0], [1, 0, 8]]).tolist()
    [[0.0, 1.0, 0.0], [1.0, 0.0, 1.0]]
    """
    return _preference(_observed(counts))


def _preference(counts):
    if sp.issparse(counts):
        p = counts.copy()
        p.data = np.ones_like(p.data)
        return p
    return (counts > 0).astype(np.float64)


def confidence(
    counts: Any,
    alpha: float = 40.0,
    scheme: str = "linear",
    epsilon: float = 1e-8,
) -> np.ndarray | sp.csr_matrix:
    """c_ui = 1 + alpha * r_ui (``"linear"``) or 1 + alpha * log(1 + r_ui / epsilon) (``"log"``).

    ``epsilon`` only matters for the log scheme; it sets the count scale at which
    confidence starts to grow (Hu et al. use a small value; try ``epsilon=1``).

    >>> confidence([[0, 3, 0], [1, 0, 8], [0, 0, 2]]).tolist()
    [[1.0, 121.0, 1.0], [41.0, 1.0, 321.0], [1.0, 1.0, 81.0]]
    >>> float(confidence(12))
    481.0
    """
    alpha, scheme, epsilon = _check_parameters(alpha, scheme, epsilon)
    return _confidence(_observed(counts), alpha, scheme, epsilon)


def _confidence(counts, alpha, scheme, epsilon):
    if sp.issparse(counts):
        c = counts.copy()
        c.data = _confidence_values(c.data, alpha, scheme, epsilon)
        return c
    return _confidence_values(counts, alpha, scheme, epsilon)


def preference_confidence(
    counts: Any,
    alpha: float = 40.0,
    scheme: str = "linear",
    epsilon: float = 1e-8,
):
    """Both matrices at once: ``(P, C)``; see :func:`preference` and :func:`confidence`."""
    alpha, scheme, epsilon = _check_parameters(alpha, scheme, epsilon)
    checked = _observed(counts)
    return _preference(checked), _confidence(checked, alpha, scheme, epsilon)
