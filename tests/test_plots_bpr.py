"""Figures of notebook 04 (recsys_course.plots.bpr): what they draw and what they refuse."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import scipy.sparse as sp  # noqa: E402

from recsys_course import plots  # noqa: E402
from recsys_course.models import Popularity  # noqa: E402
from recsys_course.tuning import grid_search  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _labelled(ax) -> bool:
    return bool(ax.get_title()) and bool(ax.get_xlabel()) and bool(ax.get_ylabel())


def test_auc_surrogate_draws_a_lower_bound_of_the_step():
    ax = plots.auc_surrogate(z_range=4.0)
    assert _labelled(ax)
    step, smooth = ax.lines[0], ax.lines[1]
    z, h = step.get_data()
    assert set(np.unique(h)) == {0.0, 1.0}
    assert np.all(h[z > 0] == 1.0) and np.all(h[z <= 0] == 0.0)
    z, s = smooth.get_data()
    # 1 + log2 sigmoid(z): 0 at z = 0, below the step everywhere, increasing
    assert s[np.argmin(np.abs(z))] == pytest.approx(0.0, abs=1e-2)
    assert np.all(s <= (z > 0) + 1e-12)
    assert np.all(np.diff(s) > 0)
    assert s[-1] == pytest.approx(1.0 - np.log2(1.0 + np.exp(-4.0)))


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), True, "6"])
def test_auc_surrogate_rejects_a_bad_range(bad):
    with pytest.raises(ValueError, match="z_range"):
        plots.auc_surrogate(z_range=bad)


def _sweep():
    rng = np.random.default_rng(0)
    dense = (rng.random((30, 20)) < 0.3).astype(float)
    train = sp.csr_matrix(dense * (rng.random(dense.shape) < 0.7))
    validation = sp.csr_matrix(dense - train.toarray())
    return grid_search(lambda weighting, size: Popularity(weighting=weighting),
                       [{"weighting": "users", "size": 1}, {"weighting": "counts", "size": 4},
                        {"weighting": "users", "size": 2}],
                       train, validation, metric="ndcg", k=5, metrics=["ndcg", "auc"])


def test_metric_sweep_plots_every_setting_in_parameter_order_and_rings_the_choice():
    result = _sweep()
    fig = plots.metric_sweep({"toy": result, "toy again": result}, "size", metrics=("ndcg", "auc"))
    axes = fig.axes
    assert len(axes) == 4
    for ax, metric in zip(axes, ["ndcg", "auc", "ndcg", "auc"]):
        assert _labelled(ax)
        x, y = ax.lines[0].get_data()
        assert list(x) == [1.0, 2.0, 4.0]
        expected = result.scores(metric)[[0, 2, 1]]
        np.testing.assert_allclose(y, expected)
        ring = ax.collections[0].get_offsets()[0]
        assert ring[0] == result.rows[result.best_index]["size"]
        assert ring[1] == pytest.approx(result.scores(metric)[result.best_index])


def test_metric_sweep_checks_its_input():
    result = _sweep()
    with pytest.raises(TypeError, match="results"):
        plots.metric_sweep({}, "size")
    with pytest.raises(TypeError, match="GridSearchResult"):
        plots.metric_sweep({"toy": {"size": [1, 2]}}, "size")
    with pytest.raises(ValueError, match="parameter"):
        plots.metric_sweep({"toy": result}, "epochs")
    with pytest.raises(ValueError, match="not scored"):
        plots.metric_sweep({"toy": result}, "size", metrics=("ndcg", "recall"))
    with pytest.raises(TypeError, match="metrics"):
        plots.metric_sweep({"toy": result}, "size", metrics="ndcg")


def test_negative_sampling_bars_legend_covers_no_bar():
    reports = {"uniform": {"training_positive": 0.0, "liked": 0.192, "liked_unseen": 0.171},
               "popularity": {"training_positive": 0.0, "liked": 0.176, "liked_unseen": 0.126},
               "uniform, unverified": {"training_positive": 0.033, "liked": 0.217, "liked_unseen": 0.167},
               "popularity, unverified": {"training_positive": 0.072, "liked": 0.230, "liked_unseen": 0.118}}
    ax = plots.negative_sampling_bars(reports)
    assert _labelled(ax)
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legend_box = ax.get_legend().get_window_extent(renderer)
    bars = [patch for patch in ax.patches]
    assert len(bars) == 12
    assert [bar.get_height() for bar in bars[4:8]] == pytest.approx([19.2, 17.6, 21.7, 23.0])
    for bar in bars:
        assert not legend_box.overlaps(bar.get_window_extent(renderer)), bar
    # the two-word sampler names break at the comma, one tick label per sampler
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "uniform", "popularity", "uniform,\nunverified", "popularity,\nunverified"]


def test_negative_sampling_bars_rejects_a_report_without_a_key():
    with pytest.raises(ValueError, match="lacks"):
        plots.negative_sampling_bars({"uniform": {"liked": 0.2}})
