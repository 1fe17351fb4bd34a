"""Run every benchmark in this folder (``bench_*.py``), one after another, in fresh processes.

Each benchmark prints its own table with ratios ours / implicit. Extra arguments
(for example ``--quick``) are passed to every benchmark.
BLAS is held to one thread for fair timings of `implicit` (it warns otherwise); its OpenMP threads are not.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    only = [a for a in argv if not a.startswith("-")]
    flags = [a for a in argv if a.startswith("-")]
    if only:
        scripts = [s for s in scripts if any(name in s.stem for name in only)]
    if not scripts:
        print("no benchmark matched", file=sys.stderr)
        return 2
    # BLAS on one thread (implicit warns otherwise); OMP_NUM_THREADS is left alone because it also
    # caps implicit's own OpenMP worker threads, which would make its "all threads" rows single-threaded.
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env.pop("OMP_NUM_THREADS", None)
    failures = 0
    for script in scripts:
        print(f"\n=== {script.name} ===", flush=True)
        start = time.perf_counter()
        code = subprocess.call([sys.executable, str(script), *flags], env=env)
        print(f"--- {script.name}: exit {code}, {time.perf_counter() - start:.0f} s wall", flush=True)
        failures += code != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
