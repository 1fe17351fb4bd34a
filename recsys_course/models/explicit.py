"""Explicit-feedback ALS: fit the observed ratings only, the contrast to implicit ALS.

    L = sum over observed (u, i) of (r_ui - x_u . y_i)^2
        + lambda (sum_u n_u^s |x_u|^2 + sum_i n_i^s |y_i|^2)

with s = 0 for ``regularization_scaling="plain"`` and s = 1 for ``"count"`` (each row's
lambda multiplied by its number of ratings, "ALS-WR" of Zhou et al. 2008, what Spark
does). Missing cells are simply absent from the loss: the model never learns anything
about what users did NOT rate, which is why it ranks poorly on implicit data.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from .._validation import (
    check_bool,
    check_choice,
    check_csr_counts,
    check_float,
    check_float_dtype,
    check_index_array,
    check_int,
    check_random_state,
    describe,
)
from . import _als_kernels as K
from ._base import FactorModelBase
from .als import _progress, _resolve_threads, _Side, _solve_side, parallel_section

__all__ = ["ExplicitALS"]

SCALINGS = ("plain", "count")


class ExplicitALS(FactorModelBase):
    """Matrix factorisation of observed ratings by alternating least squares.

    Parameters: ``factors``, ``regularization`` (lambda), ``regularization_scaling``
    ("plain" or "count"), ``iterations``, ``random_state``, ``num_threads``, ``dtype``,
    ``progress``. ``fit(ratings)`` takes a users x items sparse matrix whose stored
    values are the ratings (zero = not rated). After fitting: ``user_factors``,
    ``item_factors``, ``loss_history``; ``predict(users, items)`` gives ratings and
    ``rmse(ratings)`` the error on held-out ratings. Each row is solved exactly
    (Cholesky); a row with no ratings gets zero factors.
    """

    def __init__(
        self,
        factors: int = 10,
        regularization: float = 0.1,
        regularization_scaling: str = "plain",
        iterations: int = 15,
        random_state: Any = None,
        num_threads: int = 0,
        dtype: Any = np.float64,
        progress: bool = False,
    ):
        self.factors = factors
        self.regularization = regularization
        self.regularization_scaling = regularization_scaling
        self.iterations = iterations
        self.random_state = random_state
        self.num_threads = num_threads
        self.dtype = dtype
        self.progress = progress

    def __repr__(self) -> str:
        return (
            f"ExplicitALS(factors={self.factors}, regularization={self.regularization}, "
            f"regularization_scaling={self.regularization_scaling!r}, iterations={self.iterations})"
        )

    def fit(self, ratings: Any) -> "ExplicitALS":
        """Learn factors from a users x items sparse matrix of ratings (stored = rated)."""
        saved = dict(self.__dict__)
        try:
            return self._fit(ratings)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    def _fit(self, ratings: Any) -> "ExplicitALS":
        f = check_int(self.factors, "factors", minimum=1)
        reg_value = check_float(self.regularization, "regularization", minimum=0.0)
        scaling = check_choice(self.regularization_scaling, "regularization_scaling", SCALINGS)
        iterations = check_int(self.iterations, "iterations", minimum=1)
        num_threads = check_int(self.num_threads, "num_threads", minimum=0)
        dtype = check_float_dtype(self.dtype)
        progress = check_bool(self.progress, "progress")
        rng = check_random_state(self.random_state)
        self._fitted = False
        R = self._remember_training(ratings, "ratings")
        threads = _resolve_threads(num_threads)
        Rt = R.T.tocsr()
        users = _Side(R, dtype, f, threads, weights=np.ones(R.nnz), targets=R.data)
        items = _Side(Rt, dtype, f, threads, weights=np.ones(Rt.nnz), targets=Rt.data)
        if scaling == "count":
            reg_users = (reg_value * np.diff(R.indptr)).astype(dtype)
            reg_items = (reg_value * np.diff(Rt.indptr)).astype(dtype)
        else:
            reg_users = np.full(self.n_users, reg_value, dtype=dtype)
            reg_items = np.full(self.n_items, reg_value, dtype=dtype)
        X = (rng.standard_normal((self.n_users, f)) * 0.1).astype(dtype)
        Y = (rng.standard_normal((self.n_items, f)) * 0.1).astype(dtype)
        zero_base = np.zeros((f, f), dtype=dtype)
        self.loss_history: list[float] = []
        self.iteration_seconds: list[float] = []
        with parallel_section(threads):
            for _ in _progress(iterations, progress):
                start = time.perf_counter()
                _solve_side(items, X, zero_base, reg_items, Y, "cholesky", 1, "item", reg_value)
                _solve_side(users, Y, zero_base, reg_users, X, "cholesky", 1, "user", reg_value)
                self.iteration_seconds.append(time.perf_counter() - start)
                rows = np.empty(self.n_users, dtype=np.float64)
                K.squared_error_rows(users.indptr, users.indices, users.conf64, X, Y, users.blocks, rows)
                penalty = float(np.sum(reg_users.astype(np.float64) * np.sum(X.astype(np.float64) ** 2, axis=1)))
                penalty += float(np.sum(reg_items.astype(np.float64) * np.sum(Y.astype(np.float64) ** 2, axis=1)))
                self.loss_history.append(float(np.sum(rows)) + penalty)
        self.user_factors = X
        self.item_factors = Y
        self._fitted = True
        return self

    def predict(self, users: Any, items: Any) -> np.ndarray:
        """Predicted ratings x_u . y_i for the pairs (users[k], items[k])."""
        users = self._check_users(users, "users")
        if np.shape(items) != users.shape:
            raise ValueError(
                f"items must be a 1-d sequence as long as users ({users.size}), got {describe(items)}"
            )
        items_arr = check_index_array(items, "items", self.n_items, "item")
        X = self.user_factors[users].astype(np.float64)
        Y = self.item_factors[items_arr].astype(np.float64)
        return np.einsum("ij,ij->i", X, Y)

    def rmse(self, ratings: Any) -> float:
        """Root mean squared error on the stored ratings of a users x items matrix (e.g. a test split)."""
        self._check_fitted()
        R = check_csr_counts(ratings, "ratings")
        if R.shape != (self.n_users, self.n_items):
            raise ValueError(
                f"ratings must have the training shape {(self.n_users, self.n_items)}, got {R.shape}"
            )
        coo = R.tocoo()
        error = coo.data - self.predict(coo.row, coo.col)
        return float(np.sqrt(np.mean(error ** 2)))

