"""A Gradescope autograder for one exercise: ``recsys-course autograder exNN [--out FILE]``.

The zip holds what Gradescope expects at its top level:

* ``setup.sh`` -- run once, as root, when Gradescope builds the image: a virtual environment in
  ``/autograder/venv`` with the course installed from ``course/`` (this package's source, shipped
  in the zip; the hidden checks come with it, so keep the zip among the course staff);
* ``run_autograder`` -- run for every submission: grades the notebook (or ``.py`` file) found in
  ``/autograder/submission`` with the same sandbox as ``recsys-course grade`` and writes
  ``/autograder/results/results.json`` in Gradescope's layout.

Both scripts take the root from ``RECSYS_AUTOGRADER_ROOT`` (default ``/autograder``), and
``run_autograder`` the interpreter from ``RECSYS_AUTOGRADER_PYTHON`` (default the venv made by
``setup.sh``), so the zip can be tried locally against a folder laid out as Gradescope does.
Choose a Gradescope base image whose ``python3`` is 3.11 or newer (Ubuntu 24.04).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import zipfile
from pathlib import Path

__all__ = ["ROOT_VARIABLE", "build_autograder", "find_submission", "main", "run_autograder"]

ROOT_VARIABLE = "RECSYS_AUTOGRADER_ROOT"
PYTHON_VARIABLE = "RECSYS_AUTOGRADER_PYTHON"
DEFAULT_ROOT = "/autograder"
_PACKAGE = Path(__file__).resolve().parent.parent  # recsys_course
_PROJECT_FILES = ("pyproject.toml", "README.md", "LICENSE", "LICENSE.md", "LICENSE.txt")
_SKIP_SUFFIXES = (".pyc", ".nbi", ".nbc")

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image.
set -euo pipefail
ROOT="${RECSYS_AUTOGRADER_ROOT:-/autograder}"
if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-pip >/dev/null
fi
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "the course needs Python 3.11 or newer: choose a newer Gradescope base image (Ubuntu 24.04)" >&2
  exit 1
}
python3 -m venv "$ROOT/venv"
"$ROOT/venv/bin/python" -m pip install -q --upgrade pip
"$ROOT/venv/bin/python" -m pip install -q "$ROOT/source/course"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission; it writes $ROOT/results/results.json.
set -uo pipefail
ROOT="${{RECSYS_AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{RECSYS_AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}}"
mkdir -p "$ROOT/results"
exec "$PYTHON" -m recsys_course.grading.autograder --run {exercise} --root "$ROOT" \\
  --timeout {timeout} --memory {memory}
"""


def _course_files():
    """(path in the zip, file on disk) for the package source and the project metadata."""
    project = _PACKAGE.parent
    for name in _PROJECT_FILES:
        if (project / name).is_file():
            yield f"course/{name}", project / name
    for path in sorted(_PACKAGE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in _SKIP_SUFFIXES:
            yield f"course/recsys_course/{path.relative_to(_PACKAGE).as_posix()}", path


def build_autograder(exercise: str, out: str | Path | None = None, *, timeout: float = 10.0,
                     memory_mb: int = 1024) -> Path:
    """Write the Gradescope autograder zip for ``exercise`` (default ``autograder_exNN.zip``)."""
    from ..exercises import get_exercise

    spec = get_exercise(exercise)
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not 0 < timeout < float("inf"):
        raise ValueError(f"timeout must be a number of seconds > 0, got {timeout!r}")
    if not isinstance(memory_mb, int) or isinstance(memory_mb, bool) or memory_mb < 64:
        raise ValueError(f"memory_mb must be an integer >= 64, got {memory_mb!r}")
    out = Path(out if out is not None else f"autograder_{spec.id}.zip")
    if not (_PACKAGE.parent / "pyproject.toml").is_file():
        raise FileNotFoundError(f"the autograder ships the course's source; {_PACKAGE.parent / 'pyproject.toml'} "
                                "was not found (build the zip from a checkout of the course)")
    scripts = {"setup.sh": SETUP_SH,
               "run_autograder": RUN_AUTOGRADER.format(exercise=spec.id, timeout=f"{timeout:g}", memory=memory_mb)}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in scripts.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = 0o100755 << 16  # an executable regular file
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text)
        for name, path in _course_files():
            archive.write(path, name)
    return out


