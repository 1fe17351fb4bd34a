"""Choosing and blending signals: ratings as confidence, weighted behaviour, score blends.

* :func:`ratings_to_counts` turns star ratings into the counts an implicit model reads
  (c_ui = 1 + alpha f(r_ui) with f given as a table: a 1-star rating can count for little).
* :func:`combine_signals` adds several behaviour logs with weights (saves above expanded
  ingredient lists above page views) into one count matrix.
* :class:`ScoreBlend` mixes models' scores (each standardised per user), e.g. an
  implicit model for everyone plus an explicit rating model.
* :class:`RatingsAsCounts` and :class:`WeightedSignals` wrap an implicit model so that a
  tuner (``recsys_course.tuning``) can fit it on a plain ratings or pairs matrix: the
  mapping from stars, or from several behaviour logs, happens inside ``fit``.
* :func:`simulate_recipe_app` generates the recipe app of the quiz: views, expansions
  and saves from hidden tastes, so a weighting can be judged against the truth;
  :func:`expected_saves` is the behavioural metric an online test would report;
  :func:`split_by_user` splits the hidden truth between validation and test users and
  :func:`evaluation_layers` scores a model on the three layers (offline, online,
  satisfaction).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from ._validation import (
    check_bool,
    check_csr_counts,
    check_float,
    check_index_array,
    check_int,
    check_random_state,
    describe,
)
from .data.split import ThreeWaySplit
from .models._base import RecommenderBase
from .models._topk import top_k

__all__ = [
    "RatingsAsCounts",
    "RecipeLog",
    "ScoreBlend",
    "WeightedSignals",
    "combine_signals",
    "evaluation_layers",
    "expected_saves",
    "ratings_to_counts",
    "recommend_unseen",
    "simulate_recipe_app",
    "RecipeSplit",
    "mean_and_std",
    "merge_comparisons",
    "paired_difference",
    "saver_groups",
    "recipe_split",
    "split_by_user",
    "split_signals",
]


# ---------------------------------------------------------------- ratings -> counts
def ratings_to_counts(ratings: Any, weights: Mapping[Any, float]) -> sp.csr_matrix:
    """Replace every stored rating r by ``weights[r]`` (the f of c = 1 + alpha f(r)).

    ``weights`` maps each rating value that occurs (e.g. 1..5) to a count >= 0; a weight of
    0 drops the pair (a rating that says "no" is then no positive at all).
    """
    ratings = check_csr_counts(ratings, "ratings")
    if not isinstance(weights, Mapping) or not weights:
        raise TypeError(f"weights must be a non-empty mapping rating -> weight, got {describe(weights)}")
    table = {}
    for key, value in weights.items():
        key = check_float(key, "weights key")
        table[key] = check_float(value, f"weights[{key:g}]", minimum=0.0)
    values = np.unique(ratings.data)
    missing = [float(v) for v in values if float(v) not in table]
    if missing:
        raise ValueError(
            f"weights must give a weight for every rating in ratings; missing {missing[:5]} "
            f"(has {sorted(table)})"
        )
    out = ratings.copy()
    out.data = np.array([table[float(v)] for v in out.data], dtype=np.float64)
    out.eliminate_zeros()
    return out


def combine_signals(signals: Mapping[str, Any], weights: Mapping[str, float]) -> sp.csr_matrix:
    """``sum_s weights[s] * signals[s]``: one count matrix from several behaviour logs.

    Every signal is a users x items matrix of counts with the same shape; ``weights``
    names exactly the same signals, each weight >= 0 (0 ignores that signal).
    """
    if not isinstance(signals, Mapping) or not signals:
        raise TypeError(f"signals must be a non-empty mapping name -> count matrix, got {describe(signals)}")
    if not isinstance(weights, Mapping):
        raise TypeError(f"weights must be a mapping name -> weight, got {describe(weights)}")
    if set(weights) != set(signals):
        raise ValueError(
            f"weights must name exactly the signals {sorted(signals)}, got {sorted(weights, key=str)}"
        )
    total = None
    for name, matrix in signals.items():
        weight = check_float(weights[name], f"weights[{name!r}]", minimum=0.0)
        matrix = check_csr_counts(matrix, f"signals[{name!r}]", allow_empty=True)
        if total is None:
            total = matrix * weight
        elif matrix.shape != total.shape:
            raise ValueError(
                f"signals[{name!r}] must have the shape of the other signals {total.shape}, got {matrix.shape}"
            )
        else:
            total = total + matrix * weight
    total = sp.csr_matrix(total)
    total.eliminate_zeros()
    total.sort_indices()
    if total.nnz == 0:
        raise ValueError("the weighted signals hold no positive count: give some signal a weight > 0")
    return total


# ---------------------------------------------------------------- score blend
def _fitted_on(model: Any, counts: sp.csr_matrix) -> bool:
    """True when ``model`` is fitted and its training matrix equals ``counts`` entry for entry."""
    train = getattr(model, "_train", None)
    if not getattr(model, "_fitted", False) or not sp.issparse(train) or train.shape != counts.shape:
        return False
    return (train.nnz == counts.nnz and np.array_equal(train.indptr, counts.indptr)
            and np.array_equal(train.indices, counts.indices) and np.array_equal(train.data, counts.data))


class ScoreBlend(RecommenderBase):
    """A weighted sum of models' scores, each standardised per user.

    ``score(u) = sum_k w_k z_k(u)`` with ``z_k(u)`` model k's scores for user u minus their
    mean over items, divided by their standard deviation (so a rating scale and a
    preference scale can be added).

    With ``refit=False`` (default) ``fit(train)`` does not refit the models: it checks they
    are fitted on the same users x items layout and keeps ``train`` for ``filter_seen``.
    With ``refit=True`` ``fit(train)`` fits each model on ``train`` first, unless that model
    is already fitted on exactly ``train`` (same stored entries): a tuner that tries several
    blend weights over the same component objects then fits each component once per
    training matrix. The component objects are fitted in place.
    """

    def __init__(self, models: Sequence[Any], weights: Sequence[float], refit: bool = False):
        self.models = models
        self.weights = weights
        self.refit = refit

    def __repr__(self) -> str:
        names = ", ".join(type(m).__name__ for m in self.models) if isinstance(self.models, (list, tuple)) else "?"
        weights = list(self.weights) if isinstance(self.weights, (list, tuple)) else self.weights
        extra = ", refit=True" if self.refit is True else ""
        return f"ScoreBlend([{names}], weights={weights}{extra})"

    def fit(self, counts: Any) -> "ScoreBlend":
        if not isinstance(self.models, (list, tuple)) or not self.models:
            raise TypeError(f"models must be a non-empty list of fitted models, got {describe(self.models)}")
        if not isinstance(self.weights, (list, tuple, np.ndarray)) or len(self.weights) != len(self.models):
            raise ValueError(
                f"weights must be a list with one weight per model ({len(self.models)}), got {describe(self.weights)}"
            )
        weights = np.array([check_float(w, f"weights[{i}]") for i, w in enumerate(self.weights)])
        refit = check_bool(self.refit, "refit")
        counts = check_csr_counts(counts, "counts")
        for i, model in enumerate(self.models):
            if not hasattr(model, "score"):
                raise TypeError(f"models[{i}] must be a fitted recommender with score(users), got {describe(model)}")
            if refit:
                if not callable(getattr(model, "fit", None)):
                    raise TypeError(f"models[{i}] must have fit(counts) when refit=True, got {describe(model)}")
                if not _fitted_on(model, counts):
                    model.fit(counts)
            shape = (getattr(model, "n_users", None), getattr(model, "n_items", None))
            if shape != counts.shape:
                raise ValueError(
                    f"models[{i}] ({type(model).__name__}) must be fitted on the layout of counts "
                    f"{counts.shape}, got {shape}"
                )
        self._weights = weights
        self._remember_training(counts)
        self._fitted = True
        return self

    def _score_rows(self, users: np.ndarray) -> np.ndarray:
        total = np.zeros((users.size, self.n_items))
        for weight, model in zip(self._weights, self.models):
            if weight == 0:
                continue
            scores = np.asarray(model.score(users), dtype=np.float64)
            centred = scores - scores.mean(axis=1, keepdims=True)
            spread = centred.std(axis=1, keepdims=True)
            total += weight * centred / np.where(spread > 0, spread, 1.0)
        return total


# ---------------------------------------------------------------- wrappers a tuner can fit
def _check_inner_model(model: Any, owner: str) -> None:
    if not callable(getattr(model, "fit", None)) or not callable(getattr(model, "score", None)):
        raise TypeError(f"{owner} model must be an unfitted recommender with fit and score, got {describe(model)}")


class _Wrapper(RecommenderBase):
    """A recommender fitted through ``self.model`` on a transformed matrix: scores and similar
    items are the inner model's."""

    def _score_rows(self, users: np.ndarray) -> np.ndarray:
        return self.model.score(users)

    def similar_items(self, item: Any, k: int = 10):
        self._check_fitted()
        return self.model.similar_items(item, k)


