"""Published evaluation protocols, built the way the papers describe them.

``leave_last_out`` is the protocol of the NCF paper (He et al., WWW 2017), reused by Rendle
et al. (RecSys 2020, RecSys 2022) on MovieLens 1M: each user's latest interaction is the
test item, ranked against ``negatives`` items that user never rated (HR@10 and NDCG@10 with
``recsys_course.metrics.sampled_ranking``). The interaction before it is the validation item,
so settings can be chosen without looking at the test step.

``later_orders_out`` holds out each user's latest order(s) of a basket data set (Instacart):
the time-based split of Hu, Koren and Volinsky (ICDM 2008), who trained on four weeks of
viewing and tested on the week after.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from ._validation import check_int, check_random_state, describe

__all__ = [
    "LEAVE_LAST_OUT_METRICS",
    "LeaveLastOut",
    "OrderSplit",
    "compare_leave_last_out",
    "full_ranks",
    "later_orders_out",
    "leave_last_out",
    "sampled_hit_probability",
]


@dataclass(frozen=True)
class LeaveLastOut:
    """The leave-last-out split with sampled negatives (rows aligned with ``users``).

    ``train``: users x items binary CSR without each evaluated user's last item (the matrix
    to fit the final model on). ``test_items[j]``: the last item of user ``users[j]``;
    ``test_negatives[j]``: ``negatives`` distinct items that user never rated.
    ``validation_train``: ``train`` without each evaluated user's second-to-last item,
    which is ``validation_items[j]``, with its own ``validation_negatives[j]``.
    ``skipped_users``: users with fewer than 3 distinct items; they are not evaluated and
    keep all their items in both training matrices (they still teach the item factors).
    ``test`` and ``validation`` give the held-out items as sparse matrices for full-ranking
    metrics (``recsys_course.metrics.evaluate``).
    """

    train: sp.csr_matrix
    test_items: np.ndarray
    test_negatives: np.ndarray
    validation_train: sp.csr_matrix
    validation_items: np.ndarray
    validation_negatives: np.ndarray
    users: np.ndarray
    skipped_users: np.ndarray
    random_state: Any = None

    def _held_out(self, items: np.ndarray) -> sp.csr_matrix:
        ones = np.ones(self.users.size)
        return sp.csr_matrix((ones, (self.users, items)), shape=self.train.shape)

    @property
    def test(self) -> sp.csr_matrix:
        """Users x items CSR with a 1 at each evaluated user's test item."""
        return self._held_out(self.test_items)

    @property
    def validation(self) -> sp.csr_matrix:
        """Users x items CSR with a 1 at each evaluated user's validation item."""
        return self._held_out(self.validation_items)

    def __repr__(self) -> str:
        return (
            f"LeaveLastOut({self.users.size:,} users evaluated, {self.test_negatives.shape[1]} negatives each, "
            f"train={self.train.nnz:,} non-zeros, {self.skipped_users.size:,} users skipped)"
        )


