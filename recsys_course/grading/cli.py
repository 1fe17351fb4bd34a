"""``recsys-course grade PATH... [--exercise exNN] [--json FILE] [--csv FILE] [--out DIR] [--timeout S]``.

Grades each submission (.ipynb or .py; a folder means every such file in it) in its own
sandboxed process and prints a table. The exercise comes from the ``exNN`` prefix of each
file name unless ``--exercise`` says otherwise.

A class folder, ``submissions/<student>/exNN_*.ipynb``, is graded in one go: the student is the
name of the sub-folder, and ``--out DIR`` (default ``grades``) receives ``gradebook.csv`` (one
row per student and exercise; an exercise a student did not hand in is a ``missing`` row scoring
0; when a student has several files for one exercise, the last in name order is graded) and
``feedback/<student>.txt``, a report the student can read.

Exit status: 0 when grading ran (whatever the scores), 2 for a usage error or when no file could
be graded.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..exercises import EXERCISES

__all__ = ["build_parser", "main"]


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds > 0, got {text!r}") from None
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of seconds > 0, got {text!r}")
    return value


def _memory(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer number of MB >= 64, got {text!r}") from None
    if value < 64:
        raise argparse.ArgumentTypeError(f"must be an integer number of MB >= 64, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recsys-course grade", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", metavar="PATH", help="submission files (.ipynb, .py) or folders")
    parser.add_argument("--exercise", choices=list(EXERCISES), help="grade every file as this exercise")
    parser.add_argument("--json", metavar="FILE", help="write Gradescope/otter results JSON here")
    parser.add_argument("--csv", metavar="FILE", help="write one CSV row per submission here")
    parser.add_argument("--out", metavar="DIR", default="grades",
                        help="class folders: write gradebook.csv and feedback/<student>.txt here (default grades)")
    parser.add_argument("--timeout", type=_positive_float, default=10.0, metavar="S",
                        help="seconds allowed for loading and for each check call (default 10)")
    parser.add_argument("--memory", type=_memory, default=1024, metavar="MB",
                        help="memory the submission may use, in MB (default 1024)")
    parser.add_argument("--seed", type=int, default=None, help="fix the random inputs (default: fresh each run)")
    parser.add_argument("--show-output", action="store_true", help="print the start of what each submission printed")
    parser.add_argument("--quiet", action="store_true", help="only the summary table")
    return parser


SUFFIXES = (".ipynb", ".py")


def _submissions_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir()
                  if p.suffix in SUFFIXES and p.is_file() and not p.name.startswith("."))


def _expand(paths: list[str]) -> list[tuple[Path, str]]:
    """(file, student) pairs: a folder's own files have no student (""), the files of each of its
    sub-folders belong to the student named by the sub-folder."""
    files: list[tuple[Path, str]] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            files.extend((p, "") for p in _submissions_in(path))
            for sub in sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
                files.extend((p, sub.name) for p in _submissions_in(sub))
        else:
            files.append((path, ""))
    return files


def _one_per_exercise(files: list[tuple[Path, str]], exercise: str | None):
    """Per student, the file graded for each exercise (the last in name order) and notes on the rest."""
    from ..exercises import exercise_for_file

    chosen: dict[tuple[str, str], Path] = {}
    unknown: list[tuple[Path, str]] = []
    for path, student in files:
        try:
            ex = exercise or exercise_for_file(path)
        except ValueError:
            unknown.append((path, student))
            continue
        chosen[(student, ex)] = path  # files come sorted by name: the last one wins
    skipped = {(path, student) for path, student in files} - {(p, s) for (s, _), p in chosen.items()}
    skipped -= set(unknown)
    return chosen, unknown, sorted(skipped)


def _write_class_reports(results, students: list[str], out: Path, skipped) -> tuple[Path, int]:
    from .report import write_feedback, write_gradebook

    exercises = sorted({r.exercise for r in results if getattr(r, "exercise", "")})
    by_key = {(getattr(r, "student", ""), getattr(r, "exercise", "")): r for r in results}
    entries = []
    feedback_dir = out / "feedback"
    feedback_dir.mkdir(parents=True, exist_ok=True)
    for student in students:
        mine = [(ex, by_key.get((student, ex))) for ex in exercises]
        mine += [("", r) for r in results if getattr(r, "student", "") == student and not getattr(r, "exercise", "")]
        entries += [(student, ex, r) for ex, r in mine]
        write_feedback(student, mine, feedback_dir / f"{student}.txt")
        extra = [p.name for p, s in skipped if s == student]
        if extra:
            with open(feedback_dir / f"{student}.txt", "a", encoding="utf-8") as handle:
                handle.write(f"Not graded (one file per exercise, the last in name order counts): {', '.join(extra)}\n")
    gradebook = out / "gradebook.csv"
    write_gradebook(entries, gradebook)
    return gradebook, len(students)


def _say(text: str) -> None:
    """print, but a reader that went away (``recsys-course grade ... | head``) is no error:
    the rest of the output is dropped and the reports are still written."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def main(argv: list[str] | None = None) -> int:
    from . import SubmissionError, grade_paths
    from .report import format_result, format_summary, write_csv, write_json

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--"]:  # `recsys-course quiz -- --answers f` passes the separator through
        argv = argv[1:]
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    pairs = _expand(args.paths)
    if not pairs:
        print("no submission found (give .ipynb or .py files, or folders holding them)", file=sys.stderr)
        return 2
    students = sorted({student for _, student in pairs if student})
    skipped: list = []
    exercise_of: dict[Path, str] = {}
    if students:
        chosen, unknown, skipped = _one_per_exercise(pairs, args.exercise)
        exercise_of = {p: ex for (_, ex), p in chosen.items()}
        pairs = sorted([(p, s) for (s, _), p in chosen.items()] + unknown, key=lambda pair: (pair[1], str(pair[0])))
    files = [path for path, _ in pairs]
    every = [str(path.resolve()) for path, _ in skipped]  # unread duplicates stay private too
    results = grade_paths(files, args.exercise, timeout=args.timeout, memory_mb=args.memory, seed=args.seed,
                          denied_reads=every)
    for result, (path, student) in zip(results, pairs):
        result.student = student
        if isinstance(result, SubmissionError) and path in exercise_of:
            result.exercise = exercise_of[path]  # an unreadable file still fills its exercise's row
    if not args.quiet:
        for result in results:
            _say(format_result(result, show_output=args.show_output))
    if len(results) > 1 or args.quiet:
        _say(format_summary(results))
    try:
        if args.json:
            write_json(results, args.json)
            _say(f"wrote {args.json}")
        if args.csv:
            write_csv(results, args.csv)
            _say(f"wrote {args.csv}")
        if students:
            gradebook, count = _write_class_reports(results, students, Path(args.out), skipped)
            _say(f"wrote {gradebook} and feedback for {count} students in {Path(args.out) / 'feedback'}")
    except OSError as err:
        print(f"cannot write the report: {err}", file=sys.stderr)
        return 2
    graded = [r for r in results if not isinstance(r, SubmissionError)]
    return 0 if graded else 2


if __name__ == "__main__":
    sys.exit(main())
