"""Regenerate the learner notebooks in ``exercises/`` from the reference sources.

    python -m recsys_course.exercises.build            # write exercises/exNN_*.ipynb
    python -m recsys_course.exercises.build --check    # exit 1 if a committed notebook is stale

The notebooks are unexecuted (the stubs raise ``NotImplementedError``) and deterministic:
the same sources always give byte-identical files, which the tests compare.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from . import EXERCISES, Exercise, parse_cells, stub_source

__all__ = ["DEFAULT_OUT", "build_notebook", "main", "notebook_text"]

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "exercises"

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def build_notebook(exercise: Exercise) -> nbformat.NotebookNode:
    """The learner notebook of ``exercise``: prose, stub and self-check cells, no outputs."""
    cells = []
    for number, cell in enumerate(parse_cells(exercise.source_path), start=1):
        cell_id = f"{exercise.id}-{number:02d}"
        if cell.kind == "markdown":
            cells.append(new_markdown_cell(cell.source, id=cell_id))
        elif cell.kind == "solution":
            stub = new_code_cell(stub_source(cell.source), id=cell_id)
            stub.metadata["tags"] = ["exercise"]
            cells.append(stub)
        else:
            cells.append(new_code_cell(cell.source, id=cell_id))
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    notebook.metadata["language_info"] = {"name": "python"}
    return notebook


def notebook_text(exercise: Exercise) -> str:
    """The exact file content written for ``exercise``."""
    return nbformat.writes(build_notebook(exercise)) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recsys_course.exercises.build", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when a notebook is stale")
    args = parser.parse_args(argv)
    stale = []
    for exercise in EXERCISES.values():
        target = args.out / exercise.notebook_name
        text = notebook_text(exercise)
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if args.check:
            if current != text:
                stale.append(target)
            continue
        if current != text:
            args.out.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target}")
        else:
            print(f"up to date {target}")
    if stale:
        for target in stale:
            print(f"stale: {target} (run python -m recsys_course.exercises.build)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
