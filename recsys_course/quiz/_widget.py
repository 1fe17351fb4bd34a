"""The ipywidgets front end of :class:`~recsys_course.quiz.Quiz`."""

from __future__ import annotations

import html

import ipywidgets as widgets

from .bank import Question

__all__ = ["QuizWidget"]

_LETTERS = "abcdefghijklmnopqrstuvwxyz"

# ipywidgets draws radio options at a fixed row height, so a label that wraps onto a second
# line runs into the next option. Let quiz rows grow with their text instead.
_STYLE = """<style>
.rc-quiz .widget-radio-box label { height: auto !important; display: grid !important;
  grid-template-columns: auto 1fr; column-gap: 6px; align-items: start;
  line-height: 1.35; white-space: normal; margin-bottom: 4px; }
.rc-quiz .widget-radio-box label input { order: -1; margin: 2px 0 0 0; }
.rc-quiz .widget-checkbox label, .rc-quiz .widget-checkbox { height: auto !important; white-space: normal; }
</style>"""


class _Row:
    """One question: prompt, input, Check button, feedback."""

    def __init__(self, number: int, question: Question, on_check):
        self.question = question
        self.prompt = widgets.HTML(f"<b>{number}.</b> {html.escape(question.prompt)}")
        if question.type == "single":
            self.input = widgets.RadioButtons(
                options=[(f"{_LETTERS[i]}) {c}", i) for i, c in enumerate(question.choices)],
                index=None, layout=widgets.Layout(width="auto"))
            self.boxes = []
            control = self.input
        elif question.type == "multiple":
            self.boxes = [widgets.Checkbox(value=False, description=f"{_LETTERS[i]}) {c}", indent=False,
                                           layout=widgets.Layout(width="auto"))
                          for i, c in enumerate(question.choices)]
            self.input = None
            control = widgets.VBox(self.boxes)
        else:
            self.input = widgets.Text(placeholder="a number", layout=widgets.Layout(width="12em"))
            self.boxes = []
            control = self.input
        self.button = widgets.Button(description="Check", button_style="primary")
        self.feedback = widgets.HTML("")
        self.button.on_click(lambda _: on_check(self))
        self.box = widgets.VBox([self.prompt, control, self.button, self.feedback],
                                layout=widgets.Layout(margin="0 0 1em 0"))

    def answer(self):
        """The current answer in the form Quiz.feedback_for reads, or None when nothing is chosen."""
        if self.question.type == "single":
            return self.input.value
        if self.question.type == "multiple":
            chosen = [i for i, box in enumerate(self.boxes) if box.value]
            return chosen or None
        text = self.input.value.strip()
        return text or None


class QuizWidget:
    def __init__(self, quiz):
        self.quiz = quiz
        self.results: dict[str, bool] = {}
        self.score = widgets.HTML(self._score_text())
        self.rows = {q.id: _Row(i, q, self._check) for i, q in enumerate(quiz.questions, start=1)}
        title = widgets.HTML(f"<h3>{html.escape(quiz.title)}</h3>")
        self.box = widgets.VBox([widgets.HTML(_STYLE), title, self.score, *[row.box for row in self.rows.values()]])
        self.box.add_class("rc-quiz")

    def _score_text(self) -> str:
        right = sum(self.results.values())
        return (f"<b>Score: {right} / {len(self.quiz)}</b> "
                f"({len(self.results)} of {len(self.quiz)} checked)")

    def _check(self, row: _Row) -> None:
        answer = row.answer()
        if answer is None:
            row.feedback.value = "<span style='color:#a15c00'>Choose or type an answer first.</span>"
            return
        try:
            verdict = self.quiz.feedback_for(row.question.id, answer)
        except ValueError:
            row.feedback.value = "<span style='color:#a15c00'>Please type a plain number, e.g. 12 or 0.25.</span>"
            return
        self.results[row.question.id] = verdict.correct
        if verdict.correct:
            head = "<span style='color:#1a7f37'><b>Correct.</b></span>"
        else:
            head = (f"<span style='color:#b42318'><b>Not quite.</b></span> "
                    f"The answer: {html.escape(verdict.expected)}.")
        row.feedback.value = f"{head}<br>{html.escape(verdict.explanation)}"
        self.score.value = self._score_text()
