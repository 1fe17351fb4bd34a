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
    "08_reproducing_published_results",
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
# Each check is a function that lists the problems of one notebook, so it can be tried on made-up
# notebooks below: a check that cannot fail would pass the course for nothing.

ALL_NOTEBOOKS = COURSE + EXERCISES
# Paths of the machine that executed a notebook: home folders, temporary and work folders, Windows
# drives and installed-package folders.
MACHINE_PATH = re.compile(
    r"/root/|/home/|/tmp/|/work/|/Users/|/private/var/|[A-Za-z]:\\\\|[A-Za-z]:\\(?=[A-Za-z])|site-packages|dist-packages"
)
WIDGET_REPR = re.compile(r"\b(?:VBox|HBox|Box|GridBox|Tab|Accordion|Stack)\(children=")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
SECTION_MARK = re.compile(r"^\*(?:Core|Going deeper \(optional\))\.\*")
CHECKPOINT = "**Predict, then run.**"
CHECKPOINT_NOTEBOOKS = [p for p in COURSE if p.stem[:2] in {"01", "02", "03", "04"}]
_ids = {"ids": lambda p: f"{p.parent.name}/{p.name}"}


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


def _outputs(nb):
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            for output in cell.get("outputs", []):
                yield index, output


def machine_paths(nb) -> list[str]:
    found = []
    for index, output in _outputs(nb):
        text = _output_text(output)
        for match in MACHINE_PATH.finditer(text):
            found.append(f"  cell {index}: {text[max(0, match.start() - 60):match.end() + 60]!r}")
    return found


def tracebacks(nb) -> list[str]:
    return [
        f"  cell {index}: {output.get('ename') or 'text with a traceback'}"
        for index, output in _outputs(nb)
        if output.get("output_type") == "error" or "Traceback (most recent call last)" in _output_text(output)
    ]


def widgets_without_picture(nb) -> list[str]:
    found = []
    for index, output in _outputs(nb):
        data = output.get("data", {})
        if WIDGET_MIME in data and "image/png" not in data:
            found.append(f"  cell {index}: a widget output without image/png")
        plain = data.get("text/plain", "")
        plain = plain if isinstance(plain, str) else "".join(plain)
        if WIDGET_REPR.search(plain):
            found.append(f"  cell {index}: text/plain shows {plain[:60]!r}")
    return found


def details_without_summary(nb) -> list[str]:
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
    return found


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, **_ids)
def test_no_output_shows_a_path_of_the_machine(path):
    found = machine_paths(nbformat.read(path, as_version=4))
    assert not found, f"{path.parent.name}/{path.name}: outputs show paths of this machine:\n" + "\n".join(found)


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, **_ids)
def test_no_output_is_a_traceback(path):
    """Show a caught error's message (``except ValueError as e: print(e)``), never a traceback."""
    found = tracebacks(nbformat.read(path, as_version=4))
    assert not found, f"{path.parent.name}/{path.name}: committed tracebacks:\n" + "\n".join(found)


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, **_ids)
def test_every_widget_output_carries_a_picture(path):
    """A static viewer cannot run a widget: each one needs a PNG of its default state in the same
    bundle (``recsys_course.widgets.with_picture``), and no text view may show ``VBox(children=...``."""
    found = widgets_without_picture(nbformat.read(path, as_version=4))
    assert not found, f"{path.parent.name}/{path.name}:\n" + "\n".join(found)


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, **_ids)
def test_every_details_block_has_a_summary(path):
    """``<details>`` without ``<summary>`` shows a bare "Details" toggle, or nothing, in some viewers."""
    found = details_without_summary(nbformat.read(path, as_version=4))
    assert not found, f"{path.parent.name}/{path.name}:\n" + "\n".join(found)


# --- the learning path: core and going-deeper sections, "predict, then run" checkpoints -------------


def sections(nb):
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
                if nxt is not None and nxt.cell_type == "markdown":
                    following = [rest for rest in nxt.source.splitlines() if rest.strip()]
            yield index, line.strip(), following[0].strip() if following else ""


def unmarked_sections(nb) -> list[str]:
    found = list(sections(nb))
    if not found:
        return ["  no ## sections at all"]
    return [f"  cell {index}: {heading!r} is followed by {first[:60]!r}"
            for index, heading, first in found if not SECTION_MARK.match(first)]


def checkpoint_problems(nb) -> list[str]:
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
    return problems


@pytest.mark.parametrize("path", COURSE, ids=lambda p: p.name)
def test_every_section_is_marked_core_or_going_deeper(path):
    """The README's core path is built from these marks: ``*Core.*`` or ``*Going deeper (optional).*``
    on the first line under every ``##`` heading (Summary included)."""
    found = unmarked_sections(nbformat.read(path, as_version=4))
    assert not found, (
        f"{path.name}: sections without '*Core.*' or '*Going deeper (optional).*' right under the heading:\n"
        + "\n".join(found)
    )