def _events(dataset: Any, time_key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]]:
    """(users, items, times, shape) of a Dataset's events, checked."""
    extra = getattr(dataset, "extra", None)
    matrix = getattr(dataset, "counts", None)
    if not isinstance(extra, dict) or not sp.issparse(matrix):
        raise TypeError(
            f"dataset must be a recsys_course.data.Dataset (e.g. load_movielens_1m()), got {describe(dataset)}"
        )
    missing = [key for key in (time_key, "event_users", "event_items") if key not in extra]
    if missing:
        raise ValueError(
            f"dataset {getattr(dataset, 'name', '?')!r} carries no {', '.join(missing)} for its events; "
            f"this protocol needs each event's {time_key} (MovieLens 100K and 1M have timestamps, "
            f"Instacart has order numbers)"
        )
    users = np.asarray(extra["event_users"])
    items = np.asarray(extra["event_items"])
    times = np.asarray(extra[time_key])
    n_users, n_items = matrix.shape
    if not (users.ndim == items.ndim == times.ndim == 1 and users.size == items.size == times.size):
        raise ValueError(
            f"dataset.extra: event_users, event_items and {time_key} must be 1-d arrays of one length, got "
            f"shapes {users.shape}, {items.shape} and {times.shape}"
        )
    if users.size == 0:
        raise ValueError("dataset holds no events")
    if not (np.issubdtype(users.dtype, np.integer) and np.issubdtype(items.dtype, np.integer)):
        raise TypeError("dataset.extra: event_users and event_items must hold integer indices")
    if not np.issubdtype(times.dtype, np.number) or not np.all(np.isfinite(times)):
        raise ValueError(f"dataset.extra[{time_key!r}] must hold finite numbers")
    if users.min() < 0 or users.max() >= n_users or items.min() < 0 or items.max() >= n_items:
        raise ValueError(f"dataset.extra: event indices fall outside the {n_users} x {n_items} matrix")
    return users.astype(np.int64), items.astype(np.int64), times.astype(np.float64), (n_users, n_items)


def _last_pairs(users, items, times, n_users, n_items):
    """Distinct (user, item) pairs, each at its latest time, per user in time order.

    Returns CSR-like arrays: ``indptr`` over users and ``ordered_items`` with each user's
    items from earliest to latest (equal times: lower item index first).
    """
    pair = users * n_items + items
    order = np.lexsort((-times, pair))  # per pair, its latest event first
    pair_sorted = pair[order]
    first = np.ones(pair_sorted.size, dtype=bool)
    first[1:] = pair_sorted[1:] != pair_sorted[:-1]
    keep = order[first]
    u, i, t = users[keep], items[keep], times[keep]
    order = np.lexsort((i, t, u))  # by user, then time, then item index
    u, i = u[order], i[order]
    indptr = np.zeros(n_users + 1, dtype=np.int64)
    np.add.at(indptr, u + 1, 1)
    return np.cumsum(indptr), i


def _binary_csr(indptr: np.ndarray, items: np.ndarray, keep: np.ndarray, shape) -> sp.csr_matrix:
    rows = np.repeat(np.arange(shape[0]), np.diff(indptr))[keep]
    matrix = sp.csr_matrix((np.ones(rows.size), (rows, items[keep])), shape=shape)
    matrix.sort_indices()
    return matrix


def _sample_negatives(rated: sp.csr_matrix, users: np.ndarray, negatives: int, rng, chunk: int = 1024) -> np.ndarray:
    """``negatives`` distinct never-rated items per user, uniformly without replacement.

    Items are drawn uniformly one after another; a rated item or a repeat is skipped and the
    first ``negatives`` kept draws are the sample (sequential rejection: every set of unrated
    items is equally likely). Drawn in blocks of ``3 * negatives`` per user; a user whose block
    runs short (most items rated) draws from the list of unrated items instead.
    """
    n_items = rated.shape[1]
    width = 3 * negatives + 16
    out = np.empty((users.size, negatives), dtype=np.int64)
    for start in range(0, users.size, chunk):
        rows = users[start:start + chunk]
        seen = rated[rows].toarray() > 0
        draws = rng.integers(0, n_items, size=(rows.size, width))
        keep = ~np.take_along_axis(seen, draws, axis=1)
        order = np.argsort(draws, axis=1, kind="stable")  # repeats: keep the first draw only
        ordered = np.take_along_axis(draws, order, axis=1)
        repeat = np.zeros_like(keep)
        np.put_along_axis(repeat, order[:, 1:], ordered[:, 1:] == ordered[:, :-1], axis=1)
        keep &= ~repeat
        enough = keep.sum(axis=1) >= negatives
        position = np.cumsum(keep, axis=1)
        chosen = keep & (position <= negatives)
        block = out[start:start + rows.size]
        block[enough] = draws[enough][chosen[enough]].reshape(-1, negatives)
        for row in np.flatnonzero(~enough):  # rare: a user who rated most of the catalogue
            block[row] = rng.choice(np.flatnonzero(~seen[row]), size=negatives, replace=False)
    return out


