"""Data: interaction logs, real data sets (fetched, hash-checked), simulation, splits."""

from .datasets import (
    DATASETS,
    DataUnavailableError,
    Dataset,
    data_home,
    fetch,
    load_instacart,
    load_movielens_1m,
    load_movielens_100k,
)
from .interactions import Interactions
from .simulate import Simulation, simulate
from .split import Split, ThreeWaySplit, leave_k_out, train_test_split, train_validation_test_split

__all__ = [
    "DATASETS",
    "DataUnavailableError",
    "Dataset",
    "Interactions",
    "Simulation",
    "Split",
    "ThreeWaySplit",
    "data_home",
    "fetch",
    "leave_k_out",
    "load_instacart",
    "load_movielens_100k",
    "load_movielens_1m",
    "simulate",
    "train_test_split",
    "train_validation_test_split",
]
