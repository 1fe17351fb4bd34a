"""Spark row: seconds per ALS iteration, ours (numba) against Apache Spark's ALS on local[2].

For users who weigh moving to a cluster: what one machine gives up by going through Spark.
Each library fits the same counts at two iteration counts; seconds per iteration is the
difference of the two wall times over the difference of iterations, so Spark's session
start-up, data transfer and factor collection (paid once per fit) cancel out. The Spark
session is opened once and reused. The fixed cost per fit is reported too.

    .venv/bin/python benchmarks/bench_spark.py             # MovieLens 1M, 64 factors
    .venv/bin/python benchmarks/bench_spark.py --quick     # MovieLens 100K, 16 factors
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import (add_output_option, add_threading_layer_option,  # noqa: E402
                     print_targets, run_with_settings, target_record, write_results)


def _timed(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def per_iteration(fit, low: int, high: int, repeats: int) -> tuple[float, float]:
    """(seconds per iteration, fixed seconds per fit) from fits of ``low`` and ``high`` iterations."""
    t_low = min(_timed(lambda: fit(low)) for _ in range(repeats))
    t_high = min(_timed(lambda: fit(high)) for _ in range(repeats))
    slope = max(t_high - t_low, 0.0) / (high - low)
    return slope, max(t_low - slope * low, 0.0)


def run(args: argparse.Namespace) -> int:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        print("Spark row skipped: pyspark is not installed (make bench installs it with Java 17)")
        return 0
    from recsys_course.data import load_movielens_1m, load_movielens_100k
    from recsys_course.models import ImplicitALS
    from recsys_course.spark import fit_als_spark, spark_session

    data = load_movielens_100k() if args.quick else load_movielens_1m()
    counts = data.counts
    factors = 16 if args.quick else args.factors
    low, high = (1, 3) if args.quick else (2, 8)
    name = "MovieLens 100K" if args.quick else "MovieLens 1M"
    settings = dict(factors=factors, regularization=1.0, alpha=1.0, random_state=0)

    def ours(iterations):
        ImplicitALS(iterations=iterations, progress=False, **settings).fit(counts)

    ours(1)  # load the cached kernels
    ours_it, ours_fixed = per_iteration(ours, low, high, args.repeats)
    with spark_session(master="local[2]") as spark:
        def theirs(iterations):
            fit_als_spark(counts, iterations=iterations, master="local[2]", spark=spark, **settings)

        theirs(1)  # JIT and caches of the JVM
        spark_it, spark_fixed = per_iteration(theirs, low, high, args.repeats)
    ratio = ours_it / spark_it if spark_it > 0 else float("nan")
    print(f"ALS on {name} ({counts.shape[0]:,} x {counts.shape[1]:,}, {counts.nnz:,} non-zeros), "
          f"{factors} factors, ours with CG, Spark with its own solver on local[2]; iterations {low} and {high}, best of {args.repeats}")
    print(f"{'':<8} {'s/iteration':>12} {'fixed s/fit':>12}")
    print(f"{'ours':<8} {ours_it:>12.3f} {ours_fixed:>12.2f}")
    print(f"{'Spark':<8} {spark_it:>12.3f} {spark_fixed:>12.2f}")
    print(f"ours/Spark per iteration: {ratio:.3f}")
    record = target_record(f"ALS seconds per iteration vs Spark's ALS on local[2] (ratio ours / Spark), "
                           f"{factors} factors: {name}", ours_it, None, None, "s",
                           ratio=ratio if np.isfinite(ratio) else None)
    record["versus"] = {"name": "Spark local[2]", "value": spark_it}
    print()
    print_targets([record])
    write_results("spark", args.quick, {
        "data": name, "factors": factors, "iterations": [low, high],
        "ours_s_per_iteration": ours_it, "spark_s_per_iteration": spark_it,
        "ours_fixed_s": ours_fixed, "spark_fixed_s": spark_fixed, "ratio": ratio,
        "targets": [record],
    }, output=args.output)
    return 0 if np.isfinite(ratio) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="MovieLens 100K, 16 factors, 1 and 3 iterations")
    parser.add_argument("--factors", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2)
    add_threading_layer_option(parser)
    add_output_option(parser, "spark")
    args, _ = parser.parse_known_args(argv)
    return run_with_settings(args, run)


if __name__ == "__main__":
    sys.exit(main())
