"""The question bank: a JSON data file, validated when loaded.

A bank is ``{"title": ..., "questions": [...]}``; each question has

* ``id`` (unique), ``type`` (``single``, ``multiple`` or ``numeric``), ``prompt``, ``explanation``;
* ``single``: ``choices`` (>= 2 distinct texts) and ``answer`` -- a choice index or the text of a choice;
* ``multiple``: ``choices`` and ``answer`` -- a non-empty list of indices or texts;
* ``numeric``: ``answer`` (a finite number) and ``tolerance`` (absolute, >= 0, default 0);
* optionally ``goal`` (which learning goal it tests) and ``syllabus`` (e.g. ``"Q1"``).

Every problem raises :class:`QuizBankError` naming the question.
"""

from __future__ import annotations

import json
import math
import numbers
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_BANK", "QUESTION_TYPES", "Question", "QuizBankError", "load_bank", "parse_bank"]

DEFAULT_BANK = Path(__file__).resolve().parent / "questions.json"
QUESTION_TYPES = ("single", "multiple", "numeric")
_KEYS = {"id", "type", "prompt", "choices", "answer", "tolerance", "explanation", "goal", "syllabus"}


class QuizBankError(ValueError):
    """A question bank that cannot be used; the message names the question."""


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    prompt: str
    explanation: str
    choices: tuple[str, ...] = ()
    answer: Any = None  # int (single), frozenset[int] (multiple), float (numeric)
    tolerance: float = 0.0
    goal: str = ""
    syllabus: str = ""

    def answer_text(self) -> str:
        """The right answer in words, for feedback."""
        if self.type == "single":
            return f"{_letter(self.answer)}) {self.choices[self.answer]}"
        if self.type == "multiple":
            return "; ".join(f"{_letter(i)}) {self.choices[i]}" for i in sorted(self.answer))
        value = f"{self.answer:g}"
        return value if self.tolerance == 0 else f"{value} (within {self.tolerance:g})"


def _letter(index: int) -> str:
    return "abcdefghijklmnopqrstuvwxyz"[index]


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _choice_index(raw: Any, choices: list[str], where: str) -> int:
    if _is_int(raw):
        if not 0 <= raw < len(choices):
            raise QuizBankError(f"{where}: answer {raw} is not among the {len(choices)} choices (indices 0-{len(choices) - 1})")
        return int(raw)
    if isinstance(raw, str):
        if raw not in choices:
            raise QuizBankError(f"{where}: answer {raw!r} is not among the choices")
        return choices.index(raw)
    raise QuizBankError(f"{where}: an answer must be a choice index or a choice's text, got {raw!r}")


def _parse_question(raw: Any, position: int, seen: set[str]) -> Question:
    label = f"question #{position + 1}"
    if not isinstance(raw, dict):
        raise QuizBankError(f"{label}: must be a JSON object, got {type(raw).__name__}")
    qid = raw.get("id")
    if not isinstance(qid, str) or not qid.strip():
        raise QuizBankError(f"{label}: missing a non-empty string 'id'")
    where = f"question {qid!r}"
    if qid in seen:
        raise QuizBankError(f"{where}: duplicate id (ids must be unique)")
    seen.add(qid)
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise QuizBankError(f"{where}: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_KEYS))}")
    kind = raw.get("type")
    if kind not in QUESTION_TYPES:
        raise QuizBankError(f"{where}: unknown type {kind!r}; allowed: {', '.join(QUESTION_TYPES)}")
    for key in ("prompt", "explanation"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise QuizBankError(f"{where}: missing a non-empty {key!r}")
    if "answer" not in raw:
        raise QuizBankError(f"{where}: missing 'answer'")
    common = dict(id=qid, type=kind, prompt=raw["prompt"], explanation=raw["explanation"],
                  goal=str(raw.get("goal", "")), syllabus=str(raw.get("syllabus", "")))
    answer = raw["answer"]
    if kind == "numeric":
        if "choices" in raw:
            raise QuizBankError(f"{where}: a numeric question takes no 'choices'")
        if not _is_number(answer) or not math.isfinite(answer):
            raise QuizBankError(f"{where}: the answer of a numeric question must be a finite number, got {answer!r}")
        tolerance = raw.get("tolerance", 0)
        if not _is_number(tolerance) or not math.isfinite(tolerance) or tolerance < 0:
            raise QuizBankError(f"{where}: tolerance must be a finite number >= 0, got {tolerance!r}")
        return Question(**common, answer=float(answer), tolerance=float(tolerance))
    choices = raw.get("choices")
    if not isinstance(choices, list) or len(choices) < 2 or not all(isinstance(c, str) and c.strip() for c in choices):
        raise QuizBankError(f"{where}: a {kind} question needs 'choices', a list of at least 2 non-empty texts")
    if len(set(choices)) != len(choices):
        raise QuizBankError(f"{where}: two choices have the same text")
    if len(choices) > 26:
        raise QuizBankError(f"{where}: at most 26 choices (a-z), got {len(choices)}")
    if "tolerance" in raw:
        raise QuizBankError(f"{where}: only numeric questions take a 'tolerance'")
    if kind == "single":
        if isinstance(answer, list):
            raise QuizBankError(f"{where}: a single-choice question has one answer, got a list (use type 'multiple')")
        return Question(**common, choices=tuple(choices), answer=_choice_index(answer, choices, where))
    if not isinstance(answer, list) or not answer:
        raise QuizBankError(f"{where}: the answer of a multiple-choice question must be a non-empty list")
    indices = [_choice_index(a, choices, where) for a in answer]
    if len(set(indices)) != len(indices):
        raise QuizBankError(f"{where}: the answer lists the same choice twice")
    return Question(**common, choices=tuple(choices), answer=frozenset(indices))


def parse_bank(data: Any) -> tuple[str, list[Question]]:
    """Validate a bank already read from JSON: ``(title, questions)``."""
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
        raise QuizBankError("a question bank must be a JSON object with a 'questions' list")
    if not data["questions"]:
        raise QuizBankError("the question bank has no questions")
    seen: set[str] = set()
    questions = [_parse_question(raw, i, seen) for i, raw in enumerate(data["questions"])]
    title = data.get("title", "Quiz")
    if not isinstance(title, str):
        raise QuizBankError(f"the bank's title must be a string, got {title!r}")
    return title, questions


def load_bank(path: str | Path | None = None) -> tuple[str, list[Question]]:
    """Read and validate a bank file (default: the course's own ``questions.json``)."""
    path = DEFAULT_BANK if path is None else Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise QuizBankError(f"cannot read the question bank {str(path)!r}: {err}") from None
    try:
        data = json.loads(text)
    except ValueError as err:
        raise QuizBankError(f"the question bank {path.name} is not valid JSON: {err}") from None
    return parse_bank(data)