def leave_last_out(dataset: Any, negatives: int = 100, random_state: Any = 0) -> LeaveLastOut:
    """Leave each user's last interaction out by time, with sampled negatives (He et al. 2017).

    ``dataset``: a ``recsys_course.data.Dataset`` with timestamps (``load_movielens_1m()``,
    ``load_movielens_100k()``). Every rated item counts as an interaction (the rating value is
    ignored: the matrices are binary). A user's items are ordered by time; equal timestamps
    are ordered by item index so the split is deterministic; an item rated twice counts at
    its latest time. The last item is the test item, the one before it the validation item.

    Users with fewer than 3 distinct items are not evaluated (listed in ``skipped_users``) and
    keep all their items in ``train`` and ``validation_train``.

    ``negatives`` items per evaluated user are drawn uniformly, without repeats, from the
    items that user never rated (neither in training nor held out); validation and test
    draw separately. ``random_state`` seeds only the negatives.
    """
    negatives = check_int(negatives, "negatives", minimum=1)
    rng = check_random_state(random_state)
    users, items, times, shape = _events(dataset, "timestamps")
    n_users, n_items = shape
    indptr, ordered = _last_pairs(users, items, times, n_users, n_items)
    sizes = np.diff(indptr)
    evaluated = np.flatnonzero(sizes >= 3)
    skipped = np.flatnonzero(sizes < 3)
    if evaluated.size == 0:
        raise ValueError("dataset has no user with 3 or more distinct items: nobody can be evaluated")
    last = indptr[evaluated + 1] - 1
    test_items = ordered[last]
    validation_items = ordered[last - 1]
    keep_train = np.ones(ordered.size, dtype=bool)
    keep_train[last] = False
    train = _binary_csr(indptr, ordered, keep_train, shape)
    keep_validation = keep_train.copy()
    keep_validation[last - 1] = False
    validation_train = _binary_csr(indptr, ordered, keep_validation, shape)
    rated = _binary_csr(indptr, ordered, np.ones(ordered.size, dtype=bool), shape)
    unrated = n_items - sizes[evaluated]
    if unrated.min() < negatives:
        worst = int(evaluated[np.argmin(unrated)])
        raise ValueError(
            f"negatives must be at most the number of items every evaluated user never rated; got "
            f"negatives={negatives}, but user {worst} left only {int(unrated.min())} unrated items"
        )
    test_negatives = _sample_negatives(rated, evaluated, negatives, rng)
    validation_negatives = _sample_negatives(rated, evaluated, negatives, rng)
    return LeaveLastOut(
        train=train,
        test_items=test_items.astype(np.int64),
        test_negatives=test_negatives,
        validation_train=validation_train,
        validation_items=validation_items.astype(np.int64),
        validation_negatives=validation_negatives,
        users=evaluated.astype(np.int64),
        skipped_users=skipped.astype(np.int64),
        random_state=random_state if isinstance(random_state, (int, np.integer)) else None,
    )


@dataclass(frozen=True)
class OrderSplit:
    """``train, test = split``: counts before and in each user's latest order(s).

    ``validation_train`` / ``validation``: the same one step earlier (the orders before the
    test orders, split again), to choose settings without looking at ``test``.
    ``skipped_users``: users with too few orders to give one part to each; they keep all
    their orders in ``train`` and ``validation_train`` and are not evaluated.
    """

    train: sp.csr_matrix
    test: sp.csr_matrix
    validation_train: sp.csr_matrix
    validation: sp.csr_matrix
    skipped_users: np.ndarray

    def __iter__(self):
        yield self.train
        yield self.test

    def __repr__(self) -> str:
        return (
            f"OrderSplit(train={self.train.nnz:,} non-zeros, test={self.test.nnz:,} non-zeros, "
            f"{self.skipped_users.size:,} users with too few orders)"
        )


