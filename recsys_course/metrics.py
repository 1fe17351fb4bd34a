"""Offline ranking metrics for implicit feedback, and ``evaluate(model, train, test)``.

Every metric looks at one user at a time and ranks the items that user did **not** have
in training (train items are excluded: recommending them again is not a discovery). The
held-out ``test`` items are the relevant ones. Users without test items are skipped.

Top-k metrics (``k`` is clamped to the catalogue size):

* ``precision_at_k``: hits in the top k / k.
* ``recall_at_k``: hits in the top k / |test_u|.
* ``map_at_k``: mean over users of AP@k = sum over hit positions p of precision@p,
  divided by min(k, |test_u|).
* ``ndcg_at_k``: DCG@k / ideal DCG@k with discount 1/log2(position + 1);
  ``relevance="binary"`` (gain 1 per test item) or ``"count"`` (gain = held-out count r_ui).

Full-ranking metrics:

* ``auc``: for each user the fraction of (test item, other non-train item) pairs ranked the
  right way round (ties count 1/2), averaged over users. 0.5 is random.
* ``expected_percentile_rank``: Hu, Koren and Volinsky's rank-bar. Each test item gets its
  percentile in the user's ranked candidates (0% = top, 100% = bottom); the result is the
  mean weighted by held-out counts over all users. Random scores give 50%; lower is better.
* ``coverage``: share of the catalogue that appears in at least one top-k list.

How this differs from ``implicit.evaluation.ranking_metrics_at_k`` (version 0.7):
its "precision" is the hits of all users divided by the sum over users of min(k, |test_u|)
(pooled over users, and a recall for users with fewer than k test items), where ours is the
mean over users of hits / k; its "auc" is an AUC@k computed from the top-k list only
(around 0.55 where the full AUC is 0.9). Its "ndcg" and "map" agree with
``ndcg_at_k(relevance="binary")`` and ``map_at_k`` here (checked in the tests).

Inputs: ``predictions`` is either a float score matrix (rows aligned with the users,
``n_items`` columns) or an integer array of ranked item lists (best first, -1 pads the
end). For ``auc`` and ``expected_percentile_rank`` ranked lists are read as scores: listed
items in their order above every unlisted item, the unlisted ones tied.
"""

from __future__ import annotations

import threading
from typing import Any

import numba
import numpy as np
import scipy.sparse as sp

from ._metrics_kernels import count_overlap, evaluate_block, evaluate_rows, ranked_rows
from ._validation import check_choice, check_csr_counts, check_int, describe
from .models._topk import top_k
from .models.als import _blas_controller

__all__ = [
    "METRICS",
    "auc",
    "coverage",
    "evaluate",
    "expected_percentile_rank",
    "map_at_k",
    "ndcg_at_k",
    "precision_at_k",
    "recall_at_k",
    "sampled_ranking",
]

#: metric names ``evaluate`` understands, in the order it reports them
METRICS = ("precision", "recall", "map", "ndcg", "ndcg_graded", "auc",
           "percentile_rank", "coverage")
_LIST_METRICS = ("precision", "recall", "map", "ndcg", "ndcg_graded", "coverage")
_FULL_METRICS = ("auc", "percentile_rank")
_COLUMN = {"precision": 0, "recall": 1, "map": 2, "ndcg": 3, "ndcg_graded": 4, "auc": 5}
RELEVANCE = ("binary", "count")
_CHUNK_BYTES = 256 * 2**20  # evaluate(): at most this many bytes of float64 scores in flight
#: evaluate()'s default rows per model.score call: small enough that the threads take turns
#: (one scores while the others measure) and a chunk stays in the shared cache. 3 x 2**7 rows,
#: a multiple of the row blocks of OpenBLAS's kernels, so that a factor model's chunked scores
#: (BLAS on one thread, as evaluate holds it) are the same bits as one call over every user
#: (tests/test_evaluate_pipeline.py)
_CHUNK_ROWS = 384


# --------------------------------------------------------------------------- inputs
def check_metric_names(metrics: Any, name: str = "metrics") -> tuple[str, ...]:
    """A non-empty tuple of names from ``METRICS`` (one name alone is allowed too)."""
    if isinstance(metrics, str):
        metrics = (metrics,)
    try:
        metrics = tuple(metrics)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of metric names, got {describe(metrics)}") from None
    if not metrics:
        raise ValueError(f"{name} must name at least one of {', '.join(METRICS)}")
    for metric in metrics:
        check_choice(metric, name, METRICS)
    return metrics


