"""with_picture: live widget in JupyterLab, a PNG and a description everywhere else."""

from __future__ import annotations

import base64

import ipywidgets as widgets
import numpy as np
import pytest

from recsys_course.widgets import StaticPicture, alpha_explorer, with_picture

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_bundle_carries_widget_picture_and_text(worked_counts):
    explorer = alpha_explorer(worked_counts)
    shown = with_picture(explorer)
    assert isinstance(shown, StaticPicture) and shown.widget is explorer
    bundle = shown._repr_mimebundle_()
    view = bundle["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == explorer.model_id
    png = base64.b64decode(bundle["image/png"])
    image = explorer.children[1]
    assert png == bytes(image.value) and png.startswith(PNG_MAGIC)
    assert "children=" not in bundle["text/plain"] and "interactive" in bundle["text/plain"]
    assert repr(shown) == bundle["text/plain"]


def test_picture_is_the_default_state_even_after_a_move(worked_counts):
    explorer = alpha_explorer(worked_counts)
    shown = with_picture(explorer)
    before = shown.png
    explorer.children[0].children[0].value = 5.0  # move the slider: the live image changes
    assert bytes(explorer.children[1].value) != before
    assert shown.png == before


def test_explicit_png_and_alt():
    png = PNG_MAGIC + b"rest"
    shown = with_picture(widgets.IntSlider(), png=png, alt="a slider")
    bundle = shown._repr_mimebundle_()
    assert base64.b64decode(bundle["image/png"]) == png and bundle["text/plain"] == "a slider"


@pytest.mark.parametrize("widget, kwargs, error, text", [
    ("not a widget", {}, TypeError, "widget"),
    (None, {}, TypeError, "widget"),
    ("slider", {}, ValueError, "png must be given"),
    ("slider", {"png": b"GIF89a"}, ValueError, "PNG"),
    ("slider", {"png": PNG_MAGIC, "alt": ""}, TypeError, "alt"),
])
def test_bad_arguments(widget, kwargs, error, text):
    if widget == "slider":
        widget = widgets.IntSlider()
    with pytest.raises(error, match=text):
        with_picture(widget, **kwargs)
