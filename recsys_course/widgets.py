"""Interactive explorers for the notebooks (ipywidgets).

Each returns a widget whose figure is redrawn when a control moves; the logic it shows
lives in tested package functions, the widget only wires controls to them.
"""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from ._validation import check_counts, check_float
from .plots.feedback import confidence_curves, transform_heatmaps

__all__ = ["alpha_explorer"]


def alpha_explorer(counts, alpha: float = 40.0, max_alpha: float = 100.0):
    """A slider for alpha (and a scheme toggle) that redraws the confidence heatmap and curves.

    Returns a ``VBox`` of the controls and an ``Output`` holding the figure; the figure is
    drawn once at once so the widget is never empty.
    """
    counts = check_counts(counts, "counts")
    if counts.ndim != 2 or counts.size == 0:
        raise ValueError(f"counts must be a non-empty 2-d array, got shape {counts.shape}")
    alpha = check_float(alpha, "alpha", minimum=0.0)
    max_alpha = check_float(max_alpha, "max_alpha", minimum=0.0, strict_minimum=True)
    if alpha > max_alpha:
        raise ValueError(f"alpha must be <= max_alpha ({max_alpha:g}), got {alpha:g}")

    slider = widgets.FloatSlider(value=alpha, min=0.0, max=max_alpha, step=1.0, description="alpha",
                                 continuous_update=False, readout_format=".0f")
    scheme = widgets.ToggleButtons(options=["linear", "log"], value="linear", description="scheme")
    output = widgets.Output()

    def redraw(_change=None):
        with output:
            output.clear_output(wait=True)
            fig = plt.figure(figsize=(12, 3.6))
            grid = fig.add_gridspec(1, 4, width_ratios=[1, 1, 1, 1.5])
            axes = [fig.add_subplot(grid[0, j]) for j in range(4)]
            transform_heatmaps(counts, alpha=slider.value, scheme=scheme.value, epsilon=1.0, axes=axes[:3])
            confidence_curves(alpha=slider.value, max_count=int(max(np.max(counts), 1)), epsilon=1.0, ax=axes[3])
            fig.tight_layout()
            plt.show()

    slider.observe(redraw, names="value")
    scheme.observe(redraw, names="value")
    redraw()
    box = widgets.VBox([widgets.HBox([slider, scheme]), output])
    box.add_class("alpha-explorer")
    return box