class RatingsAsCounts(_Wrapper):
    """``model`` fitted on ``ratings_to_counts(ratings, weights)``: stars read as implicit counts.

    ``fit(ratings)`` keeps every rated pair as "seen" (for ``filter_seen``), maps the stars
    with ``weights`` (e.g. all 1: "watched"; or 1 star -> 0.25 ... 5 stars -> 3: stars as
    confidence) and fits ``model`` on the result. Scores are ``model``'s. So a tuner that
    fits every setting on a ratings matrix can tune an implicit reading of it.
    """

    def __init__(self, model: Any, weights: Mapping[Any, float]):
        self.model = model
        self.weights = weights

    def __repr__(self) -> str:
        return f"RatingsAsCounts({self.model!r}, weights={self.weights!r})"

    def fit(self, ratings: Any) -> "RatingsAsCounts":
        _check_inner_model(self.model, "RatingsAsCounts")
        ratings = check_csr_counts(ratings, "ratings")
        counts = ratings_to_counts(ratings, self.weights)
        if counts.nnz == 0:
            raise ValueError("weights map every rating in ratings to 0: give some rating a weight > 0")
        self.model.fit(counts)
        self._remember_training(ratings, "ratings")
        self._fitted = True
        return self


class WeightedSignals(_Wrapper):
    """``model`` fitted on several behaviour logs, weighted and restricted to given pairs.

    ``signals`` maps names (views, expanded, saves) to aligned count matrices; ``weights``
    gives each a weight >= 0 as in :func:`combine_signals`. ``fit(pairs)`` keeps only the
    (user, item) pairs stored in ``pairs`` (the training pairs of a split), combines the
    signals there with ``weights`` and fits ``model``; ``pairs`` is what ``filter_seen``
    leaves out. So a tuner that fits every setting on one pairs matrix can tune the
    weights, and held-out pairs never reach the model through any signal.
    """

    def __init__(self, model: Any, signals: Mapping[str, Any], weights: Mapping[str, float]):
        self.model = model
        self.signals = signals
        self.weights = weights

    def __repr__(self) -> str:
        weights = dict(self.weights) if isinstance(self.weights, Mapping) else self.weights
        return f"WeightedSignals({self.model!r}, weights={weights!r})"

    def fit(self, pairs: Any) -> "WeightedSignals":
        _check_inner_model(self.model, "WeightedSignals")
        if not isinstance(self.signals, Mapping) or not self.signals:
            raise TypeError(f"signals must be a non-empty mapping name -> count matrix, got {describe(self.signals)}")
        pairs = check_csr_counts(pairs, "pairs")
        keep = pairs.copy()
        keep.data[:] = 1.0
        restricted = {}
        for name, matrix in self.signals.items():
            matrix = check_csr_counts(matrix, f"signals[{name!r}]", allow_empty=True)
            if matrix.shape != pairs.shape:
                raise ValueError(f"signals[{name!r}] must have the shape of pairs {pairs.shape}, got {matrix.shape}")
            restricted[name] = sp.csr_matrix(matrix.multiply(keep))
        counts = combine_signals(restricted, self.weights)
        self.model.fit(counts)
        self._remember_training(pairs, "pairs")
        self._fitted = True
        return self


