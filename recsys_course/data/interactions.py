"""Interaction logs with any hashable ids, and the users x items count matrix they make."""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._validation import check_counts, describe

__all__ = ["Interactions"]


def _is_nan(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral) and value != value


def _as_id_array(ids: Any, name: str) -> np.ndarray:
    if isinstance(ids, (str, bytes)) or not isinstance(ids, (Sequence, np.ndarray, Iterable)):
        raise TypeError(f"{name} must be a sequence of ids, got {describe(ids)}")
    if isinstance(ids, np.ndarray):
        array = ids
    else:
        ids = list(ids)
        try:
            array = np.asarray(ids)
        except (ValueError, TypeError):
            array = None
        if array is None or array.ndim != 1:
            # tuples as ids, mixed types and the like: keep the objects as they are
            array = np.empty(len(ids), dtype=object)
            array[:] = ids
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if array.dtype.kind == "f" and np.isnan(array).any():
        raise ValueError(f"{name} must not contain NaN ids")
    if array.dtype == object:
        for value in array:
            if value is None or _is_nan(value):
                raise ValueError(f"{name} must not contain missing ids (None or NaN), found {value!r}")
            try:
                hash(value)
            except TypeError:
                raise TypeError(f"{name} must hold hashable ids, found {describe(value)}") from None
    return array


