"""Recommenders with one contract: ``fit(counts)``, ``recommend``, ``similar_items``."""

from ._base import FactorModelBase, NotFittedError, RecommenderBase
from .als import Explanation, ImplicitALS, SingularSystemError  # noqa: F401
from .baselines import ItemKNN, Popularity  # noqa: F401
from .explicit import ExplicitALS  # noqa: F401
from .bpr import BPR, sample_negatives, sampled_negative_truth  # noqa: F401

__all__ = ["FactorModelBase", "NotFittedError", "RecommenderBase"]
