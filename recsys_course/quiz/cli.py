"""``recsys-course quiz``: take the quiz in a terminal, or grade a file of answers.

    recsys-course quiz                         # ask each question, read answers from stdin
    printf 'a c d f\\na\\n...' | recsys-course quiz   # the same, from a pipe
    recsys-course quiz --answers answers.json  # grade {"question-id": answer, ...} at once
    recsys-course quiz --list                  # the questions' ids, types and goals

Answers: a letter for single choice (``b``), letters for multiple choice (``a,c``), a number
for numeric questions. An empty line skips a question; ``q`` ends the quiz. Exit status 0 when
the quiz ran, 2 for a usage error, an unreadable bank or an unreadable answers file.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from typing import TextIO

from ._quiz import Quiz
from .bank import QuizBankError

__all__ = ["main"]

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_TRIES = 3


def _wrap(text: str, indent: str = "   ", hanging: str | None = None) -> str:
    return textwrap.fill(text, width=88, initial_indent=indent, subsequent_indent=hanging or indent,
                         break_on_hyphens=False)


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _ask(quiz: Quiz, out: TextIO, source: TextIO) -> dict:
    answers: dict = {}
    total = len(quiz)
    right = 0
    for number, question in enumerate(quiz.questions, start=1):
        head = f"{number}/{total}. "
        print("\n" + _wrap(head + question.prompt, "", " " * len(head)), file=out)
        for i, choice in enumerate(question.choices):
            print(_wrap(f"{_LETTERS[i]}) {choice}", "   ", "      "), file=out)
        hint = {"single": "one letter", "multiple": "letters, e.g. a,c", "numeric": "a number"}[question.type]
        for attempt in range(_TRIES):
            print(f"your answer ({hint}; empty skips, q quits): ", end="", file=out, flush=_isatty(source))
            line = source.readline()
            if not line:  # end of input
                print("\n(end of input)", file=out)
                return answers
            text = line.strip()
            if not _isatty(source):  # piped answers: show them, so the transcript reads well
                print(text, file=out)
            if text.lower() in ("q", "quit", "exit"):
                return answers
            if not text:
                print("   skipped.", file=out)
                break
            try:
                verdict = quiz.feedback_for(question.id, text)
            except ValueError:
                print(f"   could not read {text!r} as {hint}; try again.", file=out)
                continue
            answers[question.id] = text
            right += verdict.correct
            if verdict.correct:
                print("   correct.", file=out)
            else:
                print(_wrap(f"not quite: the answer is {verdict.expected}."), file=out)
            print(_wrap(verdict.explanation), file=out)
            print(f"   running score: {right} / {number}", file=out)
            break
        else:
            print("   skipped after three unreadable answers.", file=out)
    return answers


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="recsys-course quiz", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--answers", metavar="FILE",
                        help="grade a JSON object {question_id: answer} ('-' reads it from stdin)")
    parser.add_argument("--only", metavar="IDS", help="comma-separated question ids to ask")
    parser.add_argument("--bank", metavar="FILE", help="another question bank (JSON)")
    parser.add_argument("--list", action="store_true", help="list the questions and exit")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    return parser


def main(argv: list[str] | None = None, *, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    try:
        return _main(argv, stdin=stdin, stdout=stdout)
    except BrokenPipeError:  # `recsys-course quiz --list | head`: the reader left; not an error
        if stdout is None:
            import os

            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        return 0


def _main(argv: list[str] | None, *, stdin: TextIO | None, stdout: TextIO | None) -> int:
    source = stdin if stdin is not None else sys.stdin
    out = stdout if stdout is not None else sys.stdout
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--"]:  # `recsys-course quiz -- --answers f` passes the separator through
        argv = argv[1:]
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    try:
        quiz = Quiz(args.bank)
        if args.only:
            quiz = quiz.subset([q.strip() for q in args.only.split(",") if q.strip()])
    except (QuizBankError, ValueError) as err:
        print(f"recsys-course quiz: {err}", file=sys.stderr)
        return 2
    if args.list:
        for q in quiz.questions:
            tag = f" ({q.syllabus})" if q.syllabus else ""
            print(f"{q.id:<24} {q.type:<9} goal {q.goal or '-':<10}{tag}", file=out)
        return 0
    if args.answers:
        try:
            text = source.read() if args.answers == "-" else open(args.answers, encoding="utf-8").read()
            answers = json.loads(text)
            result = quiz.check(answers)
        except OSError as err:
            print(f"recsys-course quiz: cannot read {args.answers}: {err}", file=sys.stderr)
            return 2
        except ValueError as err:  # bad JSON, unknown id, unreadable answer
            print(f"recsys-course quiz: {err}", file=sys.stderr)
            return 2
        except TypeError as err:
            print(f"recsys-course quiz: {err}", file=sys.stderr)
            return 2
    else:
        noun = "question" if len(quiz) == 1 else "questions"
        print(f"{quiz.title}: {len(quiz)} {noun}. Each right answer scores 1.", file=out)
        result = quiz.check(_ask(quiz, out, source))
        print("", file=out)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2), file=out)
    elif args.answers:
        print(result.report(), file=out)
    else:
        print(f"Final {result.summary()}.", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
