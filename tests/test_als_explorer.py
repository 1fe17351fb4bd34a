"""The live refit explorer of notebook 03 (no browser: controls are moved from Python)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import scipy.sparse as sp  # noqa: E402

from recsys_course import plots, widgets  # noqa: E402
from recsys_course.data import train_validation_test_split  # noqa: E402
from recsys_course.metrics import evaluate  # noqa: E402
from recsys_course.models import ImplicitALS  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _data(seed=0, n_users=60, n_items=40):
    rng = np.random.default_rng(seed)
    # two taste groups, so the factors have something to find
    group = rng.integers(0, 2, size=n_users)
    liked = np.where(group[:, None] == 0, np.arange(n_items) < n_items // 2, np.arange(n_items) >= n_items // 2)
    R = (rng.random((n_users, n_items)) < np.where(liked, 0.35, 0.04)).astype(np.float64)
    R[:, 0] += 1.0
    R[:, -1] += 1.0
    split = train_validation_test_split(sp.csr_matrix(R), random_state=seed)
    names = [f"item {i}" for i in range(n_items)]
    return split.train, split.validation, names


def _explorer(**overrides):
    train, validation, names = _data()
    params = dict(user=3, alpha=1.0, regularization=3.0, factors=4, factor_choices=(2, 4, 8), iterations=2,
                  cold_iterations=6)
    params.update(overrides)
    return widgets.als_explorer(train, validation, names, **params), (train, validation, names)


def _image_bytes(box):
    return bytes(box.children[2].children[0].value)


def _listing(box):
    return box.children[2].children[1].value


def test_it_draws_straight_away_and_the_picture_is_a_png():
    box, _ = _explorer()
    assert "als-explorer" in box._dom_classes
    assert _image_bytes(box).startswith(b"\x89PNG")
    assert _listing(box).count("<li>") == 10
    assert "validation NDCG@10" in box.children[1].value
    shown = widgets.with_picture(box)
    assert shown.png == _image_bytes(box)


def test_the_first_state_is_a_cold_fit_whose_list_and_ndcg_match_the_model():
    box, (train, validation, names) = _explorer()
    reference = ImplicitALS(factors=4, alpha=1.0, regularization=3.0, iterations=6, solver="cg", random_state=0,
                            dtype=np.float64, progress=False, compute_loss=False).fit(train)
    items, _ = reference.recommend(3, k=10)
    np.testing.assert_array_equal(box.state["items"], items)
    assert box.state["ndcg"] == pytest.approx(evaluate(reference, train, validation, k=10, metrics=("ndcg",))["ndcg"])
    first = _listing(box)
    assert first.index(names[items[0]] + " ") < first.index(names[items[1]] + " ")


def test_moving_a_slider_refits_and_changes_the_list_and_the_picture():
    box, _ = _explorer()
    before_list, before_png, before_model = _listing(box), _image_bytes(box), box.state["model"]
    box.controls["regularization"].value = 100.0
    assert box.state["model"] is not before_model
    assert box.state["model"].regularization == 100.0
    assert box.state["warm"]  # same f: restarted from the previous factors
    assert _listing(box) != before_list
    assert _image_bytes(box) != before_png


def test_a_warm_refit_starts_from_the_previous_factors():
    box, (train, _, _) = _explorer()
    previous = box.state["model"]
    box.controls["alpha"].value = 10.0
    expected = ImplicitALS(factors=4, alpha=10.0, regularization=3.0, iterations=2, solver="cg", random_state=0,
                           dtype=np.float64, progress=False, compute_loss=False)
    expected.fit(train, initial=(previous.user_factors, previous.item_factors))
    np.testing.assert_allclose(box.state["model"].user_factors, expected.user_factors, rtol=0, atol=1e-12)


def test_changing_f_starts_cold_with_the_new_shape():
    box, _ = _explorer()
    box.controls["factors"].value = 8
    assert not box.state["warm"]
    assert box.state["model"].user_factors.shape[1] == 8
    assert "cold start" in box.children[1].value


def test_validation_items_of_the_user_are_marked():
    box, (train, validation, names) = _explorer()
    held_out = set(validation[3].indices.tolist())
    marked = sum(int(i) in held_out for i in box.state["items"])
    assert _listing(box).count("&#10003;") == marked


@pytest.mark.parametrize(
    "overrides, error, words",
    [
        (dict(user=60), ValueError, "user"),
        (dict(alpha=2.0), ValueError, "alpha must be one of"),
        (dict(factors=5), ValueError, "factors must be one of"),
        (dict(alphas=(1.0, 1.0)), ValueError, "distinct"),
        (dict(regularizations=(-1.0, 3.0)), ValueError, "regularization"),
        (dict(k=0), ValueError, "k"),
        (dict(iterations=0), ValueError, "iterations"),
        (dict(alphas="1,2"), TypeError, "alpha"),
    ],
)
def test_bad_arguments_are_refused(overrides, error, words):
    train, validation, names = _data()
    params = dict(user=3, alpha=1.0, regularization=3.0, factors=4, factor_choices=(2, 4, 8))
    params.update(overrides)
    with pytest.raises(error, match=words):
        widgets.als_explorer(train, validation, names, **params)


def test_bad_data_is_refused():
    train, validation, names = _data()
    with pytest.raises(ValueError, match="item_names"):
        widgets.als_explorer(train, validation, names[:-1])
    with pytest.raises(ValueError, match="validation"):
        widgets.als_explorer(train, validation[:, :-1], names)
    with pytest.raises(TypeError, match="item_names"):
        widgets.als_explorer(train, validation, "abc")


def test_top_items_bars_colours_the_hits_and_checks_lengths():
    ax = plots.top_items_bars(["a", "b", "c"], [0.9, 0.5, 0.1], [False, True, False], title="t")
    colours = [tuple(np.round(p.get_facecolor(), 3)) for p in ax.patches[:3]]
    assert colours[0] == colours[2] != colours[1]
    assert ax.get_title() == "t" and ax.get_xlabel() and ax.get_ylabel()
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1. a", "2. b", "3. c"]
    with pytest.raises(ValueError, match="same length"):
        plots.top_items_bars(["a"], [0.1, 0.2])
    with pytest.raises(ValueError, match="hits"):
        plots.top_items_bars(["a", "b"], [0.1, 0.2], [True])
    with pytest.raises(ValueError, match="finite"):
        plots.top_items_bars(["a"], [np.nan])


def test_weighting_comparison_draws_means_spread_and_one_dot_per_seed():
    results = {"a": {"NDCG@10": [0.5, 0.6, 0.7], "AUC": [0.7, 0.7, 0.8]},
               "b": {"NDCG@10": [0.1, 0.2, 0.3], "AUC": [0.5, 0.6, 0.6]}}
    axes = plots.weighting_comparison(results)
    heights = [bar.get_height() for bar in axes[0].patches]
    np.testing.assert_allclose(heights, [0.6, 0.2])
    assert sum(len(c.get_offsets()) for c in axes[0].collections if hasattr(c, "get_offsets")) >= 6
    assert "std" in axes[0].get_title()
    single = plots.weighting_comparison({"a": {"x": 0.5}, "b": {"x": 0.25}})
    np.testing.assert_allclose([bar.get_height() for bar in single[0].patches], [0.5, 0.25])
    with pytest.raises(ValueError, match="AUC"):
        plots.weighting_comparison({"a": {"NDCG@10": 0.5, "AUC": 0.6}, "b": {"NDCG@10": 0.4}})
    with pytest.raises(ValueError, match="finite"):
        plots.weighting_comparison({"a": {"x": [np.nan]}})


def test_weighting_comparison_labels_wrap_outside_parentheses_and_sit_above_the_dots():
    # a seed far above the mean + std: its dot must not cover the mean's label
    results = {"equal-weight zeros (c = 1)": {"NDCG@10": [0.1, 0.1, 0.1, 0.1, 0.5]},
               "dropping the zeros": {"NDCG@10": [0.2, 0.2, 0.2, 0.2, 0.2]}}
    ax = plots.weighting_comparison(results)[0]
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks[0] == "equal-weight\nzeros (c = 1)"            # "(c = 1)" is never split
    assert all(line.count("(") == line.count(")") for t in ticks for line in t.split("\n"))
    label_y = {a.get_text(): a.xy[1] for a in ax.texts}
    values = np.array(results["equal-weight zeros (c = 1)"]["NDCG@10"])
    assert label_y[f"{values.mean():.3f}"] >= values.max()      # above the highest dot, not the error bar
    assert ax.get_ylim()[1] > values.max()
