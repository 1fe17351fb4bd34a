"""A learner never waits for the compiler: first-call cost in a fresh clone, before and after
`recsys-course warmup`, and numba's threading layers side by side.

Part 1 clones the repository into a temporary folder (so no numba cache exists beside the
modules), then, each in a fresh process importing the clone:
  cold   - the first ImplicitALS fit, BPR fit and evaluate() call, nothing warmed;
  warmed - the same after `python -m recsys_course.cli warmup` ran once in the clone.
The compile (or cache-load) cost of a call is its first-call time minus the time of the same
call repeated in the same process. Target: at most 2 s in total after warm-up.

Part 2 times evaluate(), an ALS fit and a BPR fit under each threading layer numba can load
here (omp, workqueue, tbb), each in its own process with the kernels already cached.

    .venv/bin/python benchmarks/bench_warmup.py            # MovieLens 1M for part 2
    .venv/bin/python benchmarks/bench_warmup.py --quick    # small synthetic data
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from _common import (add_output_option, add_threading_layer_option,  # noqa: E402
                     print_targets, run_with_settings, target_record, write_results)

TARGET_SECONDS = 2.0

_FIRST_CALLS = r"""
import json, sys, time
import numpy as np
import recsys_course
from recsys_course.data import train_test_split
from recsys_course.metrics import evaluate
from recsys_course.models import BPR, ImplicitALS
from recsys_course.warmup import numba_dispatchers
assert recsys_course.__file__.startswith(sys.argv[1]), recsys_course.__file__
rng = np.random.default_rng(0)
import scipy.sparse as sp
dense = (rng.random((300, 200)) < 0.05) * rng.integers(1, 5, size=(300, 200))
dense[np.arange(300), np.arange(300) % 200] += 1
train, test = train_test_split(sp.csr_matrix(dense.astype(float)), random_state=0)
def twice(call):
    start = time.perf_counter(); call(); first = time.perf_counter() - start
    start = time.perf_counter(); call(); second = time.perf_counter() - start
    return first - second
out = {
    "ALS fit": twice(lambda: ImplicitALS(factors=16, iterations=2, random_state=0, progress=False).fit(train)),
    "BPR fit": twice(lambda: BPR(factors=16, epochs=2, random_state=0).fit(train)),
}
model = ImplicitALS(factors=16, iterations=2, random_state=0, progress=False).fit(train)
out["evaluate"] = twice(lambda: evaluate(model, train, test, k=10))
out["compiled"] = sum(sum(d.stats.cache_misses.values()) for d in numba_dispatchers())
print(json.dumps(out))
"""

_LAYER_RUN = r"""
import json, os, sys, time
import numpy as np
from threadpoolctl import threadpool_limits
import numba
from recsys_course.metrics import evaluate
from recsys_course.models import BPR, ImplicitALS
quick = sys.argv[1] == "quick"
if quick:
    import scipy.sparse as sp
    rng = np.random.default_rng(0)
    counts = sp.random(2000, 1000, density=0.02, random_state=0, format="csr") * 5
    counts.data = np.ceil(counts.data)
else:
    from recsys_course.data import load_movielens_1m
    counts = load_movielens_1m().counts
