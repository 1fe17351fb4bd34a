"""Pieces every benchmark script shares: numba's threading layer and one-thread BLAS."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Callable

LAYERS = ("default", "omp", "tbb", "workqueue")


def add_threading_layer_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threading-layer", choices=LAYERS, default="default",
                        help="numba's threading layer (default: numba's choice)")


def run_with_settings(args: argparse.Namespace, run: Callable[[argparse.Namespace], int]) -> int:
    """Apply --threading-layer, hold BLAS to one thread, then ``run(args)``."""
    if args.threading_layer != "default":
        os.environ["NUMBA_THREADING_LAYER"] = args.threading_layer
        if "numba" in sys.modules:  # imported already: set it before the first parallel call
            sys.modules["numba"].config.THREADING_LAYER = args.threading_layer
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # BLAS on one thread even when imported late (smoke tests)
        return run(args)
