"""Grading results as a terminal table, Gradescope/otter JSON and CSV."""

from __future__ import annotations

import csv
import json
import textwrap
from pathlib import Path

from ..exercises import EXERCISES
from . import SubmissionError, SubmissionResult

__all__ = ["format_result", "format_summary", "to_json", "write_csv", "write_json"]

OUTPUT_IN_JSON = 2000  # characters of the submission's own output kept in the JSON


def _points(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.2f}".rstrip("0")


def format_result(result: SubmissionResult | SubmissionError, *, show_output: bool = False, width: int = 100) -> str:
    """A readable block for one submission: score, one line per check, problems spelled out."""
    if isinstance(result, SubmissionError):
        return f"{Path(getattr(result, 'path', '?')).name}: not graded -- {result}\n"
    exercise = EXERCISES[result.exercise]
    lines = [f"{Path(result.path).name}  [{exercise.id}: {exercise.title}]  "
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
            rows.append((Path(getattr(r, "path", "?")).name, "-", "not graded"))
        else:
            status = f"{_points(r.score)} / {_points(r.max_score)}"
            if r.verdict:
                status += f"  ({r.verdict})"
            rows.append((Path(r.path).name, r.exercise, status))
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


def write_csv(results, path: str | Path) -> None:
    """One row per submission: scores, status and the checks as ``name=score/max`` pairs."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for r in results:
            if isinstance(r, SubmissionError):
                writer.writerow([getattr(r, "path", ""), "", 0, 0, "error", "", str(r)])
                continue
            checks = " | ".join(f"{c.name}={_points(c.score)}/{_points(c.max_score)}" for c in r.checks)
            message = r.notes[-1] if r.verdict else ("" if r.score == r.max_score else
                                                    next((c.output for c in r.checks if not c.passed), ""))
            writer.writerow([r.path, r.exercise, _points(r.score), _points(r.max_score),
                             r.verdict or "graded", checks, message])
