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


# --- static viewers (GitHub, nbviewer, the course site): what a reader sees without a kernel ---------

ALL_NOTEBOOKS = COURSE + EXERCISES
# Paths of the machine that executed a notebook: home folders, temporary and work folders, Windows
# drives and installed-package folders.
MACHINE_PATH = re.compile(
    r"/root/|/home/|/tmp/|/work/|/Users/|/private/var/|[A-Za-z]:\\\\|[A-Za-z]:\\(?=[A-Za-z])|site-packages|dist-packages"
)
WIDGET_REPR = re.compile(r"\b(?:VBox|HBox|Box|GridBox|Tab|Accordion|Stack)\(children=")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def _output_text(output) -> str:
    """Every piece of text an output shows: streams, text bundles, error tracebacks."""
    parts = []
    if output.get("output_type") == "stream":
        parts.append(output.get("text", ""))
    if output.get("output_type") == "error":
        parts += [output.get("ename", ""), output.get("evalue", ""), *output.get("traceback", [])]
    for mime, value in output.get("data", {}).items():
        if mime.startswith("text/") or mime.endswith("json"):
            parts.append(value if isinstance(value, str) else str(value))
    return "\n".join(parts)


def _outputs(path):
    nb = nbformat.read(path, as_version=4)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            for output in cell.get("outputs", []):
                yield index, output


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_output_shows_a_path_of_the_machine(path):
    found = []
    for index, output in _outputs(path):
        for match in MACHINE_PATH.finditer(_output_text(output)):
            text = _output_text(output)
            found.append(f"  cell {index}: {text[max(0, match.start() - 60):match.end() + 60]!r}")
    assert not found, f"{path.parent.name}/{path.name}: outputs show paths of this machine:\n" + "\n".join(found)


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_output_is_a_traceback(path):
    """Show a caught error's message (``except ValueError as e: print(e)``), never a traceback."""
    found = [
        f"  cell {index}: {output.get('ename') or 'text with a traceback'}"
        for index, output in _outputs(path)
        if output.get("output_type") == "error" or "Traceback (most recent call last)" in _output_text(output)
    ]
    assert not found, f"{path.parent.name}/{path.name}: committed tracebacks:\n" + "\n".join(found)


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_widget_output_carries_a_picture(path):
    """A static viewer cannot run a widget: each one needs a PNG of its default state in the same
    bundle (``recsys_course.widgets.with_picture``), and no text view may show ``VBox(children=...``."""
    found = []
    for index, output in _outputs(path):
        data = output.get("data", {})
        if WIDGET_MIME in data and "image/png" not in data:
            found.append(f"  cell {index}: a widget output without image/png")
        plain = data.get("text/plain", "")
        plain = plain if isinstance(plain, str) else "".join(plain)
        if WIDGET_REPR.search(plain):
            found.append(f"  cell {index}: text/plain shows {plain[:60]!r}")
    assert not found, f"{path.parent.name}/{path.name}:\n" + "\n".join(found)


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_details_block_has_a_summary(path):
    """``<details>`` without ``<summary>`` shows a bare "Details" toggle, or nothing, in some viewers."""
    nb = nbformat.read(path, as_version=4)
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        opened = re.findall(r"<details\b", cell.source, re.I)
        closed = re.findall(r"</details\s*>", cell.source, re.I)
        if len(opened) != len(closed):
            found.append(f"  cell {index}: {len(opened)} <details> but {len(closed)} </details>")
        for block in re.findall(r"<details\b[^>]*>(.*?)</details\s*>", cell.source, re.I | re.S):
            if not re.match(r"\s*<summary\b[^>]*>.*?\S.*?</summary\s*>", block, re.I | re.S):
                found.append(f"  cell {index}: <details> does not open with a non-empty <summary>: {block.strip()[:80]!r}")
    assert not found, f"{path.parent.name}/{path.name}:\n" + "\n".join(found)


# --- the learning path: core and going-deeper sections, "predict, then run" checkpoints -------------

SECTION_MARK = re.compile(r"^\*(?:Core|Going deeper \(optional\))\.\*")
CHECKPOINT = "**Predict, then run.**"
CHECKPOINT_NOTEBOOKS = [p for p in COURSE if p.stem[:2] in {"01", "02", "03", "04"}]


def _sections(nb):
    """(cell index, heading, first non-empty line under it) for every ``## `` heading."""
    cells = nb.cells
    for index, cell in enumerate(cells):
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.splitlines()
        for at, line in enumerate(lines):
            if not re.match(r"##\s", line):
                continue
            following = [rest for rest in lines[at + 1:] if rest.strip()]
            if not following:  # the heading ends its cell: look at the next markdown cell
                nxt = next((c for c in cells[index + 1:] if c.source.strip()), None)
                following = [rest for rest in nxt.source.splitlines() if rest.strip()] if nxt is not None and nxt.cell_type == "markdown" else []
            yield index, line.strip(), following[0].strip() if following else ""


@pytest.mark.parametrize("path", COURSE, ids=lambda p: p.name)
def test_every_section_is_marked_core_or_going_deeper(path):
    """The README's core path is built from these marks: ``*Core.*`` or ``*Going deeper (optional).*``
    on the first line under every ``##`` heading."""
    nb = nbformat.read(path, as_version=4)
    sections = list(_sections(nb))
    assert sections, f"{path.name} has no ## sections"
    unmarked = [f"  cell {index}: {heading!r} is followed by {first[:60]!r}"
                for index, heading, first in sections if not SECTION_MARK.match(first)]
    assert not unmarked, (
        f"{path.name}: sections without '*Core.*' or '*Going deeper (optional).*' right under the heading:\n"
        + "\n".join(unmarked)
    )
    assert any(first.startswith("*Core.*") for _, _, first in sections), f"{path.name} has no core section"


@pytest.mark.parametrize("path", CHECKPOINT_NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_01_to_04_have_predict_then_run_checkpoints(path):
    """2-3 checkpoints: a markdown cell "**Predict, then run.** <question>", then the code cell that
    answers it, then (in the next markdown cell) the answer in ``<details><summary>...</summary>``."""
    nb = nbformat.read(path, as_version=4)
    cells = nb.cells
    starts = [i for i, c in enumerate(cells) if c.cell_type == "markdown" and CHECKPOINT in c.source]
    problems = []
    if not 2 <= len(starts) <= 3:
        problems.append(f"  {len(starts)} checkpoints (cells {starts}); want 2 or 3")
    for i in starts:
        question = cells[i].source.split(CHECKPOINT, 1)[1]
        if len(question.split()) < 4:
            problems.append(f"  cell {i}: the checkpoint asks no question after {CHECKPOINT!r}")
        if re.search(r"<details\b", question, re.I):
            problems.append(f"  cell {i}: the answer sits before the code runs")
        j = i + 1
        while j < len(cells) and not cells[j].source.strip():
            j += 1
        if j >= len(cells) or cells[j].cell_type != "code":
            problems.append(f"  cell {i}: the next cell is not the code cell to run")
            continue
        while j < len(cells) and cells[j].cell_type == "code":
            j += 1
        answer = cells[j].source if j < len(cells) else ""
        if not re.search(r"<details\b[^>]*>\s*<summary\b[^>]*>.*?</summary\s*>.*?\S.*?</details\s*>", answer, re.I | re.S):
            problems.append(f"  cell {i}: the markdown cell after its code (cell {j}) holds no <details><summary> answer")
    assert not problems, f"{path.name}:\n" + "\n".join(problems)
