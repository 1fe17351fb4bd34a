"""Hold-out schemes for implicit data: per-user fraction and leave-k-out.

Every user with enough interactions puts some of them aside for testing; no test pair
stays in train. Users too small to split stay whole in train and are reported in
``Split.skipped_users`` (they can still be recommended to, but not evaluated).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .._validation import check_csr_counts, check_float, check_int, check_random_state

__all__ = ["Split", "ThreeWaySplit", "leave_k_out", "train_test_split", "train_validation_test_split"]


@dataclass(frozen=True)
class Split:
    """``train, test = split`` unpacks; ``skipped_users`` lists users left whole in train."""

    train: sp.csr_matrix
    test: sp.csr_matrix
    skipped_users: np.ndarray

    def __iter__(self):
        yield self.train
        yield self.test

    def __repr__(self) -> str:
        return (
            f"Split(train={self.train.nnz:,} non-zeros, test={self.test.nnz:,} non-zeros, "
            f"{self.skipped_users.size:,} users too small to split)"
        )


@dataclass(frozen=True)
class ThreeWaySplit:
    """``train, validation, test = split``: choose settings on validation, report test once.

    ``train_and_validation`` is the matrix to refit on once a setting is chosen (the test
    items are then ranked among everything the user did not have in either).
    ``skipped_users`` lists users too small to give an item to both held-out parts; they
    stay whole in train. ``seed`` is the ``random_state`` the split was drawn with (None when
    a Generator was given).
    """

    train: sp.csr_matrix
    validation: sp.csr_matrix
    test: sp.csr_matrix
    skipped_users: np.ndarray
    seed: int | None = None

    def __iter__(self):
        yield self.train
        yield self.validation
        yield self.test

    @property
    def train_and_validation(self) -> sp.csr_matrix:
        merged = (self.train + self.validation).tocsr()
        merged.sort_indices()
        return merged

    def __repr__(self) -> str:
        return (
            f"ThreeWaySplit(train={self.train.nnz:,} non-zeros, validation={self.validation.nnz:,}, "
            f"test={self.test.nnz:,}, {self.skipped_users.size:,} users too small to split)"
        )


def _split_by_quota(counts: sp.csr_matrix, quota: np.ndarray, rng: np.random.Generator) -> Split:
    """Move ``quota[u]`` random entries of each row u to test."""
    per_user = np.diff(counts.indptr)
    rows = np.repeat(np.arange(counts.shape[0]), per_user)
    keys = rng.random(counts.nnz)
    order = np.lexsort((keys, rows))  # rows stay grouped, shuffled inside each row
    position = np.empty(counts.nnz, dtype=np.int64)
    position[order] = np.arange(counts.nnz) - np.repeat(counts.indptr[:-1], per_user)
    to_test = position < quota[rows]
    coo = counts.tocoo()
    shape = counts.shape

    def build(mask):
        m = sp.csr_matrix((coo.data[mask], (coo.row[mask], coo.col[mask])), shape=shape)
        m.sort_indices()
        return m

    skipped = np.flatnonzero((quota == 0) & (per_user > 0))
    return Split(build(~to_test), build(to_test), skipped)


def train_test_split(counts, test_fraction: float = 0.2, random_state=None, min_interactions: int = 2) -> Split:
    """Per user, move ``test_fraction`` of their items (at least 1, never all) to test.

    Users with fewer than ``min_interactions`` items stay whole in train (``skipped_users``).
    """
    counts = check_csr_counts(counts, "counts")
    test_fraction = check_float(test_fraction, "test_fraction", minimum=0.0, maximum=1.0, strict_minimum=True)
    if test_fraction >= 1.0:
        raise ValueError(f"test_fraction must be a finite number < 1, got {test_fraction}")
    min_interactions = check_int(min_interactions, "min_interactions", minimum=2)
    rng = check_random_state(random_state)
    per_user = np.diff(counts.indptr)
    quota = np.clip(np.rint(per_user * test_fraction).astype(np.int64), 1, np.maximum(per_user - 1, 0))
    quota[per_user < min_interactions] = 0
    if not quota.any():
        raise ValueError(f"min_interactions={min_interactions} leaves no user to split: the largest user has "
                         f"{per_user.max()} items, and a user needs at least max(2, min_interactions) items "
                         "to keep one in train and hold one out")
    return _split_by_quota(counts, quota, rng)


def leave_k_out(counts, k: int = 1, random_state=None) -> Split:
    """Per user, move ``k`` random items to test; users with ``k`` items or fewer stay in train."""
    counts = check_csr_counts(counts, "counts")
    k = check_int(k, "k", minimum=1)
    rng = check_random_state(random_state)
    per_user = np.diff(counts.indptr)
    quota = np.where(per_user > k, k, 0).astype(np.int64)
    if not quota.any():
        raise ValueError(f"k must be smaller than some user's number of items, got k={k}: the largest user "
                         f"has {per_user.max()} items, so no user could keep one in train")
    return _split_by_quota(counts, quota, rng)


def train_validation_test_split(
    counts,
    validation_fraction: float = 0.1,
    test_fraction: float = 0.2,
    random_state=None,
    min_interactions: int = 3,
) -> ThreeWaySplit:
    """Per user, hold out ``test_fraction`` of the items for test and ``validation_fraction``
    for validation (at least one each), keeping the rest (at least one) for training.

    Settings are chosen by scores on ``validation`` (model fitted on ``train``); the chosen
    setting is refitted on ``train_and_validation`` and scored on ``test`` once. Users with
    fewer than ``min_interactions`` (>= 3) items stay whole in train (``skipped_users``).
    """
    counts = check_csr_counts(counts, "counts")
    validation_fraction = check_float(validation_fraction, "validation_fraction", minimum=0.0,
                                      maximum=1.0, strict_minimum=True)
    test_fraction = check_float(test_fraction, "test_fraction", minimum=0.0, maximum=1.0,
                                strict_minimum=True)
    if validation_fraction + test_fraction >= 1.0:
        raise ValueError(
            f"validation_fraction + test_fraction must be < 1 so that training keeps some items, got "
            f"{validation_fraction} + {test_fraction}"
        )
    min_interactions = check_int(min_interactions, "min_interactions", minimum=3)
    seed = random_state if isinstance(random_state, int) and not isinstance(random_state, bool) else None
    rng = check_random_state(random_state)
    per_user = np.diff(counts.indptr)
    eligible = per_user >= min_interactions
    if not eligible.any():
        raise ValueError(f"min_interactions={min_interactions} leaves no user to split: the largest user has "
                         f"{per_user.max()} items, and a user needs at least 3 (one each for train, "
                         "validation and test)")
    test_quota = np.clip(np.rint(per_user * test_fraction).astype(np.int64), 1, np.maximum(per_user - 2, 0))
    test_quota[~eligible] = 0
    first = _split_by_quota(counts, test_quota, rng)
    rest = first.train
    left = np.diff(rest.indptr)
    valid_quota = np.clip(np.rint(per_user * validation_fraction).astype(np.int64), 1,
                          np.maximum(left - 1, 0))
    valid_quota[~eligible] = 0
    second = _split_by_quota(rest, valid_quota, rng)
    skipped = np.flatnonzero(~eligible & (per_user > 0))
    return ThreeWaySplit(second.train, second.test, first.test, skipped, seed)
