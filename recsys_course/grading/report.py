"""Grading results as a terminal table, Gradescope/otter JSON and CSV."""

from __future__ import annotations

import csv
import json
import textwrap
from pathlib import Path

from ..exercises import EXERCISES
from . import SubmissionError, SubmissionResult

__all__ = ["format_result", "format_summary", "spreadsheet_safe", "to_json", "write_csv", "write_feedback",
           "write_gradebook", "write_json"]

OUTPUT_IN_JSON = 2000  # characters of the submission's own output kept in the JSON


def _points(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.2f}".rstrip("0")


def _label(result) -> str:
    """The file name, behind the student's folder name when grading a class folder."""
    name = Path(getattr(result, "path", "?")).name
    student = getattr(result, "student", "")
    return f"{student}/{name}" if student else name


def format_result(result: SubmissionResult | SubmissionError, *, show_output: bool = False, width: int = 100) -> str:
    """A readable block for one submission: score, one line per check, problems spelled out."""
    if isinstance(result, SubmissionError):
        return f"{_label(result)}: not graded -- {result}\n"
    exercise = EXERCISES[result.exercise]
    lines = [f"{_label(result)}  [{exercise.id}: {exercise.title}]  "
             f"score {_points(result.score)} / {_points(result.max_score)}"]
    for check in result.checks:
        mark = "ok  " if check.passed else ("part" if check.score > 0 else "FAIL")
        lines.append(f"  {mark} {_points(check.score):>4}/{_points(check.max_score):<3} {check.name}")
        if not check.passed and not result.verdict:  # a verdict is explained once, in the notes
            lines.extend(textwrap.wrap(check.output, width=width, initial_indent=" " * 14,
                                       subsequent_indent=" " * 14))
    if result.notes:
        lines.append("  notes:")
        for note in result.notes:
            lines.extend(textwrap.wrap(note, width=width, initial_indent="    - ", subsequent_indent="      "))
    if show_output and result.log:
        lines.append(f"  output of the submission ({result.log_bytes:,} bytes; start shown):")
        lines.extend("    | " + line for line in result.log[:1500].splitlines()[:30])
    return "\n".join(lines) + "\n"


def format_summary(results: list[SubmissionResult | SubmissionError]) -> str:
    """One line per submission, for many files at once."""
    rows = []
    for r in results:
        if isinstance(r, SubmissionError):
            rows.append((_label(r), "-", "not graded"))
        else:
            status = f"{_points(r.score)} / {_points(r.max_score)}"
            if r.verdict:
                status += f"  ({r.verdict})"
            rows.append((_label(r), r.exercise, status))
    width = max(len("submission"), *(len(row[0]) for row in rows))
    out = [f"{'submission':<{width}}  exercise  score", f"{'-' * width}  --------  -----"]
    out += [f"{name:<{width}}  {ex:<8}  {status}" for name, ex, status in rows]
    return "\n".join(out) + "\n"


def _json_one(result: SubmissionResult | SubmissionError) -> dict:
    if isinstance(result, SubmissionError):
        return {"submission": str(getattr(result, "path", "")), "score": 0.0, "max_score": 0.0,
                "output": f"not graded: {result}", "tests": []}
    data = result.to_gradescope()
    if result.log:
        data["output"] += ("\n" if data["output"] else "") + (
            f"--- output of the submission ({result.log_bytes} bytes, start shown) ---\n"
            + result.log[:OUTPUT_IN_JSON])
    data["submission"] = result.path
    data["exercise"] = result.exercise
    data["verdict"] = result.verdict or "graded"
    return data


def to_json(results: list[SubmissionResult | SubmissionError]) -> dict:
    """One submission: the Gradescope results.json object. Several: {"submissions": [...]}."""
    if len(results) == 1:
        return _json_one(results[0])
    return {"submissions": [_json_one(r) for r in results]}


def write_json(results, path: str | Path) -> None:
    Path(path).write_text(json.dumps(to_json(results), indent=2) + "\n", encoding="utf-8")


CSV_COLUMNS = ["submission", "exercise", "score", "max_score", "status", "checks", "message"]
GRADEBOOK_COLUMNS = ["student", *CSV_COLUMNS]

# A spreadsheet treats a cell starting with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell):
    """``cell`` as a CSV value that a spreadsheet shows as text: a string starting with ``=``,
    ``+``, ``-``, ``@`` (or a tab / carriage return) gets a leading ``'``. Numbers pass unchanged."""
    if isinstance(cell, str) and cell.startswith(_FORMULA_STARTS):
        return "'" + cell
    return cell


def _csv_row(result) -> list:
    """submission, exercise, score, max_score, status, checks, message for one result."""
    if isinstance(result, SubmissionError):
        return [getattr(result, "path", ""), getattr(result, "exercise", ""), 0, 0, "error", "", str(result)]
    checks = " | ".join(f"{c.name}={_points(c.score)}/{_points(c.max_score)}" for c in result.checks)
    message = result.notes[-1] if result.verdict else ("" if result.score == result.max_score else
                                                      next((c.output for c in result.checks if not c.passed), ""))
    return [result.path, result.exercise, _points(result.score), _points(result.max_score),
            result.verdict or "graded", checks, message]


def _write_rows(path: str | Path, header: list[str], rows) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow([spreadsheet_safe(cell) for cell in row])


def write_csv(results, path: str | Path) -> None:
    """One row per submission: scores, status and the checks as ``name=score/max`` pairs."""
    _write_rows(path, CSV_COLUMNS, (_csv_row(r) for r in results))


def write_gradebook(entries, path: str | Path) -> None:
    """The class gradebook: one row per (student, exercise, result-or-None) entry; ``None`` means
    the student handed in nothing for that exercise (scored 0, status ``missing``)."""
    rows = []
    for student, exercise, result in entries:
        if result is None:
            max_score = _points(sum(c.points for c in _checks_of(exercise)))
            rows.append([student, "", exercise, 0, max_score, "missing", "", "no submission for this exercise"])
        else:
            rows.append([student, *_csv_row(result)])
    _write_rows(path, GRADEBOOK_COLUMNS, rows)


def _checks_of(exercise: str):
    from .checks import CHECKS

    return CHECKS.get(exercise, [])


def write_feedback(student: str, entries, path: str | Path) -> None:
    """One student's feedback: every exercise of the class, its score and what went wrong."""
    lines = [f"Feedback for {student}", "=" * (13 + len(student)), ""]
    total = maximum = 0.0
    for exercise, result in entries:
        if result is None:
            spec = EXERCISES.get(exercise)
            title = f"{exercise}: {spec.title}" if spec else exercise
            points = sum(c.points for c in _checks_of(exercise))
            maximum += points
            lines.append(f"[{title}]  no submission found: 0 / {_points(points)}\n")
            continue
        if not isinstance(result, SubmissionError):
            total += result.score
            maximum += result.max_score
        lines.append(format_result(result))
    lines.append(f"Total: {_points(round(total, 4))} / {_points(maximum)}")
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