def _encode(ids: np.ndarray, name: str, universe: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """(unique ids in index order, index of each entry)."""
    if universe is not None:
        universe = _as_id_array(universe, f"{name}_ids" if not name.endswith("s") else f"{name[:-1]}_ids")
        lookup: dict[Any, int] = {}
        for position, value in enumerate(universe.tolist()):
            if value in lookup:
                raise ValueError(f"the id universe for {name} repeats the id {value!r}")
            lookup[value] = position
        codes = np.empty(ids.size, dtype=np.int64)
        for position, value in enumerate(ids.tolist()):
            try:
                codes[position] = lookup[value]
            except KeyError:
                raise ValueError(f"{name} holds the unknown id {value!r} (not in the given id list)") from None
        return universe, codes
    if ids.dtype.kind in "biuf":  # numbers: numpy's sort is fastest
        unique, codes = np.unique(ids, return_inverse=True)
        return unique, codes.astype(np.int64)
    # strings and other objects: hash them (sorting a million strings is slow), then order the
    # few distinct ids when they can be ordered, else keep the order first seen
    lookup: dict[Any, int] = {}
    codes = np.fromiter((lookup.setdefault(value, len(lookup)) for value in ids.tolist()),
                        dtype=np.int64, count=ids.size)
    unique = np.empty(len(lookup), dtype=object)
    unique[:] = list(lookup)
    try:
        order = sorted(range(unique.size), key=unique.__getitem__)
    except TypeError:  # ids that cannot be ordered
        order = None
    if order is not None:
        rank = np.empty(unique.size, dtype=np.int64)
        rank[order] = np.arange(unique.size)
        unique, codes = unique[order], rank[codes]
    if ids.dtype.kind in "US":  # give string ids back as a string array, as numpy would
        unique = unique.astype(ids.dtype)
    return unique, codes


class Interactions:
    """A log of (user, item, value) events over any hashable ids.

    Ids are mapped to indices 0..n-1 (sorted when the ids can be ordered, else in the
    order first seen); repeated (user, item) pairs are summed, so a log of single
    events becomes a matrix of counts.

    >>> log = Interactions(["ann", "bob", "ann"], ["tea", "tea", "tea"])
    >>> log.matrix.toarray()
    array([[2.],
           [1.]])
    >>> log.user_index("bob"), log.item_id(0)
    (1, 'tea')
    """

    def __init__(
        self,
        users: Any,
        items: Any,
        values: Any = None,
        *,
        user_ids: Any = None,
        item_ids: Any = None,
    ) -> None:
        users = _as_id_array(users, "users")
        items = _as_id_array(items, "items")
        if users.size != items.size:
            raise ValueError(f"users and items must have the same length, got {users.size} and {items.size}")
        if users.size == 0 and (user_ids is None or item_ids is None):
            raise ValueError("users must hold at least one interaction (got an empty log)")
        if values is None:
            values = np.ones(users.size, dtype=np.float64)
        else:
            values = check_counts(values, "values", max_ndim=1)
            if values.shape != (users.size,):
                raise ValueError(f"values must have one entry per interaction ({users.size}), got shape {values.shape}")
        self.user_ids, user_codes = _encode(users, "users", user_ids)
        self.item_ids, item_codes = _encode(items, "items", item_ids)
        shape = (self.user_ids.size, self.item_ids.size)
        matrix = sp.csr_matrix((values, (user_codes, item_codes)), shape=shape, dtype=np.float64)
        matrix.sum_duplicates()
        matrix.eliminate_zeros()
        matrix.sort_indices()
        self.matrix = matrix
        self._user_lookup: dict[Any, int] | None = None
        self._item_lookup: dict[Any, int] | None = None

    @classmethod
    def from_records(cls, records: Iterable, **kwargs: Any) -> Interactions:
        """Build from an iterable of ``(user, item)`` or ``(user, item, value)`` tuples."""
        if isinstance(records, (str, bytes)) or not isinstance(records, Iterable):
            raise TypeError(f"records must be an iterable of (user, item[, value]) tuples, got {describe(records)}")
        users, items, values = [], [], []
        width = None
        for position, record in enumerate(records):
            if isinstance(record, (str, bytes)) or not isinstance(record, Sequence) or len(record) not in (2, 3):
                raise ValueError(
                    f"records[{position}] must be a (user, item) or (user, item, value) tuple, got {describe(record)}"
                )
            if width is None:
                width = len(record)
            elif len(record) != width:
                raise ValueError(f"records[{position}] has {len(record)} fields but earlier records have {width}")
            users.append(record[0])
            items.append(record[1])
            if width == 3:
                values.append(record[2])
        if width is None:
            raise ValueError("records must hold at least one interaction (got none)")
        value_array = None
        if width == 3:
            try:
                value_array = np.asarray(values, dtype=np.float64)
            except (TypeError, ValueError):
                raise TypeError("records: every value (third field) must be a number") from None
        return cls(users, items, value_array, **kwargs)

    # ----------------------------------------------------------------- lookups
    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape

    @property
    def n_users(self) -> int:
        return self.matrix.shape[0]

    @property
    def n_items(self) -> int:
        return self.matrix.shape[1]

    @property
    def nnz(self) -> int:
        return self.matrix.nnz

    @property
    def density(self) -> float:
        cells = self.n_users * self.n_items
        return self.nnz / cells if cells else 0.0

    def _lookup(self, kind: str) -> dict[Any, int]:
        attribute = f"_{kind}_lookup"
        table = getattr(self, attribute)
        if table is None:
            ids = self.user_ids if kind == "user" else self.item_ids
            table = {value: position for position, value in enumerate(ids.tolist())}
            setattr(self, attribute, table)
        return table

    def user_index(self, user_id: Any) -> int:
        """Index of a user id; ValueError for an unknown id."""
        return self._index(user_id, "user")

    def item_index(self, item_id: Any) -> int:
        """Index of an item id; ValueError for an unknown id."""
        return self._index(item_id, "item")

    def _index(self, value: Any, kind: str) -> int:
        try:
            return self._lookup(kind)[value]
        except KeyError:
            raise ValueError(f"{kind}_id {value!r} is not a known {kind}") from None
        except TypeError:
            raise TypeError(f"{kind}_id must be a hashable id, got {describe(value)}") from None

    def user_indices(self, user_ids: Iterable) -> np.ndarray:
        return np.array([self.user_index(u) for u in user_ids], dtype=np.int64)

    def item_indices(self, item_ids: Iterable) -> np.ndarray:
        return np.array([self.item_index(i) for i in item_ids], dtype=np.int64)

    def user_id(self, index: Any) -> Any:
        return self._id(index, "user")

    def item_id(self, index: Any) -> Any:
        return self._id(index, "item")

    def _id(self, index: Any, kind: str) -> Any:
        ids = self.user_ids if kind == "user" else self.item_ids
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, numbers.Integral):
            raise TypeError(f"{kind} index must be an integer, got {describe(index)}")
        if not 0 <= int(index) < ids.size:
            raise ValueError(f"{kind} index must be in [0, {ids.size - 1}], got {index}")
        value = ids[int(index)]
        return value.item() if isinstance(value, np.generic) else value

    # ----------------------------------------------------------------- summary
    def summary(self) -> dict[str, float]:
        """Users, items, non-zeros, density and the spread of activity."""
        per_user = np.diff(self.matrix.indptr)
        per_item = np.bincount(self.matrix.indices, minlength=self.n_items)
        return {
            "users": self.n_users,
            "items": self.n_items,
            "nnz": self.nnz,
            "density": self.density,
            "total": float(self.matrix.data.sum()),
            "median_items_per_user": float(np.median(per_user)) if per_user.size else 0.0,
            "median_users_per_item": float(np.median(per_item)) if per_item.size else 0.0,
        }

    def __repr__(self) -> str:
        return (
            f"Interactions({self.n_users:,} users x {self.n_items:,} items, "
            f"{self.nnz:,} non-zeros, density {self.density:.3%})"
        )
