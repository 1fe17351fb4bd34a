"""``recsys-course grade PATH... [--exercise exNN] [--json FILE] [--csv FILE] [--timeout S]``.

Grades each submission (.ipynb or .py; a folder means every such file in it) in its own
sandboxed process and prints a table. The exercise comes from the ``exNN`` prefix of each
file name unless ``--exercise`` says otherwise. Exit status: 0 when grading ran (whatever the
scores), 2 for a usage error or when no file could be graded.
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
    parser.add_argument("--timeout", type=_positive_float, default=10.0, metavar="S",
                        help="seconds allowed for loading and for each check call (default 10)")
    parser.add_argument("--memory", type=_memory, default=1024, metavar="MB",
                        help="memory the submission may use, in MB (default 1024)")
    parser.add_argument("--seed", type=int, default=None, help="fix the random inputs (default: fresh each run)")
    parser.add_argument("--show-output", action="store_true", help="print the start of what each submission printed")
    parser.add_argument("--quiet", action="store_true", help="only the summary table")
    return parser


def _expand(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix in (".ipynb", ".py") and p.is_file())
            files.extend(found)
        else:
            files.append(path)
    return files


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
    files = _expand(args.paths)
    if not files:
        print("no submission found (give .ipynb or .py files, or folders holding them)", file=sys.stderr)
        return 2
    results = grade_paths(files, args.exercise, timeout=args.timeout, memory_mb=args.memory, seed=args.seed)
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
    except OSError as err:
        print(f"cannot write the report: {err}", file=sys.stderr)
        return 2
    graded = [r for r in results if not isinstance(r, SubmissionError)]
    return 0 if graded else 2


if __name__ == "__main__":
    sys.exit(main())
