"""What ``simulate(exposure_fraction=...)`` means: the show probability's scale before clipping at 1.

Notebook 01 prints the realised share of cells shown (16.8% with the defaults); the docstring says
why that is below ``exposure_fraction`` = 0.3. These tests hold the docstring to the code.
"""

from __future__ import annotations

import numpy as np
import pytest

from recsys_course.data import simulate


@pytest.mark.parametrize("fraction", [0.1, 0.3, 0.6])
def test_without_popularity_or_activity_spread_the_share_shown_is_the_fraction(fraction):
    sim = simulate(n_users=400, n_items=300, exposure_fraction=fraction, popularity_exponent=0.0,
                   activity_spread=0.0, random_state=1)
    # 120,000 Bernoulli draws: the standard error of the mean is at most 0.0015
    assert sim.exposure.mean() == pytest.approx(fraction, abs=0.006)


def test_with_a_popularity_bias_the_head_clips_and_the_share_follows_the_clipped_probability():
    fraction = 0.3
    sim = simulate(n_users=600, n_items=400, exposure_fraction=fraction, popularity_exponent=1.0,
                   activity_spread=0.0, random_state=2)
    assert sim.item_popularity.mean() == pytest.approx(1.0)
    clipped = np.minimum(1.0, fraction * sim.item_popularity)
    assert np.any(clipped == 1.0)                     # the head items clip
    assert clipped.mean() < fraction - 0.05           # ... so mass is lost
    # per item, the share of users shown it follows min(1, fraction * popularity_i)
    np.testing.assert_allclose(sim.exposure.mean(axis=0), clipped, atol=0.08)
    assert sim.exposure.mean() == pytest.approx(clipped.mean(), abs=0.006)


def test_defaults_show_about_a_sixth_of_the_cells_not_the_fraction():
    shares = [simulate(random_state=seed).exposure.mean() for seed in range(3)]
    assert all(0.15 < s < 0.19 for s in shares), shares


def test_recipe_app_exposure_fraction_is_the_same_scale_before_clipping():
    from recsys_course.blending import simulate_recipe_app
    shares = [simulate_recipe_app(random_state=seed).exposure.mean() for seed in range(3)]
    assert all(0.11 < s < 0.14 for s in shares), shares  # below exposure_fraction = 0.15: the head clips
    flat = simulate_recipe_app(n_users=300, n_items=200, exposure_fraction=0.01, random_state=0)
    # so small a scale that nothing clips: the share shown is the fraction itself
    assert flat.exposure.mean() == pytest.approx(0.01, abs=0.002)
