"""The course quiz: a validated question bank, plain-Python checking and an ipywidgets front end.

    from recsys_course.quiz import Quiz
    quiz = Quiz()                      # the course bank, recsys_course/quiz/questions.json
    quiz.show()                        # in Jupyter: choose, Check, feedback, running score
    quiz.check({"q1-confidence-481": 481}).report()   # plain Python, for tests and graders

In a terminal: ``recsys-course quiz`` (answers on stdin, so it also runs from a pipe).
"""

from ._quiz import Feedback, Quiz, QuizResult, parse_answer
from .bank import DEFAULT_BANK, QUESTION_TYPES, Question, QuizBankError, load_bank, parse_bank

__all__ = [
    "DEFAULT_BANK",
    "QUESTION_TYPES",
    "Feedback",
    "Question",
    "Quiz",
    "QuizBankError",
    "QuizResult",
    "load_bank",
    "parse_answer",
    "parse_bank",
]
