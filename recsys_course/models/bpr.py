"""Bayesian Personalised Ranking (Rendle et al., UAI 2009) with negative sampling.

Implicit data has positives only. Instead of calling every missing pair a "0" (as a
pointwise loss must), BPR learns from *contrast*: for an observed pair (u, i) it draws an
item j the user has not interacted with -- a sampled negative, used for this one step and
then forgotten -- and pushes the score of i above the score of j.

BPR-Opt, the log posterior of the parameters Theta given the triples
D_S = {(u, i, j): u had i, not j} under a Gaussian prior N(0, Sigma_Theta), is

    BPR-Opt = sum over (u, i, j) in D_S of ln sigmoid(s_uij) - lambda_Theta * |Theta|^2,
    s_uij = s_ui - s_uj,   s_ui = x_u . y_i + b_i.

BPR-MF as Rendle et al. state it has no bias (s_ui = x_u . y_i); the item bias b_i is this
package's addition (``item_bias=True``; a user bias would cancel in s_ui - s_uj). BPR-Opt is
the per-user AUC with its step function H(s_uij > 0) replaced by ln sigmoid(s_uij): BPR
maximises a smoothed AUC (users weighted by their number of interactions, since a step starts
from a random observed pair), not the top of the ranking.

Stochastic gradient ascent takes one sampled triple per step and penalises only the
parameters that step touches, so the penalty sits inside the sum. Per triple the kernel
ascends

    ln sigmoid(s_uij) - (lambda_Theta / 2) * (|x_u|^2 + |y_i|^2 + |y_j|^2 + b_i^2 + b_j^2)

with lambda_Theta = ``regularization`` (the 1/2 makes the step read -lambda_Theta * theta).
With g = sigmoid(-s_uij) (large when the pair is in the wrong order, near 0 when it is
already right) and eta = ``learning_rate``, all right-hand sides taken before the step:

    x_u <- x_u + eta * (g * (y_i - y_j) - lambda_Theta * x_u)
    y_i <- y_i + eta * (g * x_u - lambda_Theta * y_i)
    y_j <- y_j + eta * (-g * x_u - lambda_Theta * y_j)
    b_i <- b_i + eta * (g - lambda_Theta * b_i);   b_j <- b_j + eta * (-g - lambda_Theta * b_j)

lambda_Theta is not the ALS lambda (``ImplicitALS(regularization=...)``), which weighs a
least-squares loss over all cells in one exact solve per row; this one shrinks the touched
parameters once per SGD step, so its useful size depends on the learning rate and epochs.

Negatives come from ``sampler="uniform"`` (every item alike) or ``"popularity"`` (item i with
probability proportional to n_i ** popularity_exponent, n_i its number of users). With
``verify_negatives`` a draw the user did interact with is redrawn (at most ``max_draws``
draws); without it, some "negatives" are positives of the training data.

Two parallel schedules. ``schedule="hogwild"`` is lock-free (Niu et al. 2011):
``num_threads`` random streams update the shared factors at the same time, so only
``num_threads=1`` gives bit-for-bit the same model from a seed. ``schedule="strata"`` (the
default) is DSGD-style stratified SGD (Gemulla et al. 2011): each epoch users and items are cut at random
into ``blocks`` blocks (users with about equal numbers of interactions per block, items in
about equal numbers) and the epoch runs in ``blocks`` sub-epochs; in sub-epoch s, user block b
trains on its pairs with item block (b + s) mod ``blocks``, all b in parallel. A stratum gets
as many steps as it holds pairs, each on a pair of the stratum drawn with replacement, so an
epoch still takes one step per stored pair, and a pair can only come up in the sub-epoch that
meets its item block. No two parallel blocks share a user or an item row, because the
negatives of a block are drawn from its own item block, and each block draws from its own
counter-based random stream, so a seed gives the same bits for any ``num_threads``. The price
is in the negatives: a step contrasts its positive i only with items of i's block (for uniform
sampling, uniform over that block; for popularity sampling, the weights renormalised to the
block). Over an epoch every item block is visited, and the random cut changes every epoch, so
over epochs every pair of items gets contrasted.
"""

