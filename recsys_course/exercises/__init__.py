"""Graded exercises: reference solutions and the builder of the learner notebooks.

Each exercise has one source file here, ``exNN_<name>.py``, written in the "percent"
cell format (``# %%`` starts a code cell, ``# %% [markdown]`` a prose cell, ``# %% solution``
the cell holding the reference solution between ``### BEGIN SOLUTION`` and
``### END SOLUTION``). :mod:`recsys_course.exercises.build` turns each source into the
learner notebook ``exercises/exNN_<name>.ipynb`` with the solution replaced by a stub.

The grader (:mod:`recsys_course.grading`) takes its reference from the same source through
:func:`reference`, so the notebook, the stub and the grader can never drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

__all__ = [
    "BEGIN_SOLUTION",
    "END_SOLUTION",
    "EXERCISES",
    "STUB_LINES",
    "Cell",
    "Exercise",
    "exercise_for_file",
    "get_exercise",
    "parse_cells",
    "reference",
    "stub_source",
]

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
STUB_LINES = ("# YOUR CODE HERE", "raise NotImplementedError")

_HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Exercise:
    """One graded exercise: its id (``ex01``), source stem and the function it asks for."""

    id: str
    stem: str
    function: str
    title: str

    @property
    def source_path(self) -> Path:
        return _HERE / f"{self.stem}.py"

    @property
    def notebook_name(self) -> str:
        return f"{self.stem}.ipynb"


EXERCISES: dict[str, Exercise] = {
    e.id: e
    for e in [
        Exercise("ex01", "ex01_confidence", "preference_confidence", "preference and confidence"),
        Exercise("ex02", "ex02_als_user_update", "als_user_update", "one implicit-ALS user update"),
        Exercise("ex03", "ex03_negative_sampler", "sample_negatives", "a negative sampler"),
        Exercise("ex04", "ex04_ndcg", "ndcg_at_k", "NDCG@k"),
    ]
}


def get_exercise(exercise: str) -> Exercise:
    """The :class:`Exercise` for an id such as ``"ex01"`` (ValueError for an unknown id)."""
    if not isinstance(exercise, str) or exercise not in EXERCISES:
        known = ", ".join(EXERCISES)
        raise ValueError(f"exercise must be one of {known}, got {exercise!r}")
    return EXERCISES[exercise]


_PREFIX = re.compile(r"^(ex\d\d)(?![0-9])", re.IGNORECASE)


def exercise_for_file(path: str | Path) -> str:
    """The exercise id from a file name's ``exNN`` prefix, e.g. ``ex01_alice.ipynb`` -> ``ex01``."""
    name = Path(path).name
    match = _PREFIX.match(name)
    if match is None or match.group(1).lower() not in EXERCISES:
        known = ", ".join(EXERCISES)
        raise ValueError(
            f"cannot tell the exercise from the file name {name!r}: it must start with one of "
            f"{known} (or pass --exercise exNN)"
        )
    return match.group(1).lower()


@dataclass(frozen=True)
class Cell:
    """One cell of an exercise source: ``kind`` is "markdown", "code" or "solution"."""

    kind: str
    source: str


_MARKER = re.compile(r"^# %%(?:\s+(\[markdown\]|solution))?\s*$")


def parse_cells(path: str | Path) -> list[Cell]:
    """Split a percent-format source into cells (text before the first marker is a header, dropped)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    cells: list[Cell] = []
    kind: str | None = None
    body: list[str] = []

    def flush() -> None:
        if kind is None:
            return
        while body and not body[-1].strip():
            body.pop()
        while body and not body[0].strip():
            body.pop(0)
        if kind == "markdown":
            text = []
            for line in body:
                if line.startswith("# "):
                    text.append(line[2:])
                elif line.strip() == "#":
                    text.append("")
                else:
                    raise ValueError(f"{path}: markdown cell line is not a comment: {line!r}")
            cells.append(Cell("markdown", "\n".join(text)))
        else:
            cells.append(Cell(kind, "\n".join(body)))

    for line in lines:
        match = _MARKER.match(line)
        if match:
            flush()
            tag = match.group(1)
            kind = "markdown" if tag == "[markdown]" else ("solution" if tag == "solution" else "code")
            body = []
        elif kind is not None:
            body.append(line)
    flush()
    if not any(c.kind == "solution" for c in cells):
        raise ValueError(f"{path}: no '# %% solution' cell")
    return cells


def stub_source(source: str) -> str:
    """Replace every BEGIN/END SOLUTION block by the stub, keeping the block's indentation."""
    out: list[str] = []
    inside = False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == BEGIN_SOLUTION:
            if inside:
                raise ValueError("nested BEGIN SOLUTION marker")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + stub for stub in STUB_LINES)
        elif stripped == END_SOLUTION:
            if not inside:
                raise ValueError("END SOLUTION marker without BEGIN")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError("BEGIN SOLUTION marker without END")
    return "\n".join(out)


def reference(exercise: str) -> Callable:
    """The reference solution of ``exercise`` (the setup and solution cells, run in a fresh namespace)."""
    ex = get_exercise(exercise)
    namespace: dict = {"__name__": f"recsys_course.exercises.reference_{ex.id}"}
    for cell in parse_cells(ex.source_path):
        if cell.kind == "solution":
            code = compile(cell.source, str(ex.source_path), "exec")
            exec(code, namespace)  # noqa: S102 - our own, packaged source
            break
        if cell.kind == "code":  # the imports before the solution
            exec(compile(cell.source, str(ex.source_path), "exec"), namespace)  # noqa: S102
    return namespace[ex.function]