def find_submission(folder: str | Path, exercise: str) -> tuple[Path | None, list[str]]:
    """The file to grade in Gradescope's submission folder, and notes about the choice."""
    folder = Path(folder)
    if not folder.is_dir():
        return None, [f"the submission folder {folder} does not exist"]
    candidates = sorted(p for p in folder.rglob("*")
                        if p.is_file() and p.suffix in (".ipynb", ".py") and "__MACOSX" not in p.parts
                        and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    if not candidates:
        return None, ["no .ipynb or .py file was found in the submission"]
    preferred = [p for p in candidates if p.name.startswith(exercise)] or candidates
    notebooks = [p for p in preferred if p.suffix == ".ipynb"] or preferred
    chosen = notebooks[0]
    notes = []
    if len(candidates) > 1:
        notes.append(f"several files were handed in; graded {chosen.relative_to(folder)}")
    return chosen, notes


def run_autograder(exercise: str, root: str | Path | None = None, *, timeout: float = 10.0,
                   memory_mb: int = 1024) -> dict:
    """Grade ``<root>/submission`` as ``exercise`` and write ``<root>/results/results.json``."""
    from ..exercises import get_exercise
    from . import SubmissionError, grade_submission
    from .report import OUTPUT_IN_JSON

    exercise = get_exercise(exercise).id  # an unknown exercise is a ValueError naming it
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not 0 < timeout < float("inf"):
        raise ValueError(f"timeout must be a number of seconds > 0, got {timeout!r}")
    if not isinstance(memory_mb, int) or isinstance(memory_mb, bool) or memory_mb < 64:
        raise ValueError(f"memory_mb must be an integer >= 64, got {memory_mb!r}")
    root = Path(root if root is not None else os.environ.get(ROOT_VARIABLE, DEFAULT_ROOT))
    path, notes = find_submission(root / "submission", exercise)
    if path is None:
        data = {"score": 0.0, "output": " ".join(notes), "tests": []}
    else:
        try:
            result = grade_submission(path, exercise, timeout=timeout, memory_mb=memory_mb)
        except SubmissionError as err:
            data = {"score": 0.0, "output": " ".join(notes + [f"not graded: {err}"]), "tests": []}
        else:
            result.notes[:0] = notes
            data = result.to_gradescope()
            if result.log:
                data["output"] += ("\n" if data["output"] else "") + (
                    f"--- output of the submission ({result.log_bytes} bytes, start shown) ---\n"
                    + result.log[:OUTPUT_IN_JSON])
    results = root / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "results.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return data


def main(argv: list[str] | None = None) -> int:
    from ..exercises import EXERCISES
    from .cli import _memory, _positive_float

    parser = argparse.ArgumentParser(prog="recsys-course autograder", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("exercise", nargs="?", choices=list(EXERCISES), help="the exercise to build a zip for")
    parser.add_argument("--out", metavar="FILE", help="where to write the zip (default autograder_exNN.zip)")
    parser.add_argument("--run", metavar="EXERCISE", choices=list(EXERCISES),
                        help="grade the Gradescope submission folder (what run_autograder calls)")
    parser.add_argument("--root", metavar="DIR", help=f"the Gradescope root (default ${ROOT_VARIABLE} or /autograder)")
    parser.add_argument("--timeout", type=_positive_float, default=10.0, metavar="S")
    parser.add_argument("--memory", type=_memory, default=1024, metavar="MB")
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    if args.run:
        data = run_autograder(args.run, args.root, timeout=args.timeout, memory_mb=args.memory)
        print(f"{args.run}: {data['score']:g} points; results.json written")
        return 0
    if not args.exercise:
        parser.print_usage(sys.stderr)
        print("recsys-course autograder: name the exercise, e.g. ex01", file=sys.stderr)
        return 2
    try:
        out = build_autograder(args.exercise, args.out, timeout=args.timeout, memory_mb=args.memory)
    except (OSError, ValueError) as err:
        print(f"cannot write the autograder: {err}", file=sys.stderr)
        return 2
    print(f"wrote {out}: upload it as the Gradescope autograder of {args.exercise} "
          "(base image with Python 3.11 or newer, e.g. Ubuntu 24.04)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