from __future__ import annotations

import copy
import time
from typing import Any

import numba
import numpy as np
import scipy.sparse as sp

from .._validation import (
    check_bool,
    check_choice,
    check_csr_counts,
    check_float,
    check_float_dtype,
    check_int,
    check_random_state,
    describe,
)
from ._base import FactorModelBase
from ._bpr_kernels import (
    block_cdf,
    bpr_epoch,
    bpr_epoch_portable,
    bpr_strata_epoch,
    bpr_strata_epoch_portable,
    build_bitset,
    draw_triples,
    pairs_auc,
    strata_layout,
    validation_pairs,
)

__all__ = ["BPR", "SAMPLERS", "SCHEDULES", "sample_negatives", "sampled_negative_truth"]

SAMPLERS = ("uniform", "popularity")
SCHEDULES = ("hogwild", "strata")
#: blocks of ``schedule="strata"`` when ``blocks=None``: this many, or fewer when the
#: catalogue is too small to give every block two items
DEFAULT_BLOCKS = 8
_LOSS_EVERY = 8  # the epoch loss is averaged over every 8th SGD step (saves a log per step)
_BITSET_BYTES = 64 * 2**20  # largest bitset of training pairs built for verifying negatives


def _user_of(counts: sp.csr_matrix) -> np.ndarray:
    return np.repeat(np.arange(counts.shape[0], dtype=np.int32), np.diff(counts.indptr))


def _popularity_weights(counts: sp.csr_matrix, sampler: str, exponent: float) -> np.ndarray:
    """Sampling weight per item (empty for uniform sampling)."""
    if sampler == "uniform":
        return np.empty(0, dtype=np.float64)
    users_per_item = np.bincount(counts.indices, minlength=counts.shape[1]).astype(np.float64)
    return np.where(users_per_item > 0, users_per_item ** exponent, 0.0)


def _popularity_cdf(counts: sp.csr_matrix, sampler: str, exponent: float) -> np.ndarray:
    """Cumulative sampling weights (empty for uniform sampling)."""
    return np.cumsum(_popularity_weights(counts, sampler, exponent))