def _check_test_train(test: Any, train: Any) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Validated CSR test and train (train may be None -> empty); test minus train items."""
    test = check_csr_counts(test, "test")
    if train is None:
        train = sp.csr_matrix(test.shape, dtype=np.float64)
    else:
        train = check_csr_counts(train, "train", allow_empty=True)
        if train.shape != test.shape:
            raise ValueError(
                f"test and train must have the same shape (users x items), got test {test.shape} "
                f"and train {train.shape}"
            )
    if train.nnz and count_overlap(test.indptr, test.indices, train.indptr, train.indices,
                                   test.shape[1]):
        overlap = test.multiply(train)
        # an item seen in training is never ranked, so it cannot be a test hit
        test = test - test.multiply(overlap > 0)
        test.eliminate_zeros()
        test.sort_indices()
    return test, train


def _check_users_arg(users: Any, n_rows: int, n_users: int) -> np.ndarray:
    if users is None:
        if n_rows != n_users:
            raise ValueError(
                f"predictions must have one row per user of test ({n_users}), got {n_rows} rows; "
                "pass users=... to say which users the rows belong to"
            )
        return np.arange(n_users, dtype=np.int64)
    array = np.asarray(users)
    if array.ndim != 1 or (array.size and not np.issubdtype(array.dtype, np.integer)):
        raise TypeError(f"users must be a 1-d array of integer user indices, got {describe(users)}")
    array = array.astype(np.int64)
    if array.size != n_rows:
        raise ValueError(f"users must give one user per row of predictions ({n_rows}), got {array.size}")
    if array.size and (array.min() < 0 or array.max() >= n_users):
        bad = array[(array < 0) | (array >= n_users)][0]
        raise ValueError(f"users must hold user indices in [0, {n_users - 1}], got {bad}")
    return array


def _check_predictions(predictions: Any, n_items: int) -> tuple[np.ndarray, str]:
    """A 2-d float score matrix ('scores') or an int matrix of ranked lists ('ranked')."""
    if sp.issparse(predictions) or isinstance(predictions, (str, bytes)) or predictions is None:
        raise TypeError(
            "predictions must be a dense 2-d array: float scores (users x items) or integer "
            f"ranked item lists, got {describe(predictions)}"
        )
    array = np.asarray(predictions)
    if array.ndim != 2:
        raise ValueError(f"predictions must be 2-d (one row per user), got shape {array.shape}")
    if array.dtype == bool or not (np.issubdtype(array.dtype, np.integer)
                                   or np.issubdtype(array.dtype, np.floating)):
        raise TypeError(
            "predictions must hold float scores or integer item indices, "
            f"got dtype {array.dtype}"
        )
    if np.issubdtype(array.dtype, np.floating):
        if array.shape[1] != n_items:
            raise ValueError(
                f"predictions as scores must have one column per item ({n_items}), "
                f"got shape {array.shape}"
            )
        if np.isnan(array).any():
            raise ValueError("predictions must not hold NaN scores")
        return np.ascontiguousarray(array, dtype=np.float64), "scores"
    ranked = np.ascontiguousarray(array, dtype=np.int64)
    if ranked.size and (ranked.min() < -1 or ranked.max() >= n_items):
        bad = ranked[(ranked < -1) | (ranked >= n_items)][0]
        raise ValueError(
            f"predictions as ranked lists must hold item indices in [0, {n_items - 1}] "
            f"(or -1 for an empty slot), got {bad}"
        )
    if ranked.shape[1] > 1:
        ordered = np.sort(ranked, axis=1)
        repeated = (ordered[:, 1:] == ordered[:, :-1]) & (ordered[:, 1:] >= 0)
        if repeated.any():
            row = int(np.nonzero(repeated.any(axis=1))[0][0])
            raise ValueError(f"predictions as ranked lists must not repeat an item; row {row} does")
    return ranked, "ranked"


def _drop_train(ranked: np.ndarray, rows: np.ndarray, train: sp.csr_matrix) -> np.ndarray:
    """Ranked lists with the user's training items removed (the rest moved up)."""
    if train.nnz == 0:
        return ranked
    out = np.full_like(ranked, -1)
    for r in range(ranked.shape[0]):
        seen = train.indices[train.indptr[rows[r]]:train.indptr[rows[r] + 1]]
        row = ranked[r]
        keep = row[(row >= 0) & ~np.isin(row, seen)]
        out[r, :keep.size] = keep
    return out


