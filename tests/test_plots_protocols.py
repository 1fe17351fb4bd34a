"""Figures of notebook 08: titles, labels and input checks."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from recsys_course.plots.protocols import hit_probability_curve, sampled_vs_full  # noqa: E402
from recsys_course.tuning import Comparison, GridSearchResult  # noqa: E402


def fake_comparison():
    rows = [{"factors": f, "hit_rate": h, "ndcg": n, "full_hit_rate": fh, "full_ndcg": fn}
            for f, h, n, fh, fn in [(2, 0.5, 0.3, 0.05, 0.02), (4, 0.6, 0.35, 0.04, 0.03)]]
    grid = GridSearchResult("ndcg", 10, rows, ["factors"], 1)
    per_seed = [{"contender": "m", "seed": 0, "params": {"factors": 4}, "validation": 0.35, "n_settings": 2,
                 "hit_rate": 0.6, "ndcg": 0.35, "full_hit_rate": 0.04, "full_ndcg": 0.03}]
    return Comparison("ndcg", 10, ("hit_rate", "ndcg", "full_hit_rate", "full_ndcg"), ["m"], per_seed,
                      {"m/0": grid})


def test_sampled_vs_full_draws_every_setting_with_labels():
    ax = sampled_vs_full(fake_comparison())
    assert ax.get_title() and "sampled" in ax.get_xlabel() and "all unseen" in ax.get_ylabel()
    offsets = ax.collections[0].get_offsets()
    np.testing.assert_allclose(offsets, [[0.3, 0.02], [0.35, 0.03]])
    plt.close("all")
    with pytest.raises(TypeError, match="comparison must be a Comparison"):
        sampled_vs_full({"not": "a comparison"})
    with pytest.raises(ValueError, match="metric must be 'ndcg' or 'hit_rate'"):
        sampled_vs_full(fake_comparison(), metric="auc")


def test_hit_probability_curve_has_both_axes_labelled():
    ax = hit_probability_curve(np.array([0, 5, 50, 500, 2000]), 3000)
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel() == "users (count)"
    right = [a for a in ax.figure.axes if a is not ax][0]
    assert "chance" in right.get_ylabel()
    curve = right.lines[0].get_ydata()
    assert curve[0] == pytest.approx(1.0) and curve[-1] == pytest.approx(0.0) and np.all(np.diff(curve) <= 1e-12)
    plt.close("all")
    with pytest.raises(ValueError, match="ranks must be a non-empty 1-d array"):
        hit_probability_curve(np.array([-1, 2]), 3000)


def test_comparison_bars_names_what_the_spread_is_over():
    from recsys_course.plots.tuning import comparison_bars

    comparison = fake_comparison()
    ax = comparison_bars(comparison)  # a plain Comparison: repetitions are splits, as in notebooks 03-05
    labels = ax.get_legend_handles_labels()[1]
    assert sorted(labels) == ["mean ± 1 std over splits", "one split"] and ax.get_title().endswith("over 1 splits")
    plt.close("all")
    comparison.repeat = "seed"  # what compare_leave_last_out sets: the split is fixed by time
    ax = comparison_bars(comparison)
    assert sorted(ax.get_legend_handles_labels()[1]) == ["mean ± 1 std over seeds", "one seed"]
    assert ax.get_title().endswith("over 1 seeds")
    plt.close("all")
    ax = comparison_bars(comparison, repeat="split")  # an explicit choice wins over the attribute
    assert sorted(ax.get_legend_handles_labels()[1]) == ["mean ± 1 std over splits", "one split"]
    plt.close("all")
    with pytest.raises(ValueError, match="repeat must be one of .*'fold'"):
        comparison_bars(comparison, repeat="fold")
