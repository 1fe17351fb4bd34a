"""The README's course map agrees with the notebooks: every notebook is on it, the core path fits in
90 minutes, the sections it calls core are exactly those the notebooks mark ``*Core.*``, and its
minutes follow the stated estimate (words / 150 + one minute per code cell, within 5 minutes)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CORE_LIMIT_MINUTES = 90
WORDS_PER_MINUTE = 150
MINUTES_PER_CODE_CELL = 1.0
TOLERANCE_MINUTES = 5


def sections(path: Path) -> list[dict]:
    """The notebook cut at its ``## `` headings: title, number (or None), mark, words, code cells.
    The part before the first ``## `` is the introduction (on the core path when anything is); a
    ``### `` subsection with a mark of its own is a part too (``sub``), e.g. a going-deeper 4.3
    inside a core section 4."""
    nb = nbformat.read(path, as_version=4)
    parts = [{"title": "introduction", "number": None, "mark": "core", "words": 0, "code": 0, "sub": False}]
    for cell in nb.cells:
        if cell.cell_type == "code":
            parts[-1]["code"] += bool(cell.source.strip())
            continue
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.splitlines()
        for at, line in enumerate(lines):
            heading = re.match(r"(##|###)\s+(?:(\d+)\.\s+)?(.*)$", line)
            if heading:
                first = next((rest.strip() for rest in lines[at + 1:] if rest.strip()), None)
                if first is None:  # the mark opens the next cell
                    later = nb.cells[nb.cells.index(cell) + 1:]
                    nxt = next((c for c in later if c.source.strip()), None)
                    first = nxt.source.strip().splitlines()[0] if nxt is not None and nxt.cell_type == "markdown" else ""
                mark = "core" if first.startswith("*Core.*") else "deeper" if first.startswith("*Going deeper") else "unmarked"
                if heading.group(1) == "##":
                    number = int(heading.group(2)) if heading.group(2) else None
                    parts.append({"title": heading.group(3).strip(), "number": number, "mark": mark,
                                  "words": 0, "code": 0, "sub": False})
                    continue
                if mark != "unmarked":  # a marked ### subsection is a part of its own
                    parts.append({"title": (heading.group(2) + ". " if heading.group(2) else "") + heading.group(3).strip(),
                                  "number": None, "mark": mark, "words": 0, "code": 0, "sub": True})
                    continue
            parts[-1]["words"] += len(line.split())
    return parts


def minutes(parts: list[dict]) -> float:
    return sum(p["words"] / WORDS_PER_MINUTE + p["code"] * MINUTES_PER_CODE_CELL for p in parts)


def core_parts(path: Path) -> list[dict]:
    parts = sections(path)
    if not any(p["mark"] == "core" and not p["sub"] for p in parts[1:]):
        return []  # a notebook with no core section is off the core path, introduction included
    return [p for p in parts if p["mark"] == "core"]


def _readme() -> str:
    return README.read_text(encoding="utf-8")


def _table_after(heading: str) -> list[list[str]]:
    """The rows (cells stripped) of the first markdown table after ``heading``, header excluded."""
    text = _readme()
    start = text.find(heading)
    assert start >= 0, f"the README has no {heading!r}"
    rows = []
    for line in text[start + len(heading):].splitlines()[1:]:
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if not all(re.fullmatch(r":?-+:?", cell) for cell in cells):
                rows.append(cells)
        elif rows:
            break
    return rows[1:]


def _section_numbers(spec: str) -> set[int]:
    """'1-3, 5, summary' -> {1, 2, 3, 5}."""
    numbers: set[int] = set()
    for low, high in re.findall(r"(\d+)(?:\s*[-–]\s*(\d+))?", spec):
        numbers.update(range(int(low), int(high or low) + 1))
    return numbers


def _rows(heading: str) -> dict[str, list[str]]:
    rows = {}
    for cells in _table_after(heading):
        link = re.search(r"\]\(notebooks/([^)]+\.ipynb)\)", " ".join(cells))
        if link:
            rows[link.group(1)] = cells
    return rows


def _minutes_cell(cell: str) -> int:
    match = re.fullmatch(r"\**(\d+)\**", cell)
    assert match, f"not a number of minutes: {cell!r}"
    return int(match.group(1))


def test_every_notebook_is_on_the_full_path():
    rows = _rows("### Full path")
    missing = [p.name for p in NOTEBOOKS if p.name not in rows]
    assert not missing, f"the README's full-path table does not list {missing}"


def test_the_readme_links_the_reference_list():
    assert "](docs/references.md)" in _readme()
    assert (ROOT / "docs" / "references.md").is_file()


def test_the_core_path_fits_in_90_minutes_and_states_its_total():
    rows = _rows("### Core path")
    assert rows, "the README's '### Core path' table has no notebook rows"
    total = sum(_minutes_cell(cells[-1]) for cells in rows.values())
    assert total <= CORE_LIMIT_MINUTES, f"the core path adds up to {total} minutes"
    stated = re.search(r"### Core path\D*(\d+) minutes", _readme())
    assert stated and int(stated.group(1)) == total, f"the core path's heading should state its total, {total} minutes"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_core_sections_on_the_map_are_the_ones_the_notebook_marks_core(path):
    row = _rows("### Core path").get(path.name)
    listed = _section_numbers(row[-2]) if row else set()
    marked = {p["number"] for p in core_parts(path) if p["number"] is not None}
    assert listed == marked, (
        f"{path.name}: the README's core path lists sections {sorted(listed)}, the notebook marks "
        f"{sorted(marked)} as *Core.*; update the map (or the marks)"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_minutes_on_the_map_follow_the_estimate(path):
    core_row = _rows("### Core path").get(path.name)
    if core_row:
        estimate = minutes(core_parts(path))
        assert abs(_minutes_cell(core_row[-1]) - estimate) <= TOLERANCE_MINUTES, (
            f"{path.name}: core minutes {core_row[-1]} on the map, {estimate:.0f} by the estimate"
        )
    full_row = _rows("### Full path")[path.name]
    estimate = minutes(sections(path))
    assert abs(_minutes_cell(full_row[-1]) - estimate) <= TOLERANCE_MINUTES, (
        f"{path.name}: full minutes {full_row[-1]} on the map, {estimate:.0f} by the estimate"
    )