def _ranked_to_scores(ranked: np.ndarray, n_items: int) -> np.ndarray:
    """Listed items score above unlisted ones, in list order; unlisted items tie at 0."""
    width = ranked.shape[1]
    scores = np.zeros((ranked.shape[0], n_items), dtype=np.float64)
    rows, cols = np.nonzero(ranked >= 0)
    scores[rows, ranked[rows, cols]] = width - cols
    return scores


def _per_user(predictions, test, k, train, users, want):
    """Per-user values of the metrics in ``want`` (shared by the public functions)."""
    test, train = _check_test_train(test, train)
    n_users, n_items = test.shape
    preds, kind = _check_predictions(predictions, n_items)
    rows = _check_users_arg(users, preds.shape[0], n_users)
    k = min(check_int(k, "k", minimum=1), n_items)
    has_test = np.diff(test.indptr)[rows] > 0
    if not has_test.any():
        raise ValueError("test holds no item for any of these users (after removing train items)")
    preds, rows = preds[has_test], rows[has_test]
    indptr = test.indptr.astype(np.int64)
    indices = test.indices.astype(np.int64)
    data = test.data.astype(np.float64)
    t_indptr = train.indptr.astype(np.int64)
    t_indices = train.indices.astype(np.int64)
    need_lists = bool(want & set(_LIST_METRICS))
    need_full = bool(want & set(_FULL_METRICS))
    result = {}
    if kind == "ranked":
        preds = _drop_train(preds, rows, train)
        if need_lists:
            table = ranked_rows(preds, k, rows, indptr, indices, data)
            for name in ("precision", "recall", "map", "ndcg", "ndcg_graded"):
                result[name] = table[:, _COLUMN[name]]
        if need_full:
            # train items are already gone from the lists and score 0 like every unlisted
            # item, but they are still skipped by the kernel through train
            table, _, _ = evaluate_rows(_ranked_to_scores(preds, n_items), k, rows, t_indptr,
                                        t_indices, indptr, indices, data, False, True, _blocks())
    else:
        table, _, _ = evaluate_rows(preds, k, rows, t_indptr, t_indices, indptr, indices, data,
                                    need_lists, need_full, _blocks())
        for name in ("precision", "recall", "map", "ndcg", "ndcg_graded"):
            result[name] = table[:, _COLUMN[name]]
    if need_full:
        result["auc"] = table[:, _COLUMN["auc"]]
        result["percentile_rank"] = (table[:, 6], table[:, 7])
    return result


def _index_arrays(*matrices: sp.csr_matrix) -> list[np.ndarray]:
    """indptr and indices of each CSR matrix, in one integer type for all (int32 when every one
    fits, so that the kernels see one signature and nothing is copied in the usual case)."""
    arrays = [a for m in matrices for a in (m.indptr, m.indices)]
    small = all(a.dtype == np.int32 or (a.size == 0 or int(a.max()) < 2**31 - 1) for a in arrays)
    dtype = np.int32 if small else np.int64
    return [a.astype(dtype, copy=False) for a in arrays]


def _blocks() -> int:
    """Runs of rows per kernel call: a few per numba thread, so that each reuses its buffers
    while the threads still share the work evenly."""
    return 4 * numba.get_num_threads()


def _default_chunk(n_items: int, n_workers: int) -> int:
    """``_CHUNK_ROWS``, or fewer when one chunk per thread (and one being scored) would hold
    more than ``_CHUNK_BYTES`` of float64 scores."""
    fits = _CHUNK_BYTES // (8 * max(1, n_items) * (n_workers + 1))
    return max(1, min(_CHUNK_ROWS, fits))