# ---------------------------------------------------------------- the recipe app
@dataclass(frozen=True)
class RecipeLog:
    """A recipe app's behaviour log and the hidden truth behind it.

    ``views``, ``expanded``, ``saves``: users x items CSR counts (a save implies an
    expansion implies a view). ``liked``: dense bool truth. ``exposure``: what the app
    showed. ``p_view``, ``p_expand``, ``p_save``: (liked, not liked) probabilities of each
    step, used again by :func:`expected_saves`.
    """

    views: sp.csr_matrix
    expanded: sp.csr_matrix
    saves: sp.csr_matrix
    liked: np.ndarray
    exposure: np.ndarray
    p_view: tuple[float, float]
    p_expand: tuple[float, float]
    p_save: tuple[float, float]

    @property
    def signals(self) -> dict[str, sp.csr_matrix]:
        return {"views": self.views, "expanded": self.expanded, "saves": self.saves}

    @property
    def shape(self) -> tuple[int, int]:
        return self.views.shape

    def save_probability(self) -> tuple[float, float]:
        """P(save | shown) for a liked and for a not-liked recipe."""
        return tuple(self.p_view[j] * self.p_expand[j] * self.p_save[j] for j in (0, 1))


def _probability_pair(value: Any, name: str) -> tuple[float, float]:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{name} must be a pair (if liked, if not liked) of probabilities, got {describe(value)}")
    return tuple(check_float(v, f"{name}[{j}]", minimum=0.0, maximum=1.0) for j, v in enumerate(value))


