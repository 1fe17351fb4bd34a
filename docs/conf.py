"""Sphinx configuration of the course website (``make book``).

The site is built from the repository root (``sphinx-build -c docs . _build/html``) so that the
committed, executed notebooks in ``notebooks/`` are pages as they are (no copy, no execution) and
every relative link a notebook or the README holds resolves as it does on disk. Only ``docs/`` and
``notebooks/`` are sources (``include_patterns``). The site's own logic (landing page from the
README, static quiz page, exercise downloads, local MathJax, alt text of figures) lives in
``docs/_ext/course_book.py``.

Settings from the environment (nothing else to edit):

* ``COURSE_REPOSITORY_URL`` -- the public repository, e.g. ``https://github.com/OWNER/REPO``.
  When set, notebook pages get Binder and Colab launch buttons and a repository link; when empty
  (the default) no button is shown, since a button that leads to a 404 helps nobody.
* ``COURSE_REPOSITORY_BRANCH`` -- the branch the buttons open (default ``main``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))

# -- the one place for the launch buttons ---------------------------------------------------------
REPOSITORY_URL = os.environ.get("COURSE_REPOSITORY_URL", "").strip().rstrip("/")
REPOSITORY_BRANCH = os.environ.get("COURSE_REPOSITORY_BRANCH", "").strip() or "main"

project = "Recommenders from implicit feedback"
author = "the recsys-course authors"
html_show_copyright = False

extensions = [
    "myst_nb",
    "sphinx.ext.mathjax",
    "course_book",
]

root_doc = "docs/index"
include_patterns = ["docs/**", "notebooks/*.ipynb"]
exclude_patterns = [
    "_build", ".venv", ".git", "artifacts", "build", "dist", "**/.ipynb_checkpoints",
    "docs/_ext", "docs/_static", "docs/img",
]
templates_path: list[str] = []
suppress_warnings = ["myst.header"]  # the README's sections start at level 2 inside a page

# -- notebooks: shown as committed, never executed -------------------------------------------------
nb_execution_mode = "off"
nb_merge_streams = True
# A widget output of recsys_course.widgets.with_picture() carries the live view, a PNG of its
# default state and a text description: a static page shows the PNG (never the widget view, whose
# JavaScript would come from a CDN, nor the "VBox(children=..." text).
nb_mime_priority_overrides = [
    ("html", "application/vnd.jupyter.widget-view+json", None),
    ("html", "application/javascript", None),
]
nb_ipywidgets_js: dict = {}  # no require.js / widget manager from a CDN
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist", "html_image"]
myst_heading_anchors = 3

# -- math: MathJax 3 from the PyPI package django-static-mathjax, copied into _static/mathjax ------
# (course_book.py copies it; no CDN). tex-chtml-full holds every TeX extension, so typesetting
# loads nothing but the fonts, from the same folder.
mathjax_path = "mathjax/tex-chtml-full.js"
mathjax3_config = {
    "options": {"menuOptions": {"settings": {"assistiveMml": True}}},
}

# -- HTML ------------------------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_title = project
html_static_path = ["_static"]
html_css_files = ["course.css"]
html_favicon = "_static/favicon.svg"
html_context = {"default_mode": "light"}  # the notebooks' figures are drawn on white
html_last_updated_fmt = None
html_show_sourcelink = False
html_copy_source = True  # the download button of a notebook page offers the .ipynb itself
html_theme_options = {
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "show_toc_level": 2,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "navigation_with_keys": False,
    # no request to any other host when a page is viewed
    "pygments_light_style": "tango",
    "pygments_dark_style": "monokai",
}
if REPOSITORY_URL:
    html_theme_options.update(
        repository_url=REPOSITORY_URL,
        repository_branch=REPOSITORY_BRANCH,
        path_to_docs="",
        use_repository_button=True,
        launch_buttons={
            "binderhub_url": "https://mybinder.org",
            "colab_url": "https://colab.research.google.com",
            "notebook_interface": "jupyterlab",
        },
    )
