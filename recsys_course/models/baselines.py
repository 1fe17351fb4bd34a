"""Baselines every factor model has to beat: item popularity and item-kNN (cosine).

Both follow the shared contract (``fit(counts)`` -> self, ``recommend``,
``recommend_batch``, ``score``); ``ItemKNN`` also has ``similar_items``. On long-tailed
data such as the Instacart sample, popularity is a strong baseline: say so when it wins.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
import scipy.sparse as sp

from .._validation import check_bool, check_choice, check_index, check_int
from ._base import RecommenderBase
from ._topk import top_k

__all__ = ["ItemKNN", "Popularity"]


class Popularity(RecommenderBase):
    """Recommend what most users interacted with; the same list for everybody.

    ``weighting="users"`` scores an item by how many distinct users have it,
    ``"counts"`` by the sum of its counts. Ties go to the lower item index.
    """

    WEIGHTINGS = ("users", "counts")

    def __init__(self, weighting: str = "users"):
        self.weighting = weighting

    def __repr__(self) -> str:
        return f"Popularity(weighting={self.weighting!r})"

    def fit(self, counts: Any) -> "Popularity":
        weighting = check_choice(self.weighting, "weighting", self.WEIGHTINGS)
        counts = self._remember_training(counts)
        if weighting == "users":
            popularity = np.diff(counts.tocsc().indptr).astype(np.float64)
        else:
            popularity = np.asarray(counts.sum(axis=0), dtype=np.float64).ravel()
        self.item_popularity = popularity
        self._fitted = True
        return self

    def _score_rows(self, users: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.item_popularity, (users.size, self.n_items)).copy()


@numba.njit(cache=True)
def _keep_top_per_row(indptr, indices, data, k):
    """Mask of the ``k`` largest entries of every CSR row (ties: lower column index)."""
    keep = np.zeros(data.shape[0], dtype=np.bool_)
    for r in range(indptr.shape[0] - 1):
        start, end = indptr[r], indptr[r + 1]
        if end - start <= k:
            keep[start:end] = True
            continue
        # columns are sorted within the row, so a stable sort keeps lower columns first
        order = np.argsort(-data[start:end], kind="mergesort")
        for j in range(k):
            keep[start + order[j]] = True
    return keep


class ItemKNN(RecommenderBase):
    """Item-based nearest neighbours with cosine similarity between item columns.

    score(u, i) = sum of sim(i, j) over the user's items j among i's ``neighbors``
    most similar items. ``binary=True`` (default) uses whether a user has an item;
    ``binary=False`` uses the counts, both for the similarity and for the user's votes.
    """

    def __init__(self, neighbors: int = 50, binary: bool = True):
        self.neighbors = neighbors
        self.binary = binary

    def __repr__(self) -> str:
        return f"ItemKNN(neighbors={self.neighbors}, binary={self.binary})"

    def fit(self, counts: Any) -> "ItemKNN":
        neighbors = check_int(self.neighbors, "neighbors", minimum=1)
        binary = check_bool(self.binary, "binary")
        counts = self._remember_training(counts)
        R = counts.copy()
        if binary:
            R.data = np.ones_like(R.data)
        norms = np.sqrt(np.asarray(R.multiply(R).sum(axis=0)).ravel())
        inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        normalised = (R @ sp.diags(inv)).tocsc()
        sim = (normalised.T @ normalised).tocsr()
        sim.setdiag(0.0)
        sim.eliminate_zeros()
        sim.sort_indices()
        keep = _keep_top_per_row(sim.indptr.astype(np.int64), sim.indices, sim.data, neighbors)
        rows = np.repeat(np.arange(sim.shape[0]), np.diff(sim.indptr))
        pruned = sp.csr_matrix((sim.data[keep], (rows[keep], sim.indices[keep])), shape=sim.shape)
        self._normalised = normalised
        self._votes = R.tocsr()
        self.similarity = pruned  # row i: i's neighbours j and sim(i, j)
        self._weights = pruned.T.tocsr()  # row j: the items i that have j as a neighbour
        self._fitted = True
        return self

    def _score_rows(self, users: np.ndarray) -> np.ndarray:
        return np.asarray((self._votes[users] @ self._weights).toarray(), dtype=np.float64)

    def similar_items(self, item: Any, k: int = 10):
        """The ``k`` items with the highest cosine with ``item`` (itself left out)."""
        self._check_fitted()
        item = check_index(item, "item", self.n_items, "item")
        k = check_int(k, "k", minimum=1)
        column = self._normalised[:, [item]]
        cosine = np.asarray((self._normalised.T @ column).toarray(), dtype=np.float64).ravel()
        cosine[item] = np.nan
        items, scores = top_k(cosine[None, :], min(k, self.n_items))
        keep = items[0] >= 0
        return items[0][keep], scores[0][keep]