def simulate_recipe_app(
    n_users: int = 600,
    n_items: int = 400,
    n_factors: int = 6,
    like_fraction: float = 0.15,
    exposure_fraction: float = 0.15,
    p_view: tuple[float, float] = (0.8, 0.35),
    p_expand: tuple[float, float] = (0.5, 0.25),
    p_save: tuple[float, float] = (0.3, 0.03),
    repeat_views: float = 0.5,
    random_state: Any = None,
) -> RecipeLog:
    """Views, expanded ingredient lists and saves generated from hidden tastes.

    Each user likes a ``like_fraction`` of recipes (a low-rank taste model) and is shown
    recipe i with probability ``min(1, exposure_fraction * activity_u * popularity_i)``
    (activity and a Zipf-like popularity, each of mean 1): ``exposure_fraction`` is the mean
    show probability before clipping at 1, and since the popular head clips, about 12-13% of
    the cells are shown with the defaults (``exposure.mean()``). A shown recipe is viewed with
    probability ``p_view[0]`` if liked, ``p_view[1]`` if not (1 + Poisson(``repeat_views``)
    views); a viewed one is expanded with ``p_expand``; an expanded one saved with
    ``p_save``. Views say little about taste, saves a lot: with the defaults under a third
    of viewed recipes are liked and nearly nine in ten saved ones, but saves are rare (about
    one user in two has one).
    """
    n_users = check_int(n_users, "n_users", minimum=2)
    n_items = check_int(n_items, "n_items", minimum=2)
    n_factors = check_int(n_factors, "n_factors", minimum=1)
    like_fraction = check_float(like_fraction, "like_fraction", minimum=0.0, maximum=1.0, strict_minimum=True)
    exposure_fraction = check_float(exposure_fraction, "exposure_fraction", minimum=0.0, maximum=1.0,
                                    strict_minimum=True)
    p_view = _probability_pair(p_view, "p_view")
    p_expand = _probability_pair(p_expand, "p_expand")
    p_save = _probability_pair(p_save, "p_save")
    repeat_views = check_float(repeat_views, "repeat_views", minimum=0.0)
    if n_users * n_items > 20_000_000:
        raise ValueError(f"n_users * n_items must be at most 20,000,000 (the truth is dense), got {n_users * n_items:,}")
    rng = check_random_state(random_state)

    taste = rng.normal(size=(n_users, n_factors)) @ rng.normal(size=(n_factors, n_items))
    liked = taste > np.quantile(taste, 1.0 - like_fraction)
    popularity = (rng.permutation(n_items) + 1.0) ** -0.8
    popularity /= popularity.mean()
    activity = rng.lognormal(0.0, 0.6, size=n_users)
    activity /= activity.mean()
    exposure = rng.random((n_users, n_items)) < np.clip(exposure_fraction * np.outer(activity, popularity), 0, 1)

    def step(previous, pair):
        chance = np.where(liked, pair[0], pair[1])
        return previous & (rng.random((n_users, n_items)) < chance)

    viewed = step(exposure, p_view)
    expanded = step(viewed, p_expand)
    saved = step(expanded, p_save)
    view_counts = np.where(viewed, 1.0 + rng.poisson(repeat_views, size=(n_users, n_items)), 0.0)

    def csr(values):
        out = sp.csr_matrix(values.astype(np.float64))
        out.sort_indices()
        return out

    return RecipeLog(views=csr(view_counts), expanded=csr(expanded), saves=csr(saved), liked=liked,
                     exposure=exposure, p_view=p_view, p_expand=p_expand, p_save=p_save)


