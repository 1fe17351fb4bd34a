"""Pieces every benchmark script shares: numba's threading layer, one-thread BLAS, and the
``targets`` records of the results JSON that ``run_all.py`` gathers into one table."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Callable

LAYERS = ("default", "omp", "tbb", "workqueue")


def add_threading_layer_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threading-layer", choices=LAYERS, default="default",
                        help="numba's threading layer (default: numba's choice)")


def add_output_option(parser: argparse.ArgumentParser, name: str) -> None:
    """``--output PATH``: where the results JSON goes, instead of results/<name>.json. For a
    partial run (fewer data sets, solvers, seeds) that must not replace the full record."""
    parser.add_argument("--output", type=Path, default=None,
                        help=f"write the results JSON here instead of benchmarks/results/{name}.json "
                             "(use it for partial runs: the committed record stays whole)")


def run_with_settings(args: argparse.Namespace, run: Callable[[argparse.Namespace], int]) -> int:
    """Apply --threading-layer, hold BLAS to one thread, then ``run(args)``."""
    if args.threading_layer != "default":
        os.environ["NUMBA_THREADING_LAYER"] = args.threading_layer
        if "numba" in sys.modules:  # imported already: set it before the first parallel call
            sys.modules["numba"].config.THREADING_LAYER = args.threading_layer
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # BLAS on one thread even when imported late (smoke tests)
        return run(args)


# ------------------------------------------------------------------ results JSON and targets
#: where every benchmark writes its results JSON (``<name>.json``, ``<name>_quick.json`` with --quick)
RESULTS = Path(__file__).resolve().parent / "results"


def target_record(measure: str, ours: float | None, implicit: float | None, target: float | None,
                  unit: str, *, higher_is_better: bool = False, absolute: bool = False,
                  ratio: float | None = None) -> dict:
    """One entry of a results JSON's top-level ``targets`` list (issue 11; ``make bench`` prints
    them all as one table):
    ``{"measure", "ours", "implicit", "ratio", "target", "met", "unit"}``.

    ``ratio`` defaults to ours / implicit (None when either is missing or implicit is 0).
    ``target``: the bound on the ratio (or on ``ours`` itself with ``absolute=True``), written
    "<= 0.25" (">= 1.5" with ``higher_is_better``); None makes a figure to report only
    (target "report", met True: there is nothing to miss). A measure whose value is missing is
    never met.
    """
    if ratio is None and ours is not None and implicit not in (None, 0):
        ratio = ours / implicit
    if target is None:
        return {"measure": measure, "ours": ours, "implicit": implicit, "ratio": ratio,
                "target": "report", "met": True, "unit": unit}
    value = ours if absolute else ratio
    met = value is not None and value == value and (value >= target if higher_is_better
                                                      else value <= target)
    return {"measure": measure, "ours": ours, "implicit": implicit, "ratio": ratio,
            "target": f"{'>=' if higher_is_better else '<='} {target:g}", "met": bool(met),
            "unit": unit}


def write_results(name: str, quick: bool, record: dict, output: Path | None = None) -> Path:
    """Write ``record`` (which holds a ``targets`` list) to ``output`` when given, else to
    results/<name>.json or <name>_quick.json."""
    if not isinstance(record.get("targets"), list):
        raise ValueError(f"the results of {name} need a top-level 'targets' list, got {sorted(record)}")
    if output is not None:
        path = Path(output)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record, indent=2) + "\n")
        return path
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / (f"{name}_quick.json" if quick else f"{name}.json")
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path


def print_targets(targets: list[dict]) -> None:
    """A benchmark's own targets, one line each (run_all.py prints every benchmark's together)."""
    print("targets (issue 11): measure | ours | implicit | ratio | target | met")
    for t in targets:
        status = "report" if t["target"] == "report" else ("met" if t["met"] else "NOT met")
        print(f"  {t['measure']} | {_number(t['ours'])} {t['unit']} | {_number(t['implicit'])} | "
              f"{_number(t['ratio'])} | {t['target']} | {status}")


def _number(value) -> str:
    return "-" if value is None else f"{value:.4g}"
