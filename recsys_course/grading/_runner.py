"""Entry script of the sandbox process: ``python -I -B _runner.py RESULT_FD``.

Started by :mod:`recsys_course.grading.sandbox`, in a fresh temporary working directory, with
the job as JSON on stdin. It never imports ``recsys_course``: the sandbox's modules beside this
file (:mod:`.protocol`, :mod:`.guard`, :mod:`.worker`, :mod:`.supervisor`) are loaded as a
private package of their own, and they import only the standard library, numpy and scipy.

* the **supervisor** (this process) holds RESULT_FD, the pipe back to the grader, and never
  runs learner code;
* the **worker**, forked by it, closes RESULT_FD first, drops privileges, sets limits,
  installs the guard and only then runs the submission, one call at a time.

Replies carry plain data only; the grader compares them with its own reference, in its own
process, on inputs drawn fresh for every run.
"""

import importlib
import importlib.machinery
import importlib.util
import os
import sys

PACKAGE = "_grader_sandbox"  # not "recsys_course...": the guard refuses those names to learners


def load_runtime():
    """The supervisor module, imported from the files beside this script as PACKAGE.supervisor."""
    here = os.path.dirname(os.path.abspath(__file__))
    package = importlib.util.module_from_spec(importlib.machinery.ModuleSpec(PACKAGE, None, is_package=True))
    package.__path__ = [here]
    sys.modules[PACKAGE] = package
    return importlib.import_module(PACKAGE + ".supervisor")


if __name__ == "__main__":
    sys.exit(load_runtime().main(sys.argv))