def expected_saves(log: RecipeLog, recommended: Any) -> np.ndarray:
    """Per user, the expected number of saves if the app showed these recommendations.

    ``recommended`` is an (n_users, k) integer array of item indices (-1 for empty slots),
    e.g. from ``model.recommend_batch(range(n_users), k)``. Each shown recipe is saved
    with the probability of the view -> expand -> save chain for a liked or a not-liked
    recipe: the behavioural metric an online test would measure, without its noise.
    """
    if not isinstance(log, RecipeLog):
        raise TypeError(f"log must be a RecipeLog from simulate_recipe_app, got {describe(log)}")
    items = np.asarray(recommended)
    if items.ndim != 2 or items.shape[0] != log.shape[0]:
        raise ValueError(
            f"recommended must be an array of shape ({log.shape[0]}, k), got {describe(recommended)}"
        )
    items = check_index_array(items, "recommended", log.shape[1], "item", ndim=2, padding=-1)
    p_liked, p_other = log.save_probability()
    rows = np.repeat(np.arange(items.shape[0]), items.shape[1]).reshape(items.shape)
    valid = items >= 0
    liked = np.zeros(items.shape, dtype=bool)
    liked[valid] = log.liked[rows[valid], items[valid]]
    chance = np.where(liked, p_liked, p_other) * valid
    return chance.sum(axis=1)


def split_signals(signals: Mapping[str, Any], test_fraction: float = 0.2, random_state: Any = None):
    """Hold out whole (user, item) pairs from several aligned signals at once.

    A held-out pair leaves every signal (a recipe saved in the test period was also viewed
    then), so no trace of it stays in training. Returns ``(train_signals, test_pairs)``:
    a dict like ``signals`` restricted to training pairs, and a 0/1 CSR matrix of the
    held-out pairs (per user ``test_fraction`` of the pairs any signal touched, users
    with fewer than 2 pairs kept whole).
    """
    from .data import train_test_split

    if not isinstance(signals, Mapping) or not signals:
        raise TypeError(f"signals must be a non-empty mapping name -> count matrix, got {describe(signals)}")
    checked = {name: check_csr_counts(m, f"signals[{name!r}]", allow_empty=True) for name, m in signals.items()}
    shapes = {m.shape for m in checked.values()}
    if len(shapes) != 1:
        raise ValueError(f"signals must all have one shape, got {sorted(shapes)}")
    union = sum((m != 0).astype(np.float64) for m in checked.values())
    union = sp.csr_matrix(union)
    union.data[:] = 1.0
    train_pairs, test_pairs = train_test_split(union, test_fraction=test_fraction, random_state=random_state)
    keep = (train_pairs != 0).astype(np.float64)
    train = {}
    for name, matrix in checked.items():
        kept = sp.csr_matrix(matrix.multiply(keep))
        kept.eliminate_zeros()
        kept.sort_indices()
        train[name] = kept
    return train, test_pairs


