"""The grader: score exercise submissions (``.ipynb`` or ``.py``) safely.

    from recsys_course.grading import grade_submission
    result = grade_submission("alice/ex01_confidence.ipynb")
    print(result.score, "/", result.max_score)
    result.to_gradescope()          # {"score": ..., "tests": [...]} (Gradescope / otter layout)

How it works (details in :mod:`.grader`, :mod:`.sandbox`, and for the sandbox process
:mod:`.protocol`, :mod:`.supervisor`, :mod:`.worker` and :mod:`.guard`):

1. the code cells are read from the submission (IPython magics and shell lines are dropped);
2. the checks of the exercise (:mod:`recsys_course.grading.checks`, hidden from learners)
   draw fresh random inputs for this run;
3. a fresh interpreter runs the submission in a temporary directory, as an unprivileged user
   when the grader is root, with time, memory and process limits and an audit hook that
   refuses the course's own code; it calls the learner's function on those inputs and sends
   back plain numbers only;
4. the grader compares those numbers with its own reference, in its own process, and gives
   partial credit per check.

A submission that imports or reads the course's implementation, or writes on the result
channel itself, scores zero.
"""

from .grader import *  # noqa: F401,F403  (the grader's public names, listed once in grader.__all__)
from .grader import __all__  # noqa: F401