def later_orders_out(dataset: Any, orders: int = 1) -> OrderSplit:
    """Hold out each user's latest ``orders`` orders (a time-based split, as in HKV 2008).

    ``dataset``: a Dataset whose events carry ``order_numbers`` (``load_instacart()``).
    ``train[u, i]`` counts the earlier orders of user u that held product i, ``test[u, i]``
    the held-out ones; ``validation`` holds the ``orders`` orders just before the test ones
    and ``validation_train`` everything before those. Users with fewer than
    ``2 * orders + 1`` orders are not split (listed in ``skipped_users``).
    """
    orders = check_int(orders, "orders", minimum=1)
    users, items, numbers, shape = _events(dataset, "order_numbers")
    n_users = shape[0]
    pairs = np.unique(np.stack([users, numbers.astype(np.int64)]), axis=1)  # (user, order number), sorted
    distinct = np.bincount(pairs[0], minlength=n_users)
    splittable = distinct >= 2 * orders + 1
    # each user's order numbers sorted ascending: the cut-offs are counted from the end
    ends = np.cumsum(distinct)
    test_cut = np.full(n_users, np.inf)
    validation_cut = np.full(n_users, np.inf)
    rows = np.flatnonzero(splittable)
    test_cut[rows] = pairs[1][ends[rows] - orders]
    validation_cut[rows] = pairs[1][ends[rows] - 2 * orders]
    in_test = numbers >= test_cut[users]
    in_validation = (numbers >= validation_cut[users]) & ~in_test

    def matrix(mask):
        out = sp.csr_matrix((np.ones(int(mask.sum())), (users[mask], items[mask])), shape=shape)
        out.sum_duplicates()
        out.sort_indices()
        return out

    return OrderSplit(
        train=matrix(~in_test),
        test=matrix(in_test),
        validation_train=matrix(~in_test & ~in_validation),
        validation=matrix(in_validation),
        skipped_users=np.flatnonzero(~splittable).astype(np.int64),
    )


# ------------------------------------------------------------- tuned comparison
def _leave_last_out_scores(model: Any, train: sp.csr_matrix, held_out: sp.csr_matrix, users: np.ndarray,
                           items: np.ndarray, negatives: np.ndarray, k: int) -> dict[str, float]:
    """Sampled HR/NDCG@k and the same two over the full ranking (every item not in ``train``)."""
    from .metrics import evaluate, sampled_ranking

    sampled = sampled_ranking(model, users, items, negatives, k=k)
    full = evaluate(model, train, held_out, k=k, metrics=("recall", "ndcg"), users=users)
    # one held-out item per user: recall@k is the full-ranking hit rate
    return {"hit_rate": sampled["hit_rate"], "ndcg": sampled["ndcg"],
            "full_hit_rate": float(full["recall"]), "full_ndcg": float(full["ndcg"])}


#: what ``compare_leave_last_out`` reports, sampled first, then over the full ranking
LEAVE_LAST_OUT_METRICS = ("hit_rate", "ndcg", "full_hit_rate", "full_ndcg")