def recommend_unseen(model: Any, seen: Any, k: int = 10) -> np.ndarray:
    """Top-k items for every user, leaving out the pairs in ``seen``.

    For a model trained on part of the log (say saves only) whose own ``filter_seen``
    would not know what else the user already viewed. Returns an (n_users, k) array of
    item indices, -1 where fewer than k items are left.
    """
    if not hasattr(model, "score"):
        raise TypeError(f"model must be a fitted recommender with score(users), got {describe(model)}")
    seen = check_csr_counts(seen, "seen", allow_empty=True)
    k = check_int(k, "k", minimum=1)
    shape = (getattr(model, "n_users", None), getattr(model, "n_items", None))
    if shape != seen.shape:
        raise ValueError(f"seen must have the model's layout {shape}, got {seen.shape}")
    out = np.full((seen.shape[0], k), -1, dtype=np.int64)
    k_eff = min(k, seen.shape[1])
    for start in range(0, seen.shape[0], 2048):
        rows = np.arange(start, min(start + 2048, seen.shape[0]), dtype=np.int64)
        items, _ = top_k(np.asarray(model.score(rows), dtype=np.float64), k_eff, exclude=seen, rows=rows)
        out[rows, :k_eff] = items
    return out


def split_by_user(matrix: Any, validation_fraction: float = 0.5, random_state: Any = None):
    """Share the rows of ``matrix`` between a validation and a test copy, by user.

    A random ``validation_fraction`` of the users keep their row in the validation copy
    (empty in the test copy), the others in the test copy. For a simulation's hidden truth:
    settings are chosen on the validation users' truth, the test users' truth is scored
    once, and no user's truth serves both. Returns ``(validation, test)`` as CSR matrices.
    """
    matrix = check_csr_counts(matrix, "matrix")
    validation_fraction = check_float(validation_fraction, "validation_fraction", minimum=0.0, maximum=1.0,
                                      strict_minimum=True)
    if validation_fraction >= 1.0:
        raise ValueError(f"validation_fraction must be < 1 (some users are left for test), got {validation_fraction}")
    if matrix.shape[0] < 2:
        raise ValueError(f"matrix must have at least 2 users to split, got {matrix.shape[0]}")
    rng = check_random_state(random_state)
    n_users = matrix.shape[0]
    n_validation = min(max(int(round(validation_fraction * n_users)), 1), n_users - 1)
    in_validation = np.zeros(n_users, dtype=bool)
    in_validation[rng.permutation(n_users)[:n_validation]] = True
    validation = sp.csr_matrix(sp.diags(in_validation.astype(np.float64)) @ matrix)
    test = sp.csr_matrix(sp.diags((~in_validation).astype(np.float64)) @ matrix)
    for out in (validation, test):
        out.eliminate_zeros()
        out.sort_indices()
    return validation, test


def evaluation_layers(model: Any, log: RecipeLog, seen: Any, held_out_saves: Any, truth: Any,
                      users: Any = None, k: int = 10) -> dict:
    """One model scored on the three layers of evaluation of the recipe app.

    ``offline``: NDCG@k of held-out saves (what a team can replay from its logs);
    ``online``: expected saves per k recipes shown (:func:`expected_saves`, what an A/B test
    would count); ``satisfaction``: precision@k against the hidden truth ``truth`` (what a
    perfect survey would report). Items in ``seen`` are never recommended. ``users``
    restricts every layer to those users (default: all); offline and satisfaction average
    over the users who have held-out saves / truth among them.
    """
    from .metrics import evaluate

    if not isinstance(log, RecipeLog):
        raise TypeError(f"log must be a RecipeLog from simulate_recipe_app, got {describe(log)}")
    seen = check_csr_counts(seen, "seen", allow_empty=True)
    if seen.shape != log.shape:
        raise ValueError(f"seen must have the log's shape {log.shape}, got {seen.shape}")
    if users is None:
        users = np.arange(log.shape[0])
    users = check_index_array(users, "users", log.shape[0], "user", nonempty=True)
    k = check_int(k, "k", minimum=1)
    offline = evaluate(model, seen, held_out_saves, k=k, metrics=("ndcg",), users=users)["ndcg"]
    satisfaction = evaluate(model, seen, truth, k=k, metrics=("precision",), users=users)["precision"]
    online = float(expected_saves(log, recommend_unseen(model, seen, k=k))[users].mean())
    return {"offline": float(offline), "online": online, "satisfaction": float(satisfaction)}