from recsys_course.data import train_test_split
train, test = train_test_split(counts, random_state=0)
def best(call, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter(); call(); times.append(time.perf_counter() - start)
    return min(times)
with threadpool_limits(1):
    als = ImplicitALS(factors=64, iterations=5, alpha=1.0, regularization=1.0, random_state=0, progress=False)
    als.fit(train)  # warm: loads the cached kernels
    out = {"ALS fit, 5 it.": best(lambda: als.fit(train), 2)}
    bpr = BPR(factors=64, epochs=5, random_state=0)
    bpr.fit(train)
    out["BPR fit, 5 epochs"] = best(lambda: bpr.fit(train), 2)
    evaluate(als, train, test, k=10)
    out["evaluate, 8 metrics"] = best(lambda: evaluate(als, train, test, k=10), 3)
out["layer"] = numba.threading_layer()
print(json.dumps(out))
"""


def _run(code: str, args: list[str], env: dict[str, str], cwd: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def fresh_clone(target: Path) -> Path:
    """The committed repository, cloned: no numba cache, no build artefacts."""
    clone = target / "clone"
    if shutil.which("git") and (REPO / ".git").exists():
        subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    else:  # a source tree without git: copy the package only
        shutil.copytree(REPO / "recsys_course", clone / "recsys_course",
                        ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"))
    return clone


def first_call_costs() -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-warmup-") as tmp:
        clone = fresh_clone(Path(tmp))
        env = dict(os.environ, PYTHONPATH=str(clone))
        env.pop("NUMBA_CACHE_DIR", None)  # the cache goes beside the clone's modules, as for a learner
        cold = _run(_FIRST_CALLS, [str(clone)], env, clone)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "recsys_course.cli", "warmup"], env=env, cwd=clone, check=True,
                       capture_output=True)
        warmup_seconds = time.perf_counter() - start
        warm = _run(_FIRST_CALLS, [str(clone)], env, clone)
    for name in ("ALS fit", "BPR fit", "evaluate"):
        rows.append({"call": name, "cold_s": cold[name], "warmed_s": warm[name]})
    total = sum(row["warmed_s"] for row in rows)
    rows.append({"call": "total", "cold_s": sum(r["cold_s"] for r in rows), "warmed_s": total,
                 "target_s": TARGET_SECONDS, "met": total <= TARGET_SECONDS,
                 "compiled_cold": cold["compiled"], "compiled_warmed": warm["compiled"],
                 "warmup_s": warmup_seconds})
    return rows


def layers_available() -> list[str]:
    found = []
    for layer in ("omp", "workqueue", "tbb"):
        probe = ("import numba, numpy as np\n"
                 "@numba.njit(parallel=True)\n"
                 "def f(a):\n"
                 "    s = 0.0\n"
                 "    for i in numba.prange(a.size): s += a[i]\n"
                 "    return s\n"
                 "f(np.ones(10)); print(numba.threading_layer())")
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                              env=dict(os.environ, NUMBA_THREADING_LAYER=layer))
        if done.returncode == 0 and done.stdout.strip() == layer:
            found.append(layer)
    return found


def layer_table(quick: bool) -> list[dict]:
    rows = []
    for layer in layers_available():
        env = dict(os.environ, NUMBA_THREADING_LAYER=layer, OPENBLAS_NUM_THREADS="1")
        result = _run(_LAYER_RUN, ["quick" if quick else "full"], env, REPO)
        rows.append(result)
    return rows


def run(args: argparse.Namespace) -> int:
    print("First-call cost (first call minus a repeat, seconds) in a fresh clone, each in a fresh process")
    costs = first_call_costs()
    print(f"{'call':<10} {'cold':>8} {'warmed':>8}")
    for row in costs:
        print(f"{row['call']:<10} {row['cold_s']:>8.2f} {row['warmed_s']:>8.2f}")
    total = costs[-1]
    print(f"after warm-up: {total['warmed_s']:.2f} s in total (target <= {TARGET_SECONDS:.0f} s: "
          f"{'met' if total['met'] else 'NOT met'}); kernels compiled cold {total['compiled_cold']}, "
          f"after warm-up {total['compiled_warmed']}; the warm-up itself took {total['warmup_s']:.1f} s")
    print("\nnumba threading layers (best of repeats, seconds; BLAS on one thread; "
          + ("synthetic 2,000 x 1,000" if args.quick else "MovieLens 1M") + ")")
    layers = layer_table(args.quick)
    names = ["ALS fit, 5 it.", "BPR fit, 5 epochs", "evaluate, 8 metrics"]
    print(f"{'layer':<10} " + " ".join(f"{n:>20}" for n in names))
    for row in layers:
        print(f"{row['layer']:<10} " + " ".join(f"{row[n]:>20.3f}" for n in names))
    targets = [
        target_record("first ALS + BPR + evaluate call after warm-up, fresh clone (first call minus a "
                      "repeat, summed)", total["warmed_s"], None, TARGET_SECONDS, "s", absolute=True),
        target_record("the same with an empty numba cache (no warm-up)", total["cold_s"], None, None, "s"),
    ]
    print()
    print_targets(targets)
    write_results("warmup", args.quick, {"first_call": costs, "threading_layers": layers,
                                         "targets": targets},
                  output=args.output)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small synthetic data for the layer table")
    add_threading_layer_option(parser)
    add_output_option(parser, "warmup")
    args, _ = parser.parse_known_args(argv)
    return run_with_settings(args, run)


if __name__ == "__main__":
    sys.exit(main())