def _strata(rng: np.random.Generator, indptr: np.ndarray, indices: np.ndarray, n_items: int,
            n_blocks: int, weights: np.ndarray):
    """One epoch's random cut for ``schedule="strata"``: users in ``n_blocks`` blocks of about
    equal numbers of pairs (so parallel blocks have about equal work), items in blocks of
    about equal numbers of items (so uniform negatives stay about uniform over an epoch).
    Returns ``(strata_ptr, strata_users, strata_items, block_items, item_ptr, cdf)``."""
    n_users = indptr.shape[0] - 1
    user_order = rng.permutation(n_users)
    item_order = rng.permutation(n_items)
    degrees = np.diff(indptr)[user_order]
    before = np.cumsum(degrees) - degrees
    user_block = np.empty(n_users, dtype=np.int64)
    user_block[user_order] = np.minimum(before * n_blocks // max(int(indices.shape[0]), 1),
                                        n_blocks - 1)
    item_block = np.empty(n_items, dtype=np.int64)
    item_block[item_order] = np.arange(n_items, dtype=np.int64) * n_blocks // n_items
    item_ptr = -(-np.arange(n_blocks + 1, dtype=np.int64) * n_items // n_blocks)
    strata_ptr, strata_users, strata_items = strata_layout(indptr, indices, user_block,
                                                           item_block, n_blocks)
    block_items = item_order.astype(np.int32)
    cdf = (block_cdf(weights, block_items, item_ptr) if weights.shape[0] > 0
           else np.empty(0, dtype=np.float64))
    return strata_ptr, strata_users, strata_items, block_items, item_ptr, cdf


def _resolve_threads(num_threads: int) -> int:
    return numba.config.NUMBA_NUM_THREADS if num_threads == 0 else num_threads


def _check_sampling(sampler, popularity_exponent, verify_negatives, max_draws):
    sampler = check_choice(sampler, "sampler", SAMPLERS)
    exponent = check_float(popularity_exponent, "popularity_exponent", minimum=0.0)
    verify = check_bool(verify_negatives, "verify_negatives")
    max_draws = check_int(max_draws, "max_draws", minimum=1)
    return sampler, exponent, verify, max_draws


def _structure(counts: sp.csr_matrix):
    return (_user_of(counts), counts.indptr.astype(np.int64), counts.indices.astype(np.int32))


def _check_has_negatives(counts: sp.csr_matrix, name: str) -> None:
    if np.all(np.diff(counts.indptr) >= counts.shape[1]):
        raise ValueError(
            f"{name} has every user interacting with every item: there is no negative to sample"
        )


def sample_negatives(
    counts: Any,
    n_samples: int = 10_000,
    sampler: str = "uniform",
    popularity_exponent: float = 1.0,
    verify_negatives: bool = True,
    max_draws: int = 50,
    random_state: Any = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw ``n_samples`` training triples (u, i, j) as ``BPR(schedule="hogwild")`` does.

    (u, i) is a random observed pair of ``counts``; j the sampled negative from the whole
    catalogue (-1 when ``verify_negatives`` found none within ``max_draws`` draws). The
    default ``schedule="strata"`` draws j from the item block of i instead, which over an
    epoch's random cuts gives each item the same chance. Useful to measure how often a
    "negative" is in fact something the user would like.
    """
    counts = check_csr_counts(counts, "counts")
    n_samples = check_int(n_samples, "n_samples", minimum=1)
    sampler, exponent, verify, max_draws = _check_sampling(sampler, popularity_exponent,
                                                           verify_negatives, max_draws)
    rng = check_random_state(random_state)
    user_of, indptr, indices = _structure(counts)
    seed = rng.integers(0, np.iinfo(np.uint64).max, dtype=np.uint64, endpoint=True)
    return draw_triples(user_of, indptr, indices, counts.shape[1], n_samples,
                        _popularity_cdf(counts, sampler, exponent), verify, max_draws, seed)


def _check_truth(value: Any, name: str, shape: tuple[int, int]) -> np.ndarray:
    array = np.asarray(value)
    if array.shape != shape:
        raise ValueError(f"{name} must be a boolean array of shape {shape}, got {describe(value)}")
    if array.dtype != bool:
        raise TypeError(f"{name} must be a boolean array, got dtype {array.dtype}")
    return array


def sampled_negative_truth(
    counts: Any,
    true_preference: Any,
    exposure: Any = None,
    n_samples: int = 20_000,
    sampler: str = "uniform",
    popularity_exponent: float = 1.0,
    verify_negatives: bool = True,
    random_state: Any = None,
) -> dict[str, float]:
    """How good are the sampled negatives, when the truth is known (simulated data)?

    Draws ``n_samples`` triples as ``sample_negatives`` does (the whole catalogue, as
    ``BPR(schedule="hogwild")`` draws) and returns the shares of the drawn
    negatives j that are: ``"training_positive"`` (the user had j in ``counts``: only
    possible without verification), ``"liked"`` (``true_preference[u, j]``: a false
    negative whatever the reason), ``"liked_unseen"`` (liked and never shown, from
    ``exposure``; NaN without it), plus ``"mean_popularity"`` (mean number of training
    users of j) and ``"missed"`` (share of draws with no negative found).
    """
    counts = check_csr_counts(counts, "counts")
    truth = _check_truth(true_preference, "true_preference", counts.shape)
    shown = None if exposure is None else _check_truth(exposure, "exposure", counts.shape)
    users, _, negatives = sample_negatives(counts, n_samples, sampler, popularity_exponent,
                                           verify_negatives, random_state=random_state)
    found = negatives >= 0
    u, j = users[found], negatives[found]
    users_per_item = np.bincount(counts.indices, minlength=counts.shape[1])
    had = np.asarray(counts[u, j]).ravel() > 0
    if j.size == 0:
        return {"training_positive": float("nan"), "liked": float("nan"),
                "liked_unseen": float("nan"), "mean_popularity": float("nan"), "missed": 1.0}
    return {
        "training_positive": float(had.mean()),
        "liked": float(truth[u, j].mean()),
        "liked_unseen": float((truth[u, j] & ~shown[u, j]).mean()) if shown is not None else float("nan"),
        "mean_popularity": float(users_per_item[j].mean()),
        "missed": float(1.0 - found.mean()),
    }


class BPR(FactorModelBase):
    """Matrix factorisation trained with the pairwise BPR criterion and sampled negatives.

    Parameters
    ----------
    factors : latent dimension f of x_u and y_i.
    learning_rate : SGD step eta.
    regularization : lambda_Theta, the penalty of BPR-Opt applied per SGD step: every factor
        and bias a step touches (x_u, y_i, y_j, b_i, b_j) is shrunk by eta * lambda_Theta
        times itself (see the module docstring). Not the ALS lambda; usual values 0.001-0.03.
    epochs : passes; one pass draws as many positives as there are stored (u, i) pairs.
    sampler : ``"uniform"`` or ``"popularity"`` negatives.
    popularity_exponent : weight n_i ** exponent for the popularity sampler (1: like
        picking the item of a random interaction; 0.75: word2vec's flattening; 0: uniform).
    negatives : negatives drawn per positive (one SGD step each).
    verify_negatives : redraw a negative the user had in training (bounded by ``max_draws``).
    max_draws : draws allowed per negative before the step is skipped.
    item_bias : learn an item offset b_i, added to every score (``item_biases``); an addition
        to BPR-MF as Rendle et al. state it (it learns popularity first).
    early_stopping : stop after this many epochs without a better validation AUC and keep
        the best epoch's factors (needs ``validation``); None trains every epoch. It watches
        the sampled AUC, which BPR optimises; the epoch best for NDCG@k can come earlier.
    validation_pairs : number of (u, i, j) pairs drawn once to estimate validation AUC.
    init_scale : standard deviation of the initial factors is init_scale / sqrt(factors).
    random_state : None, int or numpy Generator.
    num_threads : threads; 0 = all numba threads. With ``schedule="hogwild"`` also the
        number of random streams, and only ``num_threads=1`` is reproducible bit for bit;
        with ``schedule="strata"`` a seed gives the same bits for any number.
    schedule : ``"strata"`` (default: DSGD-style blocks updated in parallel without
        conflicts, reproducible for any ``num_threads``; negatives come from the positive's
        item block, see the module docstring) or ``"hogwild"`` (lock-free streams racing on
        shared factors; reproducible only with ``num_threads=1``).
    blocks : number of user and of item blocks B for ``schedule="strata"`` (an epoch is B
        sub-epochs of B parallel blocks); never derived from the thread count, so the model
        does not depend on it. None (default): 8, or half the number of items if that is
        fewer (the value used is ``blocks_`` after ``fit``). More blocks balance threads
        better but draw each step's negatives from a smaller share (1 / B) of the
        catalogue; at most half the number of items (a block needs two items to offer a
        negative). Ignored by ``"hogwild"``.
    progress : show a tqdm bar over epochs.
    dtype : float32 (default, faster) or float64 factors.
    fast_math : True (default): the CPU may reorder sums to vectorise them, so the same seed
        gives the same model on one machine but may differ in the last bits (and after many
        epochs, in the model) on another CPU. False: every sum in a fixed order, the same
        bits on any machine, about a quarter slower. The notebooks use False.

    After ``fit``: ``user_factors`` (n_users, f), ``item_factors`` (n_items, f),
    ``item_biases`` (n_items,; zeros without ``item_bias``), and ``history`` (per-epoch
    lists: ``loss`` = mean -ln sigmoid(s_ui - s_uj) over every 8th step of the epoch, ``train_order`` = share of sampled pairs already in
    the right order before their step, ``validation_auc``, ``seconds``, ``samples``,
    ``missed`` negatives), ``best_epoch``, ``samples_per_second``, ``blocks_`` (the
    strata schedule's B; None for ``"hogwild"``).
    """

    def __init__(
        self,
        factors: int = 64,
        learning_rate: float = 0.01,
        regularization: float = 0.01,
        epochs: int = 100,
        sampler: str = "uniform",
        popularity_exponent: float = 1.0,
        negatives: int = 1,
        verify_negatives: bool = True,
        max_draws: int = 50,
        item_bias: bool = True,
        early_stopping: int | None = None,
        validation_pairs: int = 20_000,
        init_scale: float = 0.1,
        random_state: Any = None,
        num_threads: int = 0,
        progress: bool = False,
        dtype: Any = np.float32,
        fast_math: bool = True,
        schedule: str = "strata",
        blocks: int | None = None,
    ):
        self.factors = factors
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.epochs = epochs
        self.sampler = sampler
        self.popularity_exponent = popularity_exponent
        self.negatives = negatives
        self.verify_negatives = verify_negatives
        self.max_draws = max_draws
        self.item_bias = item_bias
        self.early_stopping = early_stopping
        self.validation_pairs = validation_pairs
        self.init_scale = init_scale
        self.random_state = random_state
        self.num_threads = num_threads
        self.progress = progress
        self.dtype = dtype
        self.fast_math = fast_math
        self.schedule = schedule
        self.blocks = blocks

    def __repr__(self) -> str:
        return (f"BPR(factors={self.factors}, learning_rate={self.learning_rate}, "
                f"regularization={self.regularization}, epochs={self.epochs}, "
                f"sampler={self.sampler!r}, negatives={self.negatives}, "
                f"verify_negatives={self.verify_negatives}"
                + (f", schedule={self.schedule!r}" if self.schedule != "strata" else "")
                + (f", blocks={self.blocks}" if self.blocks is not None else "") + ")")

    # ------------------------------------------------------------------ checks
    def _check_parameters(self) -> dict:
        p = {
            "factors": check_int(self.factors, "factors", minimum=1),
            "learning_rate": check_float(self.learning_rate, "learning_rate", minimum=0.0,
                                         strict_minimum=True),
            "regularization": check_float(self.regularization, "regularization", minimum=0.0),
            "epochs": check_int(self.epochs, "epochs", minimum=1),
            "negatives": check_int(self.negatives, "negatives", minimum=1),
            "item_bias": check_bool(self.item_bias, "item_bias"),
            "validation_pairs": check_int(self.validation_pairs, "validation_pairs", minimum=1),
            "init_scale": check_float(self.init_scale, "init_scale", minimum=0.0),
            "num_threads": check_int(self.num_threads, "num_threads", minimum=0),
            "progress": check_bool(self.progress, "progress"),
            "fast_math": check_bool(self.fast_math, "fast_math"),
            "schedule": check_choice(self.schedule, "schedule", SCHEDULES),
            "blocks": (None if self.blocks is None
                       else check_int(self.blocks, "blocks", minimum=1)),
        }
        (p["sampler"], p["exponent"], p["verify"],
         p["max_draws"]) = _check_sampling(self.sampler, self.popularity_exponent,
                                           self.verify_negatives, self.max_draws)
        if self.early_stopping is None:
            p["early_stopping"] = None
        else:
            p["early_stopping"] = check_int(self.early_stopping, "early_stopping", minimum=1)
        p["dtype"] = check_float_dtype(self.dtype, "dtype")
        p["random_state"] = check_random_state(self.random_state)
        return p

    # --------------------------------------------------------------------- fit
    def fit(self, counts: Any, validation: Any = None) -> "BPR":
        """Learn factors from ``counts`` (users x items; only which pairs are non-zero matters).

        ``validation``: an optional held-out matrix of the same shape; its sampled AUC is
        recorded each epoch in ``history["validation_auc"]`` and drives ``early_stopping``.
        """
        p = self._check_parameters()
        if p["early_stopping"] is not None and validation is None:
            raise ValueError("early_stopping needs validation data: pass fit(counts, validation=...)")
        counts = check_csr_counts(counts, "counts")
        _check_has_negatives(counts, "counts")
        if validation is not None:
            validation = check_csr_counts(validation, "validation")
            if validation.shape != counts.shape:
                raise ValueError(
                    f"validation must have the shape of counts {counts.shape}, got {validation.shape}"
                )
        rng = p["random_state"]
        n_users, n_items = counts.shape
        if p["blocks"] is None:  # from the data's size only, never from the threads
            p["blocks"] = min(DEFAULT_BLOCKS, max(1, n_items // 2))
        elif p["schedule"] == "strata" and p["blocks"] > max(1, n_items // 2):
            raise ValueError(
                f"blocks={p['blocks']} is too many for {n_items} items: schedule='strata' draws "
                f"negatives inside an item block, so every block needs two items or more "
                f"(blocks <= {max(1, n_items // 2)})"
            )
        f = p["factors"]
        scale = p["init_scale"] / np.sqrt(f)
        user_factors = rng.normal(0.0, scale, size=(n_users, f)).astype(p["dtype"])
        item_factors = rng.normal(0.0, scale, size=(n_items, f)).astype(p["dtype"])
        item_bias = np.zeros(n_items, dtype=p["dtype"])
        user_of, indptr, indices = _structure(counts)
        weights = _popularity_weights(counts, p["sampler"], p["exponent"])
        cdf = np.cumsum(weights)
        # a bitset answers "did u have j?" in one look-up; too big -> binary search
        if p["verify"] and n_users * ((n_items + 63) // 64) * 8 <= _BITSET_BYTES:
            bits = build_bitset(indptr, indices, n_items)
        else:
            bits = np.empty(0, dtype=np.uint64)
        strata = p["schedule"] == "strata"
        if strata:
            epoch_kernel = bpr_strata_epoch if p["fast_math"] else bpr_strata_epoch_portable
        else:
            epoch_kernel = bpr_epoch if p["fast_math"] else bpr_epoch_portable
        streams = _resolve_threads(p["num_threads"])
        samples_per_stream = -(-counts.nnz // streams)
        lr = p["dtype"].type(p["learning_rate"])
        reg = p["dtype"].type(p["regularization"])

        val = None
        if validation is not None:
            seen = ((counts + validation) > 0).astype(np.float64).tocsr()
            seen.sort_indices()
            val_seed = rng.integers(0, np.iinfo(np.uint64).max, dtype=np.uint64, endpoint=True)
            val = validation_pairs(_user_of(validation), validation.indices.astype(np.int32),
                                   seen.indptr.astype(np.int64), seen.indices.astype(np.int32),
                                   n_items, p["validation_pairs"], 50, val_seed)
            if val[0].size == 0:
                raise ValueError("validation leaves no item unseen for its users: cannot estimate AUC")

        history: dict[str, list] = {"epoch": [], "loss": [], "train_order": [], "samples": [],
                                    "missed": [], "seconds": []}
        if val is not None:
            history["validation_auc"] = []
        best = (-np.inf, 0, None)
        bar = None
        if p["progress"]:
            from tqdm.auto import tqdm
            bar = tqdm(total=p["epochs"], desc="BPR", unit="epoch")
        previous_threads = numba.get_num_threads()
        numba.set_num_threads(min(streams, numba.config.NUMBA_NUM_THREADS))
        try:
            for epoch in range(p["epochs"]):
                if strata:
                    # the cut and the seed come from the Generator, never from the threads
                    started = time.perf_counter()
                    seed = rng.integers(0, np.iinfo(np.uint64).max, dtype=np.uint64,
                                        endpoint=True)
                    layout = _strata(rng, indptr, indices, n_items, p["blocks"], weights)
                    stats = np.zeros((p["blocks"], 6))
                    epoch_kernel(user_factors, item_factors, item_bias, p["item_bias"], indptr,
                                 indices, bits, *layout, p["negatives"], lr, reg, p["verify"],
                                 p["max_draws"], _LOSS_EVERY, seed, stats)
                else:
                    seeds = rng.integers(0, np.iinfo(np.uint64).max, size=streams,
                                         dtype=np.uint64, endpoint=True)
                    stats = np.zeros((streams, 6))
                    started = time.perf_counter()
                    epoch_kernel(user_factors, item_factors, item_bias, p["item_bias"], user_of,
                                 indptr, indices, bits, n_items, samples_per_stream,
                                 p["negatives"], lr, reg, cdf, p["verify"], p["max_draws"],
                                 _LOSS_EVERY, seeds, stats)
                seconds = time.perf_counter() - started
                if not (np.isfinite(item_factors).all() and np.isfinite(user_factors).all()
                        and np.isfinite(item_bias).all()):
                    raise ValueError(
                        f"BPR diverged in epoch {epoch + 1}: the factors overflowed to inf/NaN. "
                        f"learning_rate={p['learning_rate']:g} is too large for this data; try a smaller "
                        f"learning_rate (0.01-0.05 is usual) or a larger regularization"
                    )
                total = stats.sum(axis=0)
                updates = max(total[2], 1.0)
                history["epoch"].append(epoch + 1)
                history["loss"].append(float(total[0] / total[4]) if total[4] else float("nan"))
                history["train_order"].append(float(total[1] / updates))
                history["samples"].append(int(total[2]))
                history["missed"].append(int(total[3]))
                history["seconds"].append(seconds)
                if val is not None:
                    score = float(pairs_auc(user_factors, item_factors, item_bias, *val))
                    history["validation_auc"].append(score)
                    if score > best[0]:
                        best = (score, epoch + 1,
                                (user_factors.copy(), item_factors.copy(), item_bias.copy())
                                if p["early_stopping"] is not None else None)
                    elif (p["early_stopping"] is not None
                          and epoch + 1 - best[1] >= p["early_stopping"]):
                        if bar is not None:
                            bar.update(1)
                        break
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{history['loss'][-1]:.4f}")
        finally:
            numba.set_num_threads(previous_threads)
            if bar is not None:
                bar.close()
        if p["early_stopping"] is not None and best[2] is not None:
            user_factors, item_factors, item_bias = best[2]
        self.best_epoch = best[1] if val is not None else len(history["epoch"])
        self.history = history
        total_seconds = sum(history["seconds"])
        self.samples_per_second = sum(history["samples"]) / total_seconds if total_seconds > 0 else float("nan")
        # only now does the model change: a fit that fails leaves the previous one intact
        self._remember_training(counts)
        self.user_factors = user_factors
        self.item_factors = item_factors
        self.item_biases = item_bias
        self.blocks_ = p["blocks"] if strata else None
        self._fitted = True
        return self

    def _score_rows(self, users: np.ndarray) -> np.ndarray:
        return self.user_factors[users] @ self.item_factors.T + self.item_biases

    def validation_auc(self, validation: Any, n_pairs: int = 20_000, random_state: Any = 0) -> float:
        """Sampled AUC on held-out pairs: share of (u, i held out, j unseen) with s_ui > s_uj."""
        self._check_fitted()
        validation = check_csr_counts(validation, "validation")
        if validation.shape != self._train.shape:
            raise ValueError(
                f"validation must have the training shape {self._train.shape}, got {validation.shape}"
            )
        n_pairs = check_int(n_pairs, "n_pairs", minimum=1)
        rng = check_random_state(random_state)
        seen = ((self._train + validation) > 0).astype(np.float64).tocsr()
        seen.sort_indices()
        seed = rng.integers(0, np.iinfo(np.uint64).max, dtype=np.uint64, endpoint=True)
        pairs = validation_pairs(_user_of(validation), validation.indices.astype(np.int32),
                                 seen.indptr.astype(np.int64), seen.indices.astype(np.int32),
                                 self.n_items, n_pairs, 50, seed)
        return float(pairs_auc(self.user_factors, self.item_factors, self.item_biases, *pairs))

    def copy(self) -> "BPR":
        return copy.deepcopy(self)