@dataclass(frozen=True)
class RecipeSplit(ThreeWaySplit):
    """A recipe-app split for ``recsys_course.tuning``: choose on some users' truth, test on others'.

    ``train``: the (user, recipe) pairs any signal touched in the training part (value 1);
    models fit on them through :class:`WeightedSignals`. ``validation`` / ``test``: the hidden
    truth (liked and not touched in training) of two disjoint groups of users. Because the
    validation part is truth, never behaviour, nothing is added to training after the choice:
    ``train_and_validation`` is ``train``. ``held_out``: the held-out pairs (every signal),
    ``held_out_saves``: those that were saves (the offline layer's relevance);
    ``validation_users`` / ``test_users``: the two groups.
    """

    held_out: sp.csr_matrix = field(default=None, repr=False)
    held_out_saves: sp.csr_matrix = field(default=None, repr=False)
    validation_users: np.ndarray = field(default=None, repr=False)
    test_users: np.ndarray = field(default=None, repr=False)

    @property
    def train_and_validation(self) -> sp.csr_matrix:
        return self.train

    def __repr__(self) -> str:
        return (
            f"RecipeSplit(train={self.train.nnz:,} touched pairs, truth of {self.validation_users.size} validation "
            f"and {self.test_users.size} test users, {self.held_out.nnz:,} held-out pairs of which "
            f"{self.held_out_saves.nnz:,} saves)"
        )


def recipe_split(log: RecipeLog, test_fraction: float = 0.2, validation_users: float = 0.5,
                 random_state: Any = None) -> RecipeSplit:
    """Hold out ``test_fraction`` of every user's pairs (all signals, :func:`split_signals`), and
    share the users' hidden truth (liked, not touched in training) between validation users
    (a ``validation_users`` fraction) and test users (:func:`split_by_user`)."""
    if not isinstance(log, RecipeLog):
        raise TypeError(f"log must be a RecipeLog from simulate_recipe_app, got {describe(log)}")
    rng = check_random_state(random_state)
    seed = random_state if isinstance(random_state, int) and not isinstance(random_state, bool) else None
    train_signals, held_out = split_signals(log.signals, test_fraction=test_fraction, random_state=rng)
    seen = combine_signals(train_signals, {name: 1.0 for name in train_signals})
    seen.data[:] = 1.0
    truth = sp.csr_matrix((log.liked & (seen.toarray() == 0)).astype(np.float64))
    validation, test = split_by_user(truth, validation_users, random_state=rng)
    saves = sp.csr_matrix(held_out.multiply(log.saves > 0))
    saves.eliminate_zeros()
    return RecipeSplit(train=seen, validation=validation, test=test, skipped_users=np.zeros(0, dtype=np.int64),
                       seed=seed, held_out=held_out, held_out_saves=saves,
                       validation_users=np.flatnonzero(validation.getnnz(axis=1)),
                       test_users=np.flatnonzero(test.getnnz(axis=1)))


def merge_comparisons(*comparisons: Any):
    """One ``recsys_course.tuning.Comparison`` from several run on the same splits.

    For a contender that needs another's choices (a blend of tuned models is tuned after
    them): its table, ``difference`` and figures then sit beside the others'. The
    comparisons must share the selection metric, k, test metrics and number of splits, name
    different contenders, and give every contender with more than one setting the same number
    of settings (the rule of ``compare``).
    """
    from dataclasses import replace

    from .tuning import Comparison

    if not comparisons:
        raise ValueError("comparisons must hold at least one Comparison, got none")
    for index, comparison in enumerate(comparisons):
        if not isinstance(comparison, Comparison):
            raise TypeError(f"comparisons[{index}] must be a Comparison from tuning.compare, got {describe(comparison)}")
    first = comparisons[0]
    names = list(first.contenders)
    for index, other in enumerate(comparisons[1:], start=1):
        for attribute in ("metric", "k", "test_metrics", "n_seeds"):
            if getattr(other, attribute) != getattr(first, attribute):
                raise ValueError(
                    f"comparisons[{index}] must share {attribute} with comparisons[0] "
                    f"({getattr(first, attribute)!r}), got {getattr(other, attribute)!r}"
                )
        clash = sorted(set(names) & set(other.contenders))
        if clash:
            raise ValueError(f"comparisons[{index}] must name new contenders, got {clash} again")
        names += list(other.contenders)
    # the merged table must keep compare's rule: every contender with settings tried as many
    budgets = {row["contender"]: row["n_settings"] for c in comparisons for row in c.per_seed
               if row["n_settings"] > 1}
    if len(set(budgets.values())) > 1:
        listing = ", ".join(f"{name}: {size}" for name, size in budgets.items())
        raise ValueError("comparisons must give every contender with hyperparameters the same tuning budget "
                         f"(number of settings), got {listing}")
    return replace(first, contenders=names,
                   per_seed=[row for c in comparisons for row in c.per_seed],
                   grids={key: grid for c in comparisons for key, grid in c.grids.items()})