def _pipeline(n_rows: int, chunk_size: int, n_workers: int, score, measure) -> None:
    """``scores = score(start, stop)`` then ``measure(start, stop, scores)`` for every chunk of
    ``chunk_size`` rows, in up to ``n_workers`` threads (this one included).

    ``score`` runs under a lock: the model is never asked for two chunks at once, and chunks
    are scored in order. ``measure`` (a numba kernel that releases the GIL) runs outside it,
    so one thread's scoring overlaps the others' measuring. ``measure`` returns True for a
    chunk with a bad row: no new chunk is then taken, and every chunk before it is finished.
    An exception (in ``score``, ``measure`` or a KeyboardInterrupt) stops the work the same
    way and is raised here once every thread has stopped, unless an earlier chunk was bad (the
    caller reports that one, as a one-thread run would have).
    """
    starts = range(0, n_rows, chunk_size)
    lock = threading.Lock()
    state: dict[str, Any] = {"next": 0, "stop": False, "bad": len(starts), "error": None}

    def fail(index: int, exc: BaseException) -> None:  # called with the lock held
        state["stop"] = True
        if state["error"] is None or index < state["error"][0]:
            state["error"] = (index, exc)

    def work() -> None:
        while True:
            with lock:
                if state["stop"] or state["next"] >= len(starts):
                    return
                index = state["next"]
                state["next"] += 1
                start = starts[index]
                stop = min(start + chunk_size, n_rows)
                try:
                    scores = score(start, stop)
                except BaseException as exc:  # noqa: BLE001 -- raised below, in the caller's thread
                    fail(index, exc)
                    return
            try:
                bad = measure(start, stop, scores)
            except BaseException as exc:  # noqa: BLE001
                with lock:
                    fail(index, exc)
                return
            if bad:
                with lock:
                    state["stop"] = True
                    state["bad"] = min(state["bad"], index)

    threads = [threading.Thread(target=work, daemon=True)
               for _ in range(max(0, min(n_workers, len(starts)) - 1))]
    for thread in threads:
        thread.start()
    try:
        work()
    finally:  # also on a KeyboardInterrupt here: no thread takes a new chunk, all are joined
        with lock:
            state["stop"] = True
        for thread in threads:
            thread.join()
    if state["error"] is not None and state["error"][0] < state["bad"]:
        raise state["error"][1]


def _mean(values: np.ndarray) -> float:
    finite = values[~np.isnan(values)]
    return float(finite.mean()) if finite.size else float("nan")


# ------------------------------------------------------------------ public metrics
def precision_at_k(predictions: Any, test: Any, k: int = 10, train: Any = None, users: Any = None) -> float:
    """Mean over users with test items of (test items in the top k) / k.

    ``predictions``: float scores (rows x items) or integer ranked lists (best first, -1
    pads); ``train`` items are never counted (removed from the lists / not ranked);
    ``users``: which user each row belongs to (default: row r is user r).

    >>> import numpy as np, scipy.sparse as sp
    >>> test = sp.csr_matrix(np.array([[0, 1, 1, 0]]))
    >>> precision_at_k(np.array([[1, 0, 2, 3]]), test, k=2)   # ranked lists: hit at position 2
    0.5
    """
    result = _per_user(predictions, test, k, train, users, {"precision"})
    return _mean(result["precision"])


def recall_at_k(predictions: Any, test: Any, k: int = 10, train: Any = None, users: Any = None) -> float:
    """Mean over users of (test items in the top k) / (number of test items)."""
    result = _per_user(predictions, test, k, train, users, {"recall"})
    return _mean(result["recall"])


def map_at_k(predictions: Any, test: Any, k: int = 10, train: Any = None, users: Any = None) -> float:
    """Mean average precision: AP@k = sum of precision@p at each hit p / min(k, |test_u|)."""
    result = _per_user(predictions, test, k, train, users, {"map"})
    return _mean(result["map"])


def ndcg_at_k(
    predictions: Any,
    test: Any,
    k: int = 10,
    train: Any = None,
    users: Any = None,
    relevance: str = "binary",
) -> float:
    """Normalised discounted cumulative gain at k, averaged over users.

    ``relevance="binary"``: each test item has gain 1; ``"count"``: gain = its held-out
    count r_ui (an item bought five times matters five times as much).
    """
    name = "ndcg" if check_choice(relevance, "relevance", RELEVANCE) == "binary" else "ndcg_graded"
    result = _per_user(predictions, test, k, train, users, {name})
    return _mean(result[name])


def auc(predictions: Any, test: Any, train: Any = None, users: Any = None) -> float:
    """Full AUC per user (test items against every other non-train item), averaged."""
    result = _per_user(predictions, test, 1, train, users, {"auc"})
    return _mean(result["auc"])


