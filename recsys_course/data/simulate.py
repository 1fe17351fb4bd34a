"""Implicit feedback with a known ground truth.

Real logs never tell why a cell is zero. Here we generate the hidden causes:

1. every user has true tastes (latent factors) -> a **true preference** per item;
2. an interface shows each user a popularity-biased subset of items -> **exposure**;
3. a shown item that the user likes is consumed only when the moment is right
   (otherwise: seen in the wrong context), and then repeatedly -> **counts**;
4. a little noise: an occasional accidental click on a shown item the user does not like.

So each zero of the observed matrix has one of three causes, which the returned
object can count: seen and disliked, never shown, shown in the wrong context.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .._validation import check_float, check_int, check_random_state

__all__ = ["Simulation", "simulate"]


@dataclass(frozen=True)
class Simulation:
    """Observed counts plus the hidden truth that produced them (dense boolean arrays)."""

    counts: sp.csr_matrix
    true_preference: np.ndarray
    exposure: np.ndarray
    wrong_context: np.ndarray
    user_factors: np.ndarray
    item_factors: np.ndarray
    item_popularity: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.counts.shape

    def zero_reasons(self) -> dict[str, int]:
        """How many zero cells have each cause (the three add up to the number of zeros)."""
        observed = self.counts.toarray() > 0
        zero = ~observed
        return {
            "seen and disliked": int(np.sum(zero & self.exposure & ~self.true_preference)),
            "never shown": int(np.sum(zero & ~self.exposure)),
            "shown in the wrong context": int(np.sum(zero & self.exposure & self.true_preference)),
        }

    def liked_but_unseen(self) -> np.ndarray:
        """Cells the user would like but never saw: zeros that are not negatives at all."""
        return self.true_preference & ~self.exposure


def simulate(
    n_users: int = 1000,
    n_items: int = 500,
    n_factors: int = 8,
    like_fraction: float = 0.2,
    exposure_fraction: float = 0.3,
    popularity_exponent: float = 1.0,
    activity_spread: float = 0.8,
    consume_probability: float = 0.6,
    mean_extra_count: float = 2.0,
    noise_probability: float = 0.01,
    random_state=None,
) -> Simulation:
    """Generate counts from hidden tastes and a popularity-biased exposure process.

    Parameters
    ----------
    n_users, n_items, n_factors:
        sizes; the truth is a rank-``n_factors`` taste model.
    like_fraction:
        share of all (user, item) pairs the users truly like.
    exposure_fraction:
        scale of the show probability: user u is shown item i with probability
        ``min(1, exposure_fraction * activity_u * popularity_i)``, where activity and
        popularity each have mean 1. So ``exposure_fraction`` is the mean show probability
        *before* clipping at 1 (and the exact share shown when popularity is uniform and
        ``activity_spread=0``). With a popularity bias the head items clip at 1 and the
        realised share is lower: about 17% of all cells with the defaults (``exposure.mean()``
        gives it for any simulation).
    popularity_exponent:
        the item in place q of a random popularity order gets weight q ** -exponent,
        rescaled to mean 1 (0: uniform; 1: Zipf-like).
    activity_spread:
        sigma of the log-normal user activity, rescaled to mean 1 (heavier users see more).
    consume_probability:
        chance that a shown, liked item is consumed (else: wrong context).
    mean_extra_count:
        consumption counts are 1 + Poisson(mean scaled by how strongly the item is liked).
    noise_probability:
        chance of one accidental interaction with a shown, disliked item.
    random_state:
        None, an int or a numpy Generator.
    """
    n_users = check_int(n_users, "n_users", minimum=2)
    n_items = check_int(n_items, "n_items", minimum=2)
    n_factors = check_int(n_factors, "n_factors", minimum=1)
    like_fraction = check_float(like_fraction, "like_fraction", minimum=0.0, maximum=1.0, strict_minimum=True)
    exposure_fraction = check_float(exposure_fraction, "exposure_fraction", minimum=0.0, maximum=1.0, strict_minimum=True)
    popularity_exponent = check_float(popularity_exponent, "popularity_exponent", minimum=0.0)
    activity_spread = check_float(activity_spread, "activity_spread", minimum=0.0)
    consume_probability = check_float(consume_probability, "consume_probability", minimum=0.0, maximum=1.0, strict_minimum=True)
    mean_extra_count = check_float(mean_extra_count, "mean_extra_count", minimum=0.0)
    noise_probability = check_float(noise_probability, "noise_probability", minimum=0.0, maximum=1.0)
    if n_users * n_items > 50_000_000:
        raise ValueError(
            f"n_users * n_items must be at most 50,000,000 (the truth is kept dense), got {n_users * n_items:,}"
        )
    rng = check_random_state(random_state)

    user_factors = rng.normal(size=(n_users, n_factors))
    item_factors = rng.normal(size=(n_items, n_factors))
    affinity = user_factors @ item_factors.T / np.sqrt(n_factors)
    threshold = np.quantile(affinity, 1.0 - like_fraction)
    true_preference = affinity > threshold

    # popularity: a random item order, Zipf-like weights, mean 1
    ranks = rng.permutation(n_items) + 1.0
    popularity = ranks ** -popularity_exponent
    popularity /= popularity.mean()
    activity = rng.lognormal(mean=0.0, sigma=activity_spread, size=n_users) if activity_spread > 0 else np.ones(n_users)
    activity /= activity.mean()
    show_probability = np.clip(exposure_fraction * np.outer(activity, popularity), 0.0, 1.0)
    exposure = rng.random((n_users, n_items)) < show_probability

    right_moment = rng.random((n_users, n_items)) < consume_probability
    consumed = exposure & true_preference & right_moment
    wrong_context = exposure & true_preference & ~right_moment
    strength = np.clip((affinity - threshold) / (affinity.std() + 1e-12), 0.0, None)
    counts = np.zeros((n_users, n_items))
    extra = rng.poisson(mean_extra_count * (1.0 + strength))
    counts[consumed] = 1.0 + extra[consumed]
    accidental = exposure & ~true_preference & (rng.random((n_users, n_items)) < noise_probability)
    counts[accidental] = 1.0
    matrix = sp.csr_matrix(counts)
    matrix.sort_indices()
    return Simulation(
        counts=matrix,
        true_preference=true_preference,
        exposure=exposure,
        wrong_context=wrong_context,
        user_factors=user_factors,
        item_factors=item_factors,
        item_popularity=popularity,
    )