@pytest.mark.parametrize("path", CHECKPOINT_NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_01_to_04_have_predict_then_run_checkpoints(path):
    """2-3 checkpoints: a markdown cell "**Predict, then run.** <question>", then the code cell that
    answers it, then (in the next markdown cell) the answer in ``<details><summary>...</summary>``."""
    found = checkpoint_problems(nbformat.read(path, as_version=4))
    assert not found, f"{path.name}:\n" + "\n".join(found)


# --- the checks themselves, on made-up notebooks: each must be able to fail ----------------------


def _nb(*cells):
    """Cells given as ("md", text) or ("code", source, [outputs])."""
    nb = nbformat.v4.new_notebook()
    for cell in cells:
        if cell[0] == "md":
            nb.cells.append(nbformat.v4.new_markdown_cell(cell[1]))
        else:
            code = nbformat.v4.new_code_cell(cell[1])
            code.outputs = list(cell[2]) if len(cell) > 2 else []
            nb.cells.append(code)
    return nb


def _stream(text):
    return nbformat.v4.new_output("stream", name="stdout", text=text)


def _display(data):
    return nbformat.v4.new_output("display_data", data=data)


@pytest.mark.parametrize("text", [
    "saved to /root/.cache/recsys-course/x.csv", "File /work/main/recsys_course/feedback.py:89",
    "/home/ana/x", "/tmp/tmpab12/model.npz", "/Users/bo/x", "C:\\Users\\bo\\x",
    ".venv/lib/python3.11/site-packages/numba/core.py",
])
def test_machine_paths_are_found(text):
    assert machine_paths(_nb(("code", "x", [_stream(text)])))
    assert not machine_paths(_nb(("code", "x", [_stream("wrote notebooks/03.ipynb and 1/2 of docs/img")])))


def test_tracebacks_are_found_caught_messages_pass():
    error = nbformat.v4.new_output("error", ename="ValueError", evalue="alpha must be >= 0", traceback=["..."])
    assert tracebacks(_nb(("code", "x", [error])))
    assert tracebacks(_nb(("code", "x", [_stream("Traceback (most recent call last):\n  ...")])))
    assert not tracebacks(_nb(("code", "x", [_stream("ValueError: alpha must be >= 0, got -1")])))


def test_widgets_need_a_picture():
    view = {WIDGET_MIME: {"model_id": "abc", "version_major": 2, "version_minor": 0}}
    assert widgets_without_picture(_nb(("code", "x", [_display({**view, "text/plain": "VBox(children=(FloatSlider(),))"})])))
    assert widgets_without_picture(_nb(("code", "x", [_display({**view, "text/plain": "[interactive]"})])))
    assert widgets_without_picture(_nb(("code", "x", [_display({"text/plain": "HBox(children=(Button(),))"})])))
    assert not widgets_without_picture(
        _nb(("code", "x", [_display({**view, "image/png": "iVBORw0KGgo=", "text/plain": "[interactive VBox]"})]))
    )


@pytest.mark.parametrize("markdown, bad", [
    ("<details><summary>Answer</summary>It is 481.</details>", False),
    ("<details>\n<summary>Answer</summary>\n\nIt is 481.\n</details>", False),
    ("<details>It is 481.</details>", True),
    ("<details><summary></summary>It is 481.</details>", True),
    ("<details><summary>Answer</summary>It is 481.", True),
])
def test_details_need_a_summary(markdown, bad):
    assert bool(details_without_summary(_nb(("md", markdown)))) is bad


def test_sections_need_a_mark_right_under_the_heading():
    good = _nb(("md", "# 01 · Title\n\n## 1. First\n\n*Core.* Text."), ("md", "## 2. Second"),
               ("md", "*Going deeper (optional).*\n\nMore."), ("md", "## Summary\n*Core.*\n- a"))
    assert unmarked_sections(good) == []
    assert unmarked_sections(_nb(("md", "## 1. First\n\nText, then *Core.*")))
    assert unmarked_sections(_nb(("md", "## 1. First\n*Optional.*")))
    assert unmarked_sections(_nb(("md", "## 1. First\n*Core.*\n## 2. Second\nText.")))
    assert unmarked_sections(_nb(("md", "# Title only")))


def _checkpoint(question="**Predict, then run.** Will the confidence of 12 plays be above 400?",
                answer="<details><summary>Answer</summary>\n\nYes: 481.\n</details>"):
    return [("md", question), ("code", "print(1 + 40 * 12)", [_stream("481\n")]), ("md", answer)]


def test_checkpoints_two_or_three_each_with_an_answer_after_the_code():
    assert checkpoint_problems(_nb(*_checkpoint(), *_checkpoint())) == []
    assert checkpoint_problems(_nb(*_checkpoint()))  # one is too few
    assert checkpoint_problems(_nb(*(_checkpoint() * 4)))  # four are too many
    assert checkpoint_problems(_nb(*_checkpoint(), *_checkpoint(answer="Yes: 481.")))  # not collapsed
    assert checkpoint_problems(_nb(*_checkpoint(), *_checkpoint(question="**Predict, then run.**")))
    spoiled = "**Predict, then run.** Above 400? <details><summary>Answer</summary>481</details>"
    assert checkpoint_problems(_nb(*_checkpoint(), *_checkpoint(question=spoiled)))
    no_code = [("md", "**Predict, then run.** Will it be above 400?"), ("md", "<details><summary>A</summary>x</details>")]
    assert checkpoint_problems(_nb(*_checkpoint(), *no_code))
