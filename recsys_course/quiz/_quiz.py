"""The quiz: plain-Python checking plus an ipywidgets front end."""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .bank import Question, QuizBankError, load_bank, parse_bank

__all__ = ["Feedback", "Quiz", "QuizResult", "parse_answer"]

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _one_choice(value: Any, question: Question) -> int:
    n = len(question.choices)
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        if 0 <= value < n:
            return int(value)
    elif isinstance(value, str):
        text = value.strip()
        if len(text) == 1 and text.lower() in _LETTERS[:n]:
            return _LETTERS.index(text.lower())
        if text in question.choices:
            return question.choices.index(text)
    raise ValueError(
        f"answer for question {question.id!r} must be a choice letter a-{_LETTERS[n - 1]}, "
        f"an index 0-{n - 1} or a choice's exact text, got {_describe(value)}"
    )


def parse_answer(question: Question, value: Any) -> Any:
    """A learner's answer -> the canonical form (int, frozenset of ints or float).

    single: a letter ("b"), a 0-based index (1) or the choice's text;
    multiple: a list/set of those, or a string of letters such as "a,c" or "a c";
    numeric: a number or a string holding one.
    ValueError, naming the question, when it cannot be read.
    """
    if question.type == "single":
        return _one_choice(value, question)
    if question.type == "multiple":
        if isinstance(value, str):
            parts = [p for p in re.split(r"[\s,;]+", value.strip()) if p]
            if len(parts) == 1 and len(parts[0]) > 1 and parts[0].isalpha() and parts[0] not in question.choices:
                parts = list(parts[0])  # "ac" -> a, c
        elif isinstance(value, Iterable) and not isinstance(value, (bytes, Mapping)):
            parts = list(value)
        else:
            raise ValueError(
                f"answer for question {question.id!r} must be a list of choices or letters like 'a,c', "
                f"got {_describe(value)}"
            )
        return frozenset(_one_choice(p, question) for p in parts)
    if isinstance(value, str):
        try:
            number = float(value.strip().replace(",", ""))
        except ValueError:
            number = math.nan
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
        number = float(value)
    else:
        number = math.nan
    if not math.isfinite(number):
        raise ValueError(f"answer for question {question.id!r} must be a finite number, got {_describe(value)}")
    return number


def is_correct(question: Question, canonical: Any) -> bool:
    if question.type == "numeric":
        return abs(canonical - question.answer) <= question.tolerance + 1e-9 * max(1.0, abs(question.answer))
    return canonical == question.answer


def _given_text(question: Question, canonical: Any) -> str:
    if question.type == "single":
        return f"{_LETTERS[canonical]}) {question.choices[canonical]}"
    if question.type == "multiple":
        return "; ".join(f"{_LETTERS[i]}) {question.choices[i]}" for i in sorted(canonical)) or "nothing"
    return f"{canonical:g}"


@dataclass(frozen=True)
class Feedback:
    """The verdict on one question."""

    question_id: str
    answered: bool
    correct: bool
    given: str
    expected: str
    explanation: str

    def text(self) -> str:
        if not self.answered:
            head = f"not answered. The answer: {self.expected}"
        elif self.correct:
            head = "correct."
        else:
            head = f"not quite: you answered {self.given}. The answer: {self.expected}"
        return f"{head}\n{self.explanation}"


@dataclass
class QuizResult:
    """Score and per-question feedback of :meth:`Quiz.check`."""

    feedback: list[Feedback] = field(default_factory=list)

    @property
    def score(self) -> int:
        return sum(f.correct for f in self.feedback)

    @property
    def max_score(self) -> int:
        return len(self.feedback)

    @property
    def answered(self) -> int:
        return sum(f.answered for f in self.feedback)

    def __getitem__(self, question_id: str) -> Feedback:
        for item in self.feedback:
            if item.question_id == question_id:
                return item
        raise KeyError(question_id)

    def summary(self) -> str:
        return f"score {self.score} / {self.max_score} ({self.answered} answered)"

    def report(self) -> str:
        lines = []
        for number, item in enumerate(self.feedback, start=1):
            mark = "ok " if item.correct else ("-- " if not item.answered else "XX ")
            first, _, rest = item.text().partition("\n")
            lines.append(f"{mark}{number:>2}. [{item.question_id}] {first}")
            lines.append(f"       {rest}")
        lines.append(self.summary())
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"score": self.score, "max_score": self.max_score, "answered": self.answered,
                "questions": [f.__dict__ for f in self.feedback]}


class Quiz:
    """A quiz over a validated question bank.

    >>> quiz = Quiz()
    >>> quiz.check({"q1-confidence-481": 481}).score
    1
    """

    def __init__(self, questions: str | Path | Mapping | list[Question] | None = None):
        if questions is None or isinstance(questions, (str, Path)):
            self.title, self.questions = load_bank(questions)
        elif isinstance(questions, Mapping):
            self.title, self.questions = parse_bank(dict(questions))
        elif isinstance(questions, list) and questions and all(isinstance(q, Question) for q in questions):
            ids = [q.id for q in questions]
            duplicate = next((i for i in ids if ids.count(i) > 1), None)
            if duplicate is not None:
                raise QuizBankError(f"question {duplicate!r}: duplicate id (ids must be unique)")
            self.title, self.questions = "Quiz", list(questions)
        else:
            raise TypeError(
                "questions must be None (the course bank), a path to a JSON bank, a bank mapping "
                f"or a non-empty list of Question, got {_describe(questions)}"
            )
        self._by_id = {q.id: q for q in self.questions}

    def __len__(self) -> int:
        return len(self.questions)

    def __getitem__(self, question_id: str) -> Question:
        try:
            return self._by_id[question_id]
        except KeyError:
            raise KeyError(f"no question with id {question_id!r}") from None

    def subset(self, ids: Iterable[str]) -> Quiz:
        """A quiz with only the given questions, in the given order."""
        picked = []
        for qid in ids:
            if qid not in self._by_id:
                raise ValueError(f"unknown question id {qid!r}; known: {', '.join(self._by_id)}")
            picked.append(self._by_id[qid])
        subset = Quiz(picked)
        subset.title = self.title
        return subset

    # ------------------------------------------------------------------ checking
    def feedback_for(self, question_id: str, answer: Any) -> Feedback:
        if not isinstance(question_id, str) or question_id not in self._by_id:
            raise ValueError(f"question_id must be one of this quiz's ids ({', '.join(self._by_id)}), "
                             f"got {question_id!r}")
        question = self[question_id]
        if answer is None:
            return Feedback(question.id, False, False, "", question.answer_text(), question.explanation)
        canonical = parse_answer(question, answer)
        return Feedback(question.id, True, is_correct(question, canonical), _given_text(question, canonical),
                        question.answer_text(), question.explanation)

    def check(self, answers: Mapping[str, Any]) -> QuizResult:
        """Grade ``{question_id: answer}``; questions left out count as unanswered.

        Unknown ids and unreadable answers raise ValueError naming the question.
        """
        if not isinstance(answers, Mapping):
            raise TypeError(f"answers must be a mapping of question id -> answer, got {_describe(answers)}")
        unknown = [k for k in answers if k not in self._by_id]
        if unknown:
            raise ValueError(f"unknown question id {unknown[0]!r} in answers; known: {', '.join(self._by_id)}")
        return QuizResult([self.feedback_for(q.id, answers.get(q.id)) for q in self.questions])

    # ------------------------------------------------------------------ widgets
    def show(self):
        """An ipywidgets quiz: choose, press Check, read the feedback; the score runs at the top."""
        from ._widget import QuizWidget

        self.widget = QuizWidget(self)
        return self.widget.box
