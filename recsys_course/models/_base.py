"""The contract every recommender in the course follows.

``fit(counts)`` takes a users x items scipy sparse matrix of raw non-negative counts and
returns ``self``. After it, ``score``, ``recommend``, ``recommend_batch`` and
``similar_items`` work the same way for every model; ``evaluate`` relies on ``score``.

A subclass implements ``fit`` (calling ``self._remember_training(counts)`` first, after
validating its own parameters) and ``_score_rows(users)``; factor models set
``user_factors`` and ``item_factors`` and get ``_score_rows`` and ``similar_items`` for free.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from .._validation import check_bool, check_csr_counts, check_index, check_index_array, check_int
from ._topk import top_k

__all__ = ["RecommenderBase", "FactorModelBase", "NotFittedError"]


class NotFittedError(ValueError):
    """Raised when a model is used before ``fit``."""


class RecommenderBase:
    """Shared behaviour: training memory, input checks, top-k recommendation."""

    #: chunk of users scored at once in ``recommend_batch`` (bounds memory)
    _batch_rows = 2048

    # ----------------------------------------------------------------- helpers
    def _remember_training(self, counts: Any, name: str = "counts") -> sp.csr_matrix:
        """Validate the training matrix and keep its pattern for ``filter_seen``."""
        counts = check_csr_counts(counts, name)
        self._train = counts
        self.n_users, self.n_items = counts.shape
        return counts

    def _check_fitted(self) -> None:
        if getattr(self, "_train", None) is None or not getattr(self, "_fitted", False):
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet: call .fit(counts) first"
            )

    def _check_users(self, users: Any, name: str = "users") -> np.ndarray:
        self._check_fitted()
        return check_index_array(users, name, self.n_users, "user")

    # ----------------------------------------------------------- to implement
    def fit(self, counts):  # pragma: no cover - abstract
        raise NotImplementedError

    def _score_rows(self, users: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    # ------------------------------------------------------------- public API
    def score(self, users: Any) -> np.ndarray:
        """Scores of every item for each user in ``users``: shape (len(users), n_items)."""
        users = self._check_users(users)
        return self._score_rows(users)

    def recommend(self, user: Any, k: int = 10, filter_seen: bool = True):
        """The ``k`` best items for one user as ``(item_indices, scores)``, best first.

        With ``filter_seen`` the items the user had in training are left out; fewer than
        ``k`` items come back when fewer are left.
        """
        self._check_fitted()
        user = check_index(user, "user", self.n_users, "user")
        items, scores = self.recommend_batch([user], k=k, filter_seen=filter_seen)
        keep = items[0] >= 0
        return items[0][keep], scores[0][keep]

    def recommend_batch(self, users: Any, k: int = 10, filter_seen: bool = True):
        """Top-k for many users at once: arrays ``(len(users), k)`` of items and scores.

        ``k`` larger than the catalogue is cut to the number of items. Slots that cannot be
        filled (a user who has seen almost everything) hold item -1 and score -inf.
        """
        users = self._check_users(users)
        k = min(check_int(k, "k", minimum=1), self.n_items)
        filter_seen = check_bool(filter_seen, "filter_seen")
        out_items = np.full((users.size, k), -1, dtype=np.int64)
        out_scores = np.full((users.size, k), -np.inf, dtype=np.float64)
        for start in range(0, users.size, self._batch_rows):
            chunk = users[start:start + self._batch_rows]
            scores = self._score_rows(chunk)
            if filter_seen:
                items, best = top_k(scores, k, exclude=self._train, rows=chunk)
            else:
                items, best = top_k(scores, k)
            out_items[start:start + chunk.size] = items
            out_scores[start:start + chunk.size] = best
        return out_items, out_scores

    def similar_items(self, item: Any, k: int = 10):
        """Models without item vectors (popularity) have no notion of similar items."""
        raise TypeError(
            f"{type(self).__name__} ranks items without item vectors, so it has no similar_items; "
            "use ItemKNN or a factor model (ImplicitALS, BPR)"
        )


class FactorModelBase(RecommenderBase):
    """A model whose score is the dot product ``x_u . y_i`` of learned factors."""

    user_factors: np.ndarray
    item_factors: np.ndarray

    def _score_rows(self, users: np.ndarray) -> np.ndarray:
        return self.user_factors[users] @ self.item_factors.T

    def similar_items(self, item: Any, k: int = 10):
        """The ``k`` items whose factors have the highest cosine with ``item``'s (itself left out)."""
        self._check_fitted()
        item = check_index(item, "item", self.n_items, "item")
        k = check_int(k, "k", minimum=1)
        factors = np.asarray(self.item_factors, dtype=np.float64)
        norms = np.linalg.norm(factors, axis=1)
        safe = np.where(norms > 0, norms, 1.0)
        cosine = (factors @ factors[item]) / (safe * safe[item])
        cosine[norms == 0] = 0.0
        cosine[item] = np.nan  # never recommend the item to itself
        items, scores = top_k(cosine[None, :], min(k, self.n_items))
        keep = items[0] >= 0
        return items[0][keep], scores[0][keep]
