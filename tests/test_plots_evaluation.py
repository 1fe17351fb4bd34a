"""The one-user breakdown of notebook 01 agrees with recsys_course.metrics, term by term."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import scipy.sparse as sp  # noqa: E402

from recsys_course import metrics, plots  # noqa: E402
from recsys_course.plots.evaluation import ranking_breakdown  # noqa: E402

# the worked example of notebook 01: 10 items, 2 seen in training, 2 held out
SCORES = np.array([0.5, 0.95, 0.7, 0.3, 0.8, 0.1, 0.9, 0.6, 0.2, 0.4])
HELD_OUT = np.array([0, 0, 3, 0, 0, 0, 0, 0, 0, 1.0])
TRAIN = np.array([0, 1, 0, 0, 0, 0, 2, 0, 0, 0.0])


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _package_metrics(scores, held_out, train, k):
    test = sp.csr_matrix(held_out[None, :])
    seen = sp.csr_matrix(train[None, :])
    preds = scores[None, :]
    return {
        "precision": metrics.precision_at_k(preds, test, k=k, train=seen),
        "recall": metrics.recall_at_k(preds, test, k=k, train=seen),
        "ndcg": metrics.ndcg_at_k(preds, test, k=k, train=seen),
        "auc": metrics.auc(preds, test, train=seen),
        "percentile_rank": metrics.expected_percentile_rank(preds, test, train=seen),
    }


def test_worked_example_by_hand():
    b = ranking_breakdown(SCORES, HELD_OUT, TRAIN, k=3)
    assert list(b.ranked) == [4, 2, 7, 0, 9, 3, 8, 5]  # train items 1 and 6 are not ranked
    assert list(b.held_out_items) == [2, 9]
    assert list(b.positions) == [2, 5]
    assert b.precision == pytest.approx(1 / 3)
    assert b.recall == pytest.approx(1 / 2)
    assert b.dcg == pytest.approx(1 / np.log2(3))
    assert b.ideal_dcg == pytest.approx(1 + 1 / np.log2(3))
    assert list(b.percentiles) == pytest.approx([1 / 7, 4 / 7])
    assert list(b.negatives_below) == [5, 3]
    assert b.auc == pytest.approx(8 / 12)
    assert b.percentile_rank == pytest.approx((3 * 1 / 7 + 1 * 4 / 7) / 4)
    assert "of 6" in b.table()


@pytest.mark.parametrize("k", [1, 3, 5, 8, 20])
def test_worked_example_matches_the_package(k):
    b = ranking_breakdown(SCORES, HELD_OUT, TRAIN, k=k)
    expected = _package_metrics(SCORES, HELD_OUT, TRAIN, k)
    for name, value in expected.items():
        assert getattr(b, name) == pytest.approx(value), name


@pytest.mark.parametrize("seed", range(25))
def test_random_lists_with_ties_match_the_package(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 30))
    scores = rng.integers(0, 5, n).astype(float)  # few distinct values: many ties
    train = (rng.random(n) < 0.3) * rng.integers(1, 4, n).astype(float)
    free = np.flatnonzero(train == 0)
    if free.size < 2:
        train[:] = 0
        free = np.arange(n)
    held_out = np.zeros(n)
    chosen = rng.choice(free, size=int(rng.integers(1, free.size)), replace=False)
    held_out[chosen] = rng.integers(1, 5, chosen.size)
    k = int(rng.integers(1, n + 3))
    b = ranking_breakdown(scores, held_out, train, k=k)
    expected = _package_metrics(scores, held_out, train, k)
    for name, value in expected.items():
        assert getattr(b, name) == pytest.approx(value), (name, seed)


def test_all_scores_tied_is_a_coin_toss():
    b = ranking_breakdown(np.zeros(8), np.array([0, 1, 0, 0, 0, 1, 0, 0.0]), k=3)
    assert b.auc == pytest.approx(0.5)
    assert b.percentile_rank == pytest.approx(0.5)


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="scores must hold finite"):
        ranking_breakdown([0.1, np.nan, 0.3], [1, 0, 0])
    with pytest.raises(ValueError, match="scores must be a 1-d"):
        ranking_breakdown([[0.1, 0.2]], [1, 0])
    with pytest.raises(TypeError, match="scores"):
        ranking_breakdown("abc", [1, 0, 0])
    with pytest.raises(ValueError, match="held_out must have one entry per item"):
        ranking_breakdown([0.1, 0.2, 0.3], [1, 0])
    with pytest.raises(ValueError, match="held_out must hold counts >= 0"):
        ranking_breakdown([0.1, 0.2, 0.3], [1, -1, 0])
    with pytest.raises(ValueError, match="held_out must hold at least one positive"):
        ranking_breakdown([0.1, 0.2, 0.3], [0, 0, 0])
    with pytest.raises(ValueError, match="must not share an item"):
        ranking_breakdown([0.1, 0.2, 0.3], [1, 0, 0], train=[1, 0, 0])
    with pytest.raises(ValueError, match="train must have one entry per item"):
        ranking_breakdown([0.1, 0.2, 0.3], [1, 0, 0], train=[0, 1])
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        ranking_breakdown([0.1, 0.2, 0.3], [1, 0, 0], k=0)
    with pytest.raises(ValueError, match="at least 2 items"):
        ranking_breakdown([0.1, 0.2, 0.3], [1, 0, 0], train=[0, 1, 1])
    with pytest.raises(ValueError, match="labels"):
        plots.ranked_list_metrics([0.1, 0.2, 0.3], [1, 0, 0], labels=["a"])


def test_figure_shows_every_item_and_the_metrics():
    ax = plots.ranked_list_metrics(SCORES, HELD_OUT, TRAIN, k=3)
    assert ax.get_xlabel() and ax.get_ylabel()
    title = ax.get_title()
    assert "NDCG@3 = 0.387" in title and "AUC = 0.667" in title and "25%" in title
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks[:2] == ["1. item 4", "2. item 2"]
    assert ticks[-2:] == ["train: item 1", "train: item 6"]
    notes = " ".join(t.get_text() for t in ax.texts)
    assert "DCG 1/log2(3) = 0.631" in notes and "DCG 0 (below k)" in notes
    assert notes.count("not ranked") == 2


def test_score_axis_ticks_stop_at_the_scores():
    # the axes run on to the right to hold the notes; ticks there would read as scores
    ax = plots.ranked_list_metrics(SCORES, HELD_OUT, TRAIN, k=3)
    ticks = ax.get_xticks()
    assert ticks.min() >= 0.0 and ticks.max() <= 1.0 + 1e-9, ticks
    assert ticks.max() >= max(SCORES) and len(ticks) >= 3
    assert ax.get_xlim()[1] > ticks.max()  # the room for the notes is still there