def expected_percentile_rank(predictions: Any, test: Any, train: Any = None, users: Any = None) -> float:
    """Hu-Koren-Volinsky rank-bar in [0, 1]: held-out-count-weighted mean percentile rank.

    0 means every test item was at the top of its user's list, 0.5 is what random scores
    give; lower is better. Multiply by 100 for the paper's percent.
    """
    result = _per_user(predictions, test, 1, train, users, {"percentile_rank"})
    weighted, weight = result["percentile_rank"]
    return float(weighted.sum() / weight.sum())


def coverage(
    predictions: Any,
    k: int = 10,
    train: Any = None,
    n_items: int | None = None,
    users: Any = None,
) -> float:
    """Share of the catalogue that appears in at least one user's top k.

    ``predictions``: float scores (the catalogue size is their number of columns) or
    integer ranked lists (then pass ``n_items``). ``train`` items are left out of each
    list first; ``users`` says which user of ``train`` each row is (default: row r is user r).
    """
    if sp.issparse(predictions) or predictions is None:
        _check_predictions(predictions, 0)  # raises the standard TypeError
    shape = np.shape(predictions)
    floating = np.issubdtype(np.asarray(predictions).dtype, np.floating)
    if n_items is None:
        if not floating or len(shape) != 2:
            raise ValueError("coverage of ranked lists needs n_items, the catalogue size")
        n_items = shape[1]
    n_items = check_int(n_items, "n_items", minimum=1)
    preds, kind = _check_predictions(predictions, n_items)
    k = min(check_int(k, "k", minimum=1), n_items)
    if train is None:
        if kind == "scores":
            top, _ = top_k(preds, k)
        else:
            top = preds[:, :k]
    else:
        train = check_csr_counts(train, "train", allow_empty=True)
        if train.shape[1] != n_items:
            raise ValueError(f"train must have {n_items} item columns, got shape {train.shape}")
        rows = _check_users_arg(users, preds.shape[0], train.shape[0])
        if kind == "scores":
            top, _ = top_k(preds, k, exclude=train, rows=rows)
        else:
            top = _drop_train(preds, rows, train)[:, :k]
    return _coverage(top, n_items)


def _coverage(top: np.ndarray, n_items: int) -> float:
    listed = np.unique(top[top >= 0])
    return float(listed.size / n_items)


