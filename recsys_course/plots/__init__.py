"""Figures for the notebooks: every one with a title, axis labels and units.

One module per part of the course; everything is re-exported here, so notebooks
write ``from recsys_course import plots`` and ``plots.confidence_curves(...)``.
"""

from .feedback import *  # noqa: F401,F403
from .signals import *  # noqa: F401,F403
from .quiz import *  # noqa: F401,F403
from .als import *  # noqa: F401,F403
from .blending import *  # noqa: F401,F403
from .bpr import *  # noqa: F401,F403
from .evaluation import *  # noqa: F401,F403
from .tuning import *  # noqa: F401,F403
