"""Shared fixtures: small deterministic matrices for fast tests."""

from __future__ import annotations

import os

import numpy as np
import pytest
import scipy.sparse as sp

# The notebooks and tests never need a display.
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def worked_counts() -> np.ndarray:
    """The worked example of the syllabus: users A, B, C over three items."""
    return np.array([[0, 3, 0], [1, 0, 8], [0, 0, 2]], dtype=float)


@pytest.fixture
def small_counts() -> sp.csr_matrix:
    """A 30 x 20 random count matrix with every user and item active at least once."""
    rng = np.random.default_rng(7)
    dense = rng.poisson(0.4, size=(30, 20)) * (rng.random((30, 20)) < 0.5)
    dense[np.arange(30), np.arange(30) % 20] += 1
    dense[np.arange(20) % 30, np.arange(20)] += 1
    return sp.csr_matrix(dense.astype(float))


# ---------------------------------------------------------------- the browser tests
# One chromium for the whole session, shared by the JupyterLab test (test_ui.py) and the
# website test (test_book.py): Playwright's sync API cannot run two drivers at once.
@pytest.fixture(scope="session")
def chromium_path():
    from ui_helpers import find_chromium

    path = find_chromium()
    if path is None:
        reason = "chromium is not installed: `make browser` (apt-get install chromium) installs it"
        if os.environ.get("CI"):
            pytest.fail(reason + " -- and CI is set, so the browser test must run", pytrace=False)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def browser(chromium_path):
    from ui_helpers import CHROMIUM_ARGS

    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extra")
    with sync_api.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
