"""recsys-course: recommenders from implicit feedback, taught with runnable code.

Modules: ``data`` (interactions, real data sets, simulation, splits), ``feedback``
(counts -> preference and confidence), ``models`` (implicit ALS, BPR, explicit ALS,
baselines), ``metrics``, ``plots``, ``widgets``, ``quiz``, ``exercises``, ``grading``, ``spark``.
"""

__version__ = "0.1.0"