# ------------------------------------------------------------------------- evaluate
def evaluate(
    model: Any,
    train: Any,
    test: Any,
    k: int = 10,
    metrics: Any = None,
    users: Any = None,
    chunk_size: int | None = None,
) -> dict:
    """Score ``model`` on held-out ``test`` interactions, excluding ``train`` items.

    ``model`` needs ``score(users) -> (len(users), n_items)`` (every model of the course
    has it). Users without test items (after removing train items) are skipped. Scores
    are asked for ``chunk_size`` users at a time (default 384, fewer for catalogues so large
    that a chunk per thread would pass 256 MB of float64), one chunk at a time, and each chunk
    is ranked and measured by a numba kernel in its own thread (top-k ties go to the lower item
    index): with numba's threads set to T, up to T chunks are in work, one being scored while
    the others are measured; BLAS is held to one thread meanwhile. The results do not depend on
    T or on ``chunk_size`` as long as ``model.score`` gives each user the same scores whichever
    users it is asked for with (a factor model does with the default ``chunk_size``).

    ``metrics``: names from ``METRICS`` (default all). Returns a dict with the mean of
    each metric (``percentile_rank`` is the held-out-count-weighted rank-bar, ``coverage``
    the share of the catalogue in some top-k list), ``"per_user"`` (arrays aligned with
    ``"users"``), ``"k"`` (after clamping to the catalogue), ``"n_users"`` evaluated and
    ``"n_skipped"`` users without test items.
    """
    if not hasattr(model, "score") or not callable(model.score):
        raise TypeError(f"model must have a score(users) method (a fitted recommender), got {describe(model)}")
    test, train = _check_test_train(test, train)
    n_users, n_items = test.shape
    for attr in ("n_users", "n_items"):
        size = getattr(model, attr, None)
        expected = n_users if attr == "n_users" else n_items
        if size is not None and size != expected:
            raise ValueError(
                f"test has {expected} {attr[2:]} but the model was fitted on {size}: "
                "train, test and model must share one users x items layout"
            )
    metrics = check_metric_names(METRICS if metrics is None else metrics)
    k = min(check_int(k, "k", minimum=1), n_items)
    n_workers = numba.get_num_threads()
    if chunk_size is None:
        chunk_size = _default_chunk(n_items, n_workers)
    chunk_size = check_int(chunk_size, "chunk_size", minimum=1)
    if users is None:
        candidates = np.arange(n_users, dtype=np.int64)
    else:
        candidates = _check_users_arg(users, np.asarray(users).size, n_users)
    has_test = np.diff(test.indptr)[candidates] > 0
    rows = candidates[has_test]
    n_skipped = int((~has_test).sum())
    if rows.size == 0:
        raise ValueError("test holds no item for any user to evaluate (after removing train items)")
    want = set(metrics)
    need_lists = bool(want & set(_LIST_METRICS))
    need_full = bool(want & set(_FULL_METRICS))
    # the CSR arrays as they are (no copies) when they fit in int32, as scipy stores most
    t_indptr, t_indices, indptr, indices = _index_arrays(train, test)
    data = test.data.astype(np.float64, copy=False)
    table = np.full((rows.size, 8), np.nan)
    top = np.full((rows.size, k), -1, dtype=np.int64)
    bad = np.zeros(rows.size, dtype=bool)

    def score(start: int, stop: int) -> np.ndarray:
        chunk = rows[start:stop]
        scores = np.asarray(model.score(chunk))
        if scores.shape != (chunk.size, n_items):
            raise ValueError(
                f"model.score returned shape {scores.shape}, expected {(chunk.size, n_items)}"
            )
        if not np.issubdtype(scores.dtype, np.floating):
            scores = scores.astype(np.float64)
        return np.ascontiguousarray(scores)

    def measure(start: int, stop: int, scores: np.ndarray) -> bool:
        evaluate_block(scores, k, rows[start:stop], t_indptr, t_indices, indptr, indices, data,
                       need_lists, need_full, table[start:stop], top[start:stop], bad[start:stop])
        return bool(bad[start:stop].any())

    # BLAS on one thread while the model scores: the other threads are busy measuring, and the
    # scores then do not depend on BLAS's thread count (it moves how a product is cut up)
    with _blas_controller().limit(limits=1, user_api="blas"):
        _pipeline(rows.size, chunk_size, n_workers, score, measure)
    if bad.any():
        raise ValueError(f"model.score returned NaN scores for user {int(rows[np.argmax(bad)])}")
    recommended = np.zeros(n_items, dtype=bool)
    if need_lists:
        recommended[top[top >= 0]] = True
    result: dict[str, Any] = {}
    per_user: dict[str, np.ndarray] = {}
    for name in metrics:
        if name == "coverage":
            result[name] = float(recommended.sum() / n_items)
        elif name == "percentile_rank":
            weighted, weight = table[:, 6], table[:, 7]
            result[name] = float(weighted.sum() / weight.sum())
            per_user[name] = weighted / weight
        else:
            column = table[:, _COLUMN[name]]
            result[name] = _mean(column)
            per_user[name] = column
    result["k"] = k
    result["n_users"] = int(rows.size)
    result["n_skipped"] = n_skipped
    result["users"] = rows
    result["per_user"] = per_user
    return result


# ------------------------------------------------------------ sampled negatives
def _check_item_array(value: Any, name: str, shape_text: str, ndim: int, n_items: int | None) -> np.ndarray:
    array = np.asarray(value)
    if array.ndim != ndim or array.dtype == bool or (array.size and not np.issubdtype(array.dtype, np.integer)):
        raise TypeError(f"{name} must be a {shape_text} array of integer item indices, got {describe(value)}")
    array = array.astype(np.int64)
    if array.size and array.min() < 0:
        raise ValueError(f"{name} must hold item indices >= 0, got {int(array.min())}")
    if array.size and n_items is not None and array.max() >= n_items:
        raise ValueError(f"{name} must hold item indices in [0, {n_items - 1}], got {int(array.max())}")
    return array


