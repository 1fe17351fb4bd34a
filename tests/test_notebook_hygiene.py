"""Static checks on the committed notebooks: what nbval alone would not catch."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
COURSE = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))
EXPECTED = [
    "01_explicit_vs_implicit", "02_preference_and_confidence", "03_implicit_als_with_numba",
    "04_bpr_and_negative_sampling", "05_choosing_and_blending", "06_quiz", "07_scaling_out_with_spark",
]
KNOWN_MARKERS = {"NBVAL_IGNORE_OUTPUT", "NBVAL_CHECK_OUTPUT", "NBVAL_SKIP", "NBVAL_RAISES_EXCEPTION"}


def test_the_course_has_every_notebook_in_order():
    assert [p.stem for p in COURSE] == EXPECTED


@pytest.mark.parametrize("path", COURSE + EXERCISES, ids=lambda p: p.name)
def test_kernelspec_is_python3(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", COURSE, ids=lambda p: p.name)
def test_committed_executed_in_order_with_outputs(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    counts = [c.execution_count for c in code]
    assert all(n is not None for n in counts), "a code cell was never executed"
    assert counts == sorted(counts), "cells were executed out of order"
    assert sum(bool(c.outputs) for c in code) >= len(code) // 2, "most cells have no output"


@pytest.mark.parametrize("path", COURSE, ids=lambda p: p.name)
def test_nbval_markers_are_spelled_exactly(path):
    """nbval only honours a marker alone on its comment line; anything else is silently ignored."""
    nb = nbformat.read(path, as_version=4)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for line in cell.source.splitlines():
            match = re.match(r"\s*#\s*(NBVAL_\w*)(.*)$", line)
            if match:
                assert match.group(1) in KNOWN_MARKERS, f"cell {index}: unknown marker {match.group(1)}"
                assert not match.group(2).strip(), f"cell {index}: text after {match.group(1)} disables it"


@pytest.mark.parametrize("path", COURSE, ids=lambda p: p.name)
def test_only_timing_cells_are_excluded_from_comparison(path):
    """Timings and progress bars are the only outputs nbval may skip: such cells must say so."""
    nb = nbformat.read(path, as_version=4)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and re.search(r"^\s*#\s*NBVAL_(IGNORE_OUTPUT|SKIP)\s*$", cell.source, re.M):
            assert re.search(r"time|timing|second|progress|clock|speed", cell.source, re.I), (
                f"cell {index} is excluded from comparison but does not time anything"
            )


@pytest.mark.parametrize("path", COURSE, ids=lambda p: p.name)
def test_no_stderr_or_unexpected_errors_committed(path):
    nb = nbformat.read(path, as_version=4)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        allowed = "raises-exception" in cell.metadata.get("tags", [])
        for output in cell.outputs:
            if output.output_type == "error":
                assert allowed, f"cell {index} raised {output.ename} without the raises-exception tag"
            if output.output_type == "stream" and output.name == "stderr":
                pytest.fail(f"cell {index} wrote to stderr: {output.text[:200]!r}")
