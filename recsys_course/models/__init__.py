"""Recommenders with one contract: ``fit(counts)``, ``recommend``, ``similar_items``."""

from ._base import FactorModelBase, NotFittedError, RecommenderBase

__all__ = ["FactorModelBase", "NotFittedError", "RecommenderBase"]