def compare_leave_last_out(contenders: Any, dataset: Any, seeds: Any = (0, 1, 2), negatives: int = 100,
                           k: int = 10, metric: str = "ndcg", seed_param: str | None = "random_state"):
    """Tune each contender on the validation step, then score it once on the test step per seed.

    ``contenders``: dict name -> ``(make_model, grid)`` as in ``recsys_course.tuning.compare``;
    grids with more than one setting must have the same size (the same tuning budget).
    The split is fixed by time; a seed draws the sampled negatives (``leave_last_out``'s
    ``random_state``) and, through ``seed_param``, the model's own randomness.

    For each contender, every setting of its grid is fitted on ``validation_train`` and scored
    on the validation items of the first seed (sampled ``metric``@k picks the setting:
    ``"hit_rate"`` or ``"ndcg"``; the full-ranking scores are kept for comparison). The chosen
    setting is then refitted on ``train`` once per seed and scored on that seed's test step:
    sampled HR/NDCG@k against its negatives and full-ranking HR/NDCG@k against every item
    the user did not have in ``train``. Returns a ``recsys_course.tuning.Comparison`` whose test
    metrics are ``LEAVE_LAST_OUT_METRICS``; ``.splits`` holds the leave-last-out splits and
    ``.models[(name, seed index)]`` the refitted models (to look further at their rankings), and
    ``.repeat`` is ``"seed"`` (what ``plots.tuning.comparison_bars`` calls one repetition).
    """
    from .tuning import Comparison, expand_grid, grid_search

    if not isinstance(contenders, dict) or not contenders:
        raise TypeError(f"contenders must be a non-empty dict name -> (make_model, grid), got {describe(contenders)}")
    checked = {}
    for name, entry in contenders.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"contenders keys must be non-empty names (strings), got {name!r}")
        if not isinstance(entry, tuple) or len(entry) != 2 or not callable(entry[0]):
            raise TypeError(f"contenders[{name!r}] must be a pair (make_model, grid), got {describe(entry)}")
        checked[name] = (entry[0], expand_grid(entry[1], f"contenders[{name!r}] grid"))
    budgets = {name: len(grid) for name, (_, grid) in checked.items() if len(grid) > 1}
    if len(set(budgets.values())) > 1:
        listing = ", ".join(f"{name}: {size}" for name, size in budgets.items())
        raise ValueError(f"every contender with hyperparameters must get the same tuning budget "
                         f"(number of settings), got {listing}")
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise TypeError(f"seeds must be a list of integer seeds, got {describe(seeds)}")
    seeds = [check_int(seed, "seeds", minimum=0) for seed in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must hold at least one seed and no repeats, got {seeds}")
    k = check_int(k, "k", minimum=1)
    if metric not in ("hit_rate", "ndcg"):
        raise ValueError(f"metric must be 'hit_rate' or 'ndcg', got {describe(metric)}")
    if seed_param is not None and (not isinstance(seed_param, str) or not seed_param.isidentifier()):
        raise TypeError(f"seed_param must be None or a parameter name, got {describe(seed_param)}")
    splits = [leave_last_out(dataset, negatives=negatives, random_state=seed) for seed in seeds]

    def seeded(make_model, seed):
        if seed_param is None:
            return make_model
        return lambda **params: make_model(**params, **{seed_param: seed})

    first = splits[0]

    def validation_scorer(model):
        return _leave_last_out_scores(model, first.validation_train, first.validation, first.users,
                                      first.validation_items, first.validation_negatives, k)

    per_seed: list[dict[str, Any]] = []
    grids = {}
    models = {}
    for name, (make_model, grid) in checked.items():
        search = grid_search(seeded(make_model, seeds[0]), grid, first.validation_train, first.validation,
                             metric=metric, k=k, scorer=validation_scorer)
        grids[f"{name}/0"] = search
        for index, (seed, split) in enumerate(zip(seeds, splits)):
            model = seeded(make_model, seed)(**search.best_params).fit(split.train)
            scores = _leave_last_out_scores(model, split.train, split.test, split.users, split.test_items,
                                            split.test_negatives, k)
            row = {"contender": name, "seed": index, "params": search.best_params,
                   "validation": search.best_score, "n_settings": search.n_settings}
            row.update(scores)
            per_seed.append(row)
            models[(name, index)] = model
    result = Comparison(metric, min(k, first.train.shape[1]), LEAVE_LAST_OUT_METRICS, list(checked), per_seed, grids)
    result.splits = splits
    result.models = models
    result.repeat = "seed"  # the split is fixed by time: the repetitions differ only by seed
    return result


# ----------------------------------------------- sampled vs full (Krichene & Rendle)
def full_ranks(model: Any, train: Any, users: Any, items: Any, chunk_size: int = 1024) -> np.ndarray:
    """For each row j: how many items outrank ``items[j]`` for ``users[j]`` in the FULL ranking.

    Candidates are the items the user does not have in ``train`` (the target excluded);
    an item scoring at or above the target counts as above it (ties against the target, as in
    ``sampled_ranking``). 0 means the target is the model's top unseen item.
    """
    from ._validation import check_csr_counts

    if not hasattr(model, "score") or not callable(model.score):
        raise TypeError(f"model must have a score(users) method (a fitted recommender), got {describe(model)}")
    train = check_csr_counts(train, "train", allow_empty=True)
    n_users, n_items = train.shape
    user_array = np.asarray(users)
    item_array = np.asarray(items)
    for name, array, size in (("users", user_array, n_users), ("items", item_array, n_items)):
        if array.ndim != 1 or array.dtype == bool or (array.size and not np.issubdtype(array.dtype, np.integer)):
            raise TypeError(f"{name} must be a 1-d array of integer indices, got {describe(array)}")
        if array.size and (array.min() < 0 or array.max() >= size):
            raise ValueError(f"{name} must hold indices in [0, {size - 1}], got {describe(array)}")
    if user_array.size != item_array.size or user_array.size == 0:
        raise ValueError(f"users and items must be non-empty and of one length, got {user_array.size} and "
                         f"{item_array.size}")
    chunk_size = check_int(chunk_size, "chunk_size", minimum=1)
    out = np.empty(user_array.size, dtype=np.int64)
    for start in range(0, user_array.size, chunk_size):
        rows = user_array[start:start + chunk_size].astype(np.int64)
        targets = item_array[start:start + chunk_size].astype(np.int64)
        scores = np.array(model.score(rows), dtype=np.float64)
        if scores.shape != (rows.size, n_items):
            raise ValueError(f"model.score returned shape {scores.shape}, expected {(rows.size, n_items)}")
        local = np.arange(rows.size)
        target_scores = scores[local, targets].copy()
        if np.isnan(target_scores).any() or np.isnan(scores).any():
            raise ValueError("model.score returned NaN scores")
        seen = train[rows]
        scores[seen.nonzero()] = -np.inf  # train items are not candidates
        scores[local, targets] = -np.inf  # nor the target itself
        out[start:start + rows.size] = (scores >= target_scores[:, None]).sum(axis=1)
    return out


def sampled_hit_probability(full_rank: Any, n_candidates: Any, negatives: int = 100, k: int = 10) -> np.ndarray:
    """Chance that a target with ``full_rank`` items above it is a sampled hit@k.

    ``negatives`` items are drawn without repeats from the ``n_candidates - 1`` other
    candidates, ``full_rank`` of which score at or above the target; the target is a hit when
    fewer than ``k`` of the drawn ones do (a hypergeometric tail). Averaged over users, this
    predicts the sampled hit rate from the full ranking (Krichene & Rendle, KDD 2020).
    """
    from scipy.stats import hypergeom

    negatives = check_int(negatives, "negatives", minimum=1)
    k = check_int(k, "k", minimum=1)
    rank = np.asarray(full_rank)
    size = np.broadcast_to(np.asarray(n_candidates), rank.shape)
    for name, array in (("full_rank", rank), ("n_candidates", size)):
        if array.dtype == bool or not np.issubdtype(array.dtype, np.integer):
            raise TypeError(f"{name} must hold integers, got {describe(array)}")
    if rank.size and rank.min() < 0:
        raise ValueError(f"full_rank must hold counts >= 0, got {int(rank.min())}")
    others = size.astype(np.int64) - 1
    if rank.size and (others < negatives).any():
        raise ValueError(f"n_candidates must exceed negatives ({negatives}) for every row, got {int(size.min())}")
    if rank.size and (rank > others).any():
        raise ValueError("full_rank must be at most n_candidates - 1 (the other candidates)")
    return hypergeom.cdf(k - 1, others, rank, negatives)
