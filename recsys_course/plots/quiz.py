"""Figures for notebook 06: what the quiz covers."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["GOAL_LABELS", "quiz_coverage"]

GOAL_LABELS = {
    "1": "goal 1: explicit vs implicit",
    "2": "goal 2: preference + confidence",
    "3": "goal 3: missing data, ALS, BPR",
    "choosing": "choosing an approach",
    "evaluation": "evaluation",
}
_TYPE_COLOURS = {"single": "#4c72b0", "multiple": "#dd8452", "numeric": "#55a868"}


def quiz_coverage(quiz=None, ax=None):
    """Horizontal stacked bars: questions per learning goal, split by question type."""
    from ..quiz import Quiz

    if quiz is None:
        quiz = Quiz()
    if not isinstance(quiz, Quiz):
        raise TypeError(f"quiz must be a recsys_course.quiz.Quiz, got {type(quiz).__name__}")
    goals = list(GOAL_LABELS) + sorted({q.goal for q in quiz.questions} - set(GOAL_LABELS))
    counts = {t: np.array([sum(q.goal == g and q.type == t for q in quiz.questions) for g in goals])
              for t in _TYPE_COLOURS}
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 3.2))
    else:
        fig = ax.figure
    left = np.zeros(len(goals))
    labels = [GOAL_LABELS.get(g, g or "no goal") for g in goals]
    for kind, colour in _TYPE_COLOURS.items():
        ax.barh(labels, counts[kind], left=left, color=colour, label=f"{kind} choice" if kind != "numeric" else kind)
        left += counts[kind]
    ax.invert_yaxis()
    ax.set_xlim(0, left.max() + 0.5)
    ax.set_xlabel("questions (count)")
    ax.set_title(f"What the quiz covers: {len(quiz)} questions by learning goal and type")
    ax.xaxis.get_major_locator().set_params(integer=True)
    # beside the axes, not inside them: inside, it covered the longest bars
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    return fig
