"""Grading one submission, or several: :func:`grade_submission` and :func:`grade_paths`.

The result types (:class:`SubmissionResult`, :class:`CheckResult`), reading a submission's code
cells (:func:`read_cells`) and the static check for the course package live here too; the
package :mod:`recsys_course.grading` re-exports the public names.
"""

from __future__ import annotations

import io
import json
import secrets
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..exercises import exercise_for_file, get_exercise

__all__ = [
    "CheckResult",
    "SubmissionError",
    "SubmissionResult",
    "grade_paths",
    "grade_submission",
    "read_cells",
]

DEFAULT_TIMEOUT = 10.0
DEFAULT_MEMORY_MB = 1024


class SubmissionError(ValueError):
    """The file cannot be graded at all (unreadable, not a notebook, unknown exercise)."""


@dataclass
class CheckResult:
    name: str
    score: float
    max_score: float
    output: str
    visibility: str = "visible"

    @property
    def passed(self) -> bool:
        return self.score >= self.max_score - 1e-9


@dataclass
class SubmissionResult:
    path: str
    exercise: str
    checks: list[CheckResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    verdict: str = ""  # "forged", "course-code" or "" when graded normally
    log: str = ""
    log_bytes: int = 0
    student: str = ""  # the student's folder name, when a class folder is graded

    @property
    def score(self) -> float:
        return round(sum(c.score for c in self.checks), 4)

    @property
    def max_score(self) -> float:
        return round(sum(c.max_score for c in self.checks), 4)

    def to_gradescope(self) -> dict[str, Any]:
        """The Gradescope / otter ``results.json`` layout."""
        output = "\n".join(self.notes)
        return {
            "score": self.score,
            "max_score": self.max_score,
            "output": output,
            "tests": [
                {"name": c.name, "score": round(c.score, 4), "max_score": c.max_score,
                 "output": c.output, "visibility": c.visibility}
                for c in self.checks
            ],
        }


# ----------------------------------------------------------------- reading submissions
def _strip_magics(source: str) -> tuple[str, bool]:
    """Drop IPython-only lines (``%magic``, ``!shell``, ``%%cell``); True when any was dropped."""
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        return "", True
    kept, dropped = [], False
    for line in lines:
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            indent = line[: len(line) - len(stripped)]
            kept.append(indent + "pass  # IPython-only line dropped by the grader")
            dropped = True
        else:
            kept.append(line)
    return "\n".join(kept), dropped


def read_cells(path: str | Path) -> tuple[list[str], list[str]]:
    """The code cells of a submission and notes about what was changed.

    A ``.py`` file is one cell; a notebook gives its code cells in order.
    """
    path = Path(path)
    if not path.is_file():
        raise SubmissionError(f"submission {str(path)!r} does not exist or is not a file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise SubmissionError(f"cannot read {path.name}: {err}") from None
    notes = []
    if path.suffix == ".py":
        cells = [text]
    elif path.suffix == ".ipynb":
        try:
            notebook = json.loads(text)
            raw_cells = notebook["cells"]
            cells = []
            for cell in raw_cells:
                if cell.get("cell_type") != "code":
                    continue
                source = cell.get("source", "")
                cells.append("".join(source) if isinstance(source, list) else str(source))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise SubmissionError(f"{path.name} is not a readable Jupyter notebook") from None
    else:
        raise SubmissionError(f"{path.name}: submissions must be .ipynb or .py files")
    cleaned = []
    for cell in cells:
        source, dropped = _strip_magics(cell)
        if dropped:
            notes.append("IPython magics / shell lines were ignored")
        cleaned.append(source)
    return cleaned, sorted(set(notes))


def _mentions_course(cells: list[str]) -> bool:
    """True when code (not comments) names the course package: an import of the answer."""
    for cell in cells:
        try:
            tokens = list(tokenize.generate_tokens(io.StringIO(cell).readline))
        except (tokenize.TokenError, SyntaxError, IndentationError):
            if "recsys_course" in cell:
                return True
            continue
        for token in tokens:
            if token.type in (tokenize.NAME, tokenize.STRING) and "recsys_course" in token.string:
                return True
    return False


# ----------------------------------------------------------------- grading
def grade_submission(
    path: str | Path,
    exercise: str | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    memory_mb: int = DEFAULT_MEMORY_MB,
    seed: int | None = None,
    denied_reads: list[str] | None = None,
) -> SubmissionResult:
    """Grade one submission; never raises for anything the submission does.

    ``timeout`` is the wall-clock limit, in seconds, for loading the submission and for each
    call of the learner's function; ``memory_mb`` the extra address space the sandbox may use.
    ``seed`` fixes the random inputs (default: fresh ones every run).
    """
    from .checks import plans_for
    from .sandbox import run_in_sandbox

    import os

    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or pathlib.Path naming one .ipynb or .py file, got {path!r}")
    if Path(path).is_dir():
        raise SubmissionError(f"path {str(path)!r} is a folder: grade_submission grades one file "
                              "(grade_paths, or `recsys-course grade FOLDER`, grades every file in a folder)")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise TypeError(f"seed must be None or an integer >= 0, got {seed!r}")
    if exercise is None:
        try:
            exercise = exercise_for_file(path)
        except ValueError as err:
            raise SubmissionError(str(err)) from None
    try:
        spec = get_exercise(exercise)
    except ValueError as err:
        raise SubmissionError(str(err)) from None
    if not isinstance(timeout, (int, float)) or not np.isfinite(timeout) or timeout <= 0:
        raise ValueError(f"timeout must be a number of seconds > 0, got {timeout!r}")
    if not isinstance(memory_mb, int) or memory_mb < 64:
        raise ValueError(f"memory_mb must be an integer >= 64, got {memory_mb!r}")
    cells, notes = read_cells(path)
    result = SubmissionResult(path=str(path), exercise=spec.id, notes=list(notes))

    rng = np.random.default_rng(secrets.randbits(64) if seed is None else seed)
    built = plans_for(spec.id, rng)
    calls = [c for b in built for c in b.plan.calls]

    if _mentions_course(cells):
        result.verdict = "course-code"
        message = ("the submission uses the course package recsys_course; graded work must be your own "
                   "implementation, so every check scores 0")
        result.notes.append(message)
        result.checks = [CheckResult(b.check.name, 0.0, float(b.check.points), message) for b in built]
        return result

    denied = [str(Path(p).resolve()) for p in (denied_reads or [])] + [str(Path(path).resolve())]
    run = run_in_sandbox(cells, spec.function, calls, timeout=timeout, memory_mb=memory_mb, denied_reads=denied)
    result.log, result.log_bytes = run.log, run.log_bytes
    for note in run.load_notes:
        cell, kind, text = note.get("cell"), note.get("error_type"), str(note.get("message", ""))[:200]
        result.notes.append(f"cell {cell} raised {kind}: {text}" if text else f"cell {cell} raised {kind}")
        if kind in ("ModuleNotFoundError", "ImportError"):
            result.notes.append("the grader's sandbox offers numpy, scipy and the common standard-library "
                                "modules; other packages are not available to graded work")
    if run.log_bytes > len(run.log.encode("utf-8", errors="replace")):
        result.notes.append(f"the submission printed {run.log_bytes:,} bytes; the report keeps the start")
    for kind, text in run.violations:
        result.notes.append(f"blocked by the sandbox: {text}")
    if run.crashed_runner:
        result.notes.append(run.crashed_runner)

    if run.forged:
        result.verdict = "forged"
        message = (f"forged results: the submission wrote on the grader's result channel itself ({run.forged}); "
                   "every check scores 0")
        result.notes.append(message)
        result.checks = [CheckResult(b.check.name, 0.0, float(b.check.points), message) for b in built]
        return result
    if any(kind == "course-code" for kind, _ in run.violations):
        result.verdict = "course-code"
        message = ("the submission tried to use the course's own implementation (recsys_course); "
                   "every check scores 0")
        result.notes.append(message)
        result.checks = [CheckResult(b.check.name, 0.0, float(b.check.points), message) for b in built]
        return result

    for b in built:
        outcomes = run.calls[b.first_call: b.first_call + b.n_calls]
        try:
            fraction, message = b.plan.judge(outcomes)
            fraction = float(min(1.0, max(0.0, fraction)))
        except Exception as err:  # noqa: BLE001 - a judge bug must not sink the whole run
            fraction, message = 0.0, f"the grader could not judge this check ({type(err).__name__}: {err})"
        points = float(b.check.points)
        result.checks.append(CheckResult(b.check.name, round(points * fraction, 4), points, message))
    return result


def grade_paths(
    paths: list[str | Path],
    exercise: str | None = None,
    **options: Any,
) -> list[SubmissionResult | SubmissionError]:
    """Grade several submissions, one sandbox each; unreadable ones come back as errors."""
    results: list[SubmissionResult | SubmissionError] = []
    every = [str(Path(p).resolve()) for p in paths] + list(options.pop("denied_reads", None) or [])
    for path in paths:
        try:
            results.append(grade_submission(path, exercise, denied_reads=every, **options))
        except SubmissionError as err:
            err.path = str(path)  # type: ignore[attr-defined]
            results.append(err)
    return results