def saver_groups(log: RecipeLog, split: RecipeSplit) -> dict:
    """The split's test users in three groups: ``"with a save"`` (a save among their training
    pairs), ``"no save"`` and ``"all users"``; each an array of user indices."""
    if not isinstance(log, RecipeLog):
        raise TypeError(f"log must be a RecipeLog from simulate_recipe_app, got {describe(log)}")
    if not isinstance(split, RecipeSplit):
        raise TypeError(f"split must be a RecipeSplit from recipe_split, got {describe(split)}")
    if split.train.shape != log.shape:
        raise ValueError(f"split must come from this log (shape {log.shape}), got shape {split.train.shape}")
    saved = sp.csr_matrix(split.train.multiply(log.saves > 0))
    saved.eliminate_zeros()
    has_save = np.flatnonzero(saved.getnnz(axis=1) > 0)
    users = split.test_users
    return {"with a save": np.intersect1d(users, has_save), "no save": np.setdiff1d(users, has_save),
            "all users": users}


def mean_and_std(tables: Sequence[Mapping[Any, Mapping[str, float]]]):
    """Mean and standard deviation (ddof=1) over seeds of tables ``row -> {metric: value}``.

    Every table must have the same rows and metrics (one table per seed, at least two).
    Returns ``(mean, std)`` in the same layout, e.g. for ``plots.metric_panels(mean, ..., errors=std)``.
    """
    if not isinstance(tables, Sequence) or isinstance(tables, (str, bytes)) or len(tables) < 2:
        raise ValueError(f"tables must be a list of at least 2 tables (one per seed), got {describe(tables)}")
    first = tables[0]
    if not isinstance(first, Mapping) or not first:
        raise TypeError(f"tables[0] must be a non-empty mapping row -> {{metric: value}}, got {describe(first)}")
    layout = {row: sorted(values) for row, values in first.items()}
    for index, table in enumerate(tables):
        if not isinstance(table, Mapping) or {row: sorted(v) for row, v in table.items()} != layout:
            raise ValueError(f"tables[{index}] must have the rows and metrics of tables[0], got {describe(table)}")
    mean, std = {}, {}
    for row, metrics in first.items():
        mean[row], std[row] = {}, {}
        for metric in metrics:
            values = np.array([check_float(t[row][metric], f"tables[..][{row!r}][{metric!r}]") for t in tables])
            mean[row][metric] = float(values.mean())
            std[row][metric] = float(values.std(ddof=1))
    return mean, std


def paired_difference(a: Any, b: Any, higher_is_better: bool = True) -> tuple[float, float, int, int]:
    """``a - b`` paired over seeds: ``(mean, std, wins, n)``, ``wins`` the seeds where a is better.

    Say "a is better" only when a wins on every seed and the mean is larger than the spread.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape or a.size < 2:
        raise ValueError(f"a and b must be 1-d arrays of the same length >= 2 (one value per seed), "
                         f"got shapes {a.shape} and {b.shape}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("a and b must hold finite numbers, found NaN or inf")
    higher_is_better = check_bool(higher_is_better, "higher_is_better")
    diff = a - b
    wins = int((diff > 0).sum() if higher_is_better else (diff < 0).sum())
    return float(diff.mean()), float(diff.std(ddof=1)), wins, int(diff.size)