def sampled_ranking(model: Any, users: Any, targets: Any, negatives: Any, k: int = 10,
                    chunk_size: int = 1024) -> dict:
    """Hit rate and NDCG at ``k`` of each target ranked among sampled negatives (He et al. 2017).

    For row j, user ``users[j]``'s held-out item ``targets[j]`` is ranked against the items
    ``negatives[j]`` (e.g. 100 items the user never rated), by ``model.score``. Its rank r
    (0 = top) is the number of negatives scoring **at or above** it: a negative that ties the
    target counts as ranked above it (the strict, pessimistic convention: a model that scores
    everything equal gets r = number of negatives, not a lucky draw). Then
    hit = [r < k] and NDCG = 1 / log2(r + 2) if r < k else 0 (one relevant item, so the
    ideal DCG is 1). Returns ``{"hit_rate": mean hit, "ndcg": mean NDCG}`` over the rows.

    The candidates are only the target and its negatives: the model's other items are
    ignored, whatever their scores (see Krichene & Rendle, KDD 2020, on how this differs from
    ranking every item).
    """
    if not hasattr(model, "score") or not callable(model.score):
        raise TypeError(f"model must have a score(users) method (a fitted recommender), got {describe(model)}")
    k = check_int(k, "k", minimum=1)
    chunk_size = check_int(chunk_size, "chunk_size", minimum=1)
    n_users = getattr(model, "n_users", None)
    n_items = getattr(model, "n_items", None)
    user_array = np.asarray(users)
    if user_array.ndim != 1 or user_array.dtype == bool or (
            user_array.size and not np.issubdtype(user_array.dtype, np.integer)):
        raise TypeError(f"users must be a 1-d array of integer user indices, got {describe(users)}")
    if user_array.size == 0:
        raise ValueError("users must hold at least one user index, got an empty array")
    user_array = user_array.astype(np.int64)
    if user_array.min() < 0 or (n_users is not None and user_array.max() >= n_users):
        bad = user_array[(user_array < 0) | (user_array >= (n_users or np.inf))][0]
        raise ValueError(f"users must hold user indices in [0, {(n_users or 0) - 1}], got {bad}")
    target_array = _check_item_array(targets, "targets", "1-d", 1, n_items)
    negative_array = _check_item_array(negatives, "negatives", "2-d (users x negatives)", 2, n_items)
    if target_array.size != user_array.size:
        raise ValueError(f"targets must give one item per user ({user_array.size}), got {target_array.size}")
    if negative_array.shape[0] != user_array.size or negative_array.shape[1] == 0:
        raise ValueError(
            f"negatives must have one row per user ({user_array.size}) and at least one column, "
            f"got shape {negative_array.shape}"
        )
    ordered = np.sort(negative_array, axis=1)
    repeated = (ordered[:, 1:] == ordered[:, :-1]).any(axis=1)
    if repeated.any():
        row = int(np.argmax(repeated))
        raise ValueError(f"negatives must not repeat an item within a row: row {row} (user {user_array[row]}) does")
    clash = (negative_array == target_array[:, None]).any(axis=1)
    if clash.any():
        row = int(np.argmax(clash))
        raise ValueError(
            f"negatives must not contain the row's target item: row {row} (user {user_array[row]}) "
            f"lists its target {target_array[row]} among its negatives"
        )
    rows = np.arange(user_array.size)
    ranks = np.empty(user_array.size, dtype=np.int64)
    for start in range(0, user_array.size, chunk_size):
        part = slice(start, start + chunk_size)
        scores = np.asarray(model.score(user_array[part]))
        if scores.ndim != 2 or scores.shape[0] != user_array[part].size:
            raise ValueError(f"model.score returned shape {scores.shape}, expected ({user_array[part].size}, n_items)")
        if n_items is None and max(target_array[part].max(), negative_array[part].max()) >= scores.shape[1]:
            raise ValueError(f"targets and negatives must hold item indices below {scores.shape[1]} (model.score's width)")
        local = rows[part] - start
        target_scores = scores[local, target_array[part]]
        negative_scores = scores[local[:, None], negative_array[part]]
        if np.isnan(target_scores).any() or np.isnan(negative_scores).any():
            raise ValueError("model.score returned NaN scores for some of the users")
        ranks[part] = (negative_scores >= target_scores[:, None]).sum(axis=1)
    hits = ranks < k
    ndcg = np.where(hits, 1.0 / np.log2(ranks + 2.0), 0.0)
    return {"hit_rate": float(hits.mean()), "ndcg": float(ndcg.mean())}
