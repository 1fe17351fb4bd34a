import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from recsys_course import plots, widgets  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _labelled(ax):
    return bool(ax.get_title()) and bool(ax.get_xlabel()) and bool(ax.get_ylabel())


def test_transform_heatmaps_show_the_worked_numbers(worked_counts):
    axes = plots.transform_heatmaps(worked_counts, alpha=40)
    texts = sorted(t.get_text() for t in axes[2].texts)
    assert texts == sorted(["1", "121", "1", "41", "1", "321", "1", "1", "81"])
    assert all(ax.get_title() for ax in axes)


def test_every_figure_has_title_and_axis_labels(small_counts):
    assert _labelled(plots.confidence_curves(alpha=10))
    assert _labelled(plots.rating_histogram(np.array([1, 2, 5, 5.0])))
    assert _labelled(plots.count_histogram(small_counts, "toy"))
    assert all(_labelled(ax) for ax in plots.activity_long_tail(small_counts, "toy"))
    ax = plots.zero_reasons_bar({"a": 1, "b": 3})
    assert ax.get_title() and ax.get_xlabel()


def test_plot_inputs_are_checked():
    with pytest.raises(ValueError, match="alpha"):
        plots.confidence_curves(alpha=-1)
    with pytest.raises(ValueError, match="ratings"):
        plots.rating_histogram([])
    with pytest.raises(ValueError, match="reasons"):
        plots.zero_reasons_bar({})
    with pytest.raises(TypeError, match="counts"):
        plots.activity_long_tail([[1, 2]], "x")
    with pytest.raises(ValueError, match="counts"):
        plots.transform_heatmaps(np.array([1.0, 2.0]))


def test_alpha_explorer_redraws_when_the_slider_moves(worked_counts):
    box = widgets.alpha_explorer(worked_counts, alpha=40)
    slider, scheme = box.children[0].children
    image = box.children[1]
    first = bytes(image.value)
    assert first.startswith(b"\x89PNG")
    slider.value = 5
    assert bytes(image.value) != first
    second = bytes(image.value)
    scheme.value = "log"
    assert bytes(image.value) != second


def test_alpha_explorer_checks_its_input(worked_counts):
    with pytest.raises(ValueError, match="alpha must be <= max_alpha"):
        widgets.alpha_explorer(worked_counts, alpha=200, max_alpha=100)
    with pytest.raises(ValueError, match="counts must hold counts >= 0"):
        widgets.alpha_explorer(-worked_counts - 1)
    with pytest.raises(ValueError, match="non-empty 2-d"):
        widgets.alpha_explorer(np.zeros((0, 3)))
    with pytest.raises(TypeError, match="counts"):
        widgets.alpha_explorer("abc")


def test_confidence_curves_count_axis_has_whole_number_ticks():
    ax = plots.confidence_curves(alpha=40, max_count=20)
    ticks = ax.get_xticks()
    assert len(ticks) >= 3 and np.allclose(ticks, np.round(ticks)), ticks


def test_log_scheme_labels_name_the_natural_log_and_epsilon():
    ax = plots.confidence_curves(alpha=40, epsilon=1.0)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "log: 1 + 40 ln(1 + r)" in labels, labels
    ax = plots.confidence_curves(alpha=40, epsilon=0.5)
    assert "log: 1 + 40 ln(1 + r/0.5)" in [t.get_text() for t in ax.get_legend().get_texts()]
    axes = plots.transform_heatmaps(np.array([[0, 1], [3, 0]]), alpha=10, scheme="log", epsilon=1.0)
    assert axes[2].get_title() == "confidence c_ui = 1 + 10 ln(1 + r_ui)"
