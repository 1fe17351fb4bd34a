"""Implicit ALS: recsys_course.models.ImplicitALS against implicit's AlternatingLeastSquares.

Both libraries solve the same problem: confidence c_ui = 1 + alpha r_ui with alpha = 40,
the plain lambda of Hu, Koren and Volinsky, the same factors and iterations. `implicit`
multiplies the stored values by its own alpha, so it gets the matrix 1 + 40 r with
alpha = 1.0. BLAS is held to one thread for both (OPENBLAS_NUM_THREADS=1 in every child).

Every measurement runs in a fresh child process, so memory belongs to one library and one
fit. Printed per row (issue 11, targets 1-3):

* seconds per iteration (best of ``--iterations``, after a warm-up that loads our numba kernels)
  and the ratio ours / implicit;
* the fixed cost of ``fit`` outside the iterations (wall time of ``fit`` minus the sum of its
  iteration times: validation, confidence, transposes, random start);
* the peak memory growth of that one fit: the peak RSS during ``fit`` (VmHWM, reset just
  before) minus the RSS before it. implicit is counted with the confidence matrix it is handed
  (its data, indices and indptr are added), since ours is handed the raw counts;
* the memory of a process after ``import`` and a tiny warm fit (the import footprint);
* the Cholesky path's float32 GFLOP/s and its share of the machine's float32 peak, estimated
  from lscpu (cores x GHz x FLOPs per cycle for the SIMD width in the CPU flags);
* NDCG@10 of both on the same held-out split (``recsys_course.metrics.evaluate``), and the numba
  compile time in a first process (empty cache) and a second one (cache warm).

Everything is also written to ``benchmarks/results/als.json`` (``als_quick.json`` with
``--quick``, the path given with ``--output``: use it for partial runs like the second example,
so that the committed record stays whole), with a top-level ``targets`` list that ``make bench``
prints as one table.

    python benchmarks/bench_als.py                     # MovieLens 1M + 100k x 50k synthetic (7.3M non-zeros)
    python benchmarks/bench_als.py --datasets synthetic --solvers cg --ndcg-iterations 0 --no-compile \
        --output /tmp/als_cg.json
    python benchmarks/bench_als.py --quick             # small synthetic only, a few seconds
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD_ENV = {"OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
# not OMP_NUM_THREADS: implicit's own threads are OpenMP, and OMP_NUM_THREADS=1 (which
# benchmarks/run_all.py sets) would quietly hold its "all threads" rows to one thread
ALPHA = 40.0
REGULARIZATION = 0.01
TARGETS = {"cg": 0.5, "cholesky": 0.2}  # seconds per iteration, ours / implicit (issue 11, target 1)
SETUP_TARGET = 1.0  # fixed cost of fit outside the iterations, ours / implicit (target 2)
MEMORY_TARGET = 1.2  # peak memory growth of one fit, ours / implicit (target 3)
#: the synthetic matrix of issue 11: 100,000 users x 50,000 items from 8.5M long-tail draws
#: (7.3M stored entries once repeated pairs add up)
SYNTHETIC_DRAWS = 8_500_000
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import add_output_option, target_record, write_results  # noqa: E402


# ------------------------------------------------------------------------------ data
def long_tail_matrix(n_users: int, n_items: int, nnz: int, random_state: int = 0):
    """A users x items count matrix with Zipf-like item popularity and lognormal user activity.

    About ``nnz`` draws of (user, item); repeated pairs add up into counts, so the number of
    stored entries is a little below ``nnz``.
    """
    import numpy as np
    import scipy.sparse as sp

    rng = np.random.default_rng(random_state)
    popularity = 1.0 / np.arange(1, n_items + 1) ** 0.9
    popularity = rng.permutation(popularity / popularity.sum())
    activity = rng.lognormal(0.0, 1.0, n_users)
    activity /= activity.sum()
    users = rng.choice(n_users, size=nnz, p=activity).astype(np.int32)
    items = rng.choice(n_items, size=nnz, p=popularity).astype(np.int32)
    counts = sp.csr_matrix((np.ones(nnz), (users, items)), shape=(n_users, n_items))
    counts.sum_duplicates()
    return counts


def _save(path: Path, counts) -> None:
    import scipy.sparse as sp

    sp.save_npz(path, counts.tocsr(), compressed=False)


def prepare_data(args, folder: Path) -> dict[str, Path]:
    """Write every data set as .npz once; children load it in milliseconds."""
    import numpy as np

    paths = {}
    for name in args.datasets:
        path = folder / f"{name}.npz"
        if name == "ml1m":
            from recsys_course.data import load_movielens_1m

            counts = load_movielens_1m().counts.copy()
            counts.data = np.ones_like(counts.data)  # a rating = one interaction
        else:
            draws = args.synthetic_nnz  # 8.5M draws: 100,000 x 50,000
            counts = long_tail_matrix(max(draws // 85, 100), max(draws // 170, 50), draws, random_state=0)
        _save(path, counts)
        paths[name] = path
        print(f"# {name}: {counts.shape[0]:,} users x {counts.shape[1]:,} items, {counts.nnz:,} non-zeros",
              flush=True)
    return paths


# --------------------------------------------------------------------------- workers
def _peak_mb() -> float:
    """Peak resident memory of this process (VmHWM; ru_maxrss would carry the parent's over exec)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _rss_mb() -> float:
    """Resident memory of this process now (VmRSS), in MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return float(line.split()[1]) / 1024.0
    return float("nan")


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def _prefault(megabytes: int) -> None:
    """Touch and free ``megabytes`` of fresh memory once, before anything is timed.

    On a virtual machine the first touch of memory the host has not backed yet costs about
    6 ms per MiB (measured here: 233 MiB took 1.4 s the first time, 0.07 s the second); which
    process meets it first is luck. Both libraries get the same warm memory this way, so the
    set-up times measure work, not the hypervisor.
    """
    import numpy as np

    if megabytes > 0:
        block = np.ones(megabytes * 2**20 // 8)
        del block


def _implicit_model(task):
    from implicit.cpu.als import AlternatingLeastSquares

    return AlternatingLeastSquares(
        factors=task["factors"], regularization=REGULARIZATION, alpha=1.0, use_cg=task["solver"] == "cg",
        iterations=task["iterations"], calculate_training_loss=False,
        num_threads=task["threads"] or (os.cpu_count() or 1),
        random_state=0,
    )


def _implicit_input(counts):
    """The float32 confidence matrix 1 + alpha r that implicit is handed (a copy of the structure)."""
    import numpy as np
    import scipy.sparse as sp

    data = np.empty(counts.nnz, dtype=np.float32)
    for start in range(0, counts.nnz, 1 << 20):  # no float64 copy of the whole data at once
        data[start:start + (1 << 20)] = 1.0 + ALPHA * counts.data[start:start + (1 << 20)]
    return sp.csr_matrix((data, counts.indices.copy(), counts.indptr.copy()), shape=counts.shape)


def _fit(task, counts, handed=None):
    """Fit one library; returns (model-like object with factors, seconds per iteration list).

    ``handed``: implicit's confidence matrix, built by the caller (so it can be measured).
    """
    if task["library"] == "ours":
        from recsys_course.models import ImplicitALS

        model = ImplicitALS(factors=task["factors"], regularization=REGULARIZATION, alpha=ALPHA,
                            iterations=task["iterations"], solver=task["solver"], random_state=0,
                            num_threads=task["threads"], progress=False, compute_loss=False)
        model.fit(counts)
        return model, list(model.iteration_seconds)
    from threadpoolctl import threadpool_limits

    seconds: list[float] = []
    with threadpool_limits(limits=1, user_api="blas"):  # implicit checks BLAS threads when built
        model = _implicit_model(task)
        if task["library"] == "implicit-matched":
            # our starting factors and our order (items, then users): implicit fitted on the
            # transpose solves its "users" (our items) first; then swap the factors back
            import numpy as np

            from recsys_course.models import ImplicitALS

            X0, Y0 = ImplicitALS()._initial_factors(counts.shape[0], counts.shape[1], task["factors"],
                                                    np.dtype(np.float32), np.random.default_rng(0))
            model.user_factors, model.item_factors = Y0, X0
            model.fit(_implicit_input(counts).T.tocsr(), show_progress=False)
            model.user_factors, model.item_factors = model.item_factors, model.user_factors
        else:
            model.fit(_implicit_input(counts) if handed is None else handed, show_progress=False,
                      callback=lambda iteration, elapsed, loss: seconds.append(elapsed))
    return model, seconds


def _warm_up(task):
    """Load (or compile) our kernels on a tiny matrix so the timed fit measures arithmetic only."""
    if task["library"] != "ours":
        return
    import numpy as np
    import scipy.sparse as sp

    from recsys_course.models import ImplicitALS

    tiny = sp.random(400, 300, density=0.1, random_state=0, format="csr")
    tiny.data = np.ceil(tiny.data * 3)
    ImplicitALS(factors=task["factors"], iterations=1, solver=task["solver"], num_threads=task["threads"],
                progress=False, random_state=0).fit(tiny)


def run_task(task: dict) -> dict:
    """One measurement: 'time' (seconds per iteration, set-up, memory), 'ndcg', 'import' or 'compile'."""
    if task["kind"] == "import":
        return _import_footprint(task)
    import numpy as np

    if task["kind"] == "compile":
        start = time.perf_counter()
        import scipy.sparse as sp

        from recsys_course.models import ImplicitALS

        tiny = sp.random(60, 30, density=0.2, random_state=0, format="csr")
        for solver in ("cholesky", "cg"):
            model = ImplicitALS(factors=8, iterations=2, solver=solver, progress=False, random_state=0).fit(tiny)
            model.recommend(0, k=5)
        return {"seconds": time.perf_counter() - start}
    import scipy.sparse as sp

    counts = sp.load_npz(task["data"]).tocsr()
    if task["kind"] == "time":
        _prefault(task.get("prefault_mb", 1024))
        _warm_up(task)
        handed, handed_mb = None, 0.0
        if task["library"] != "ours":  # implicit's input is built before the fit and counted in its memory
            handed = _implicit_input(counts)
            handed_mb = (handed.data.nbytes + handed.indices.nbytes + handed.indptr.nbytes) / 2**20
        gc.collect()
        before = _rss_mb()
        reset = _reset_peak()
        start = time.perf_counter()
        _, seconds = _fit(task, counts, handed)
        total = time.perf_counter() - start
        peak = _peak_mb()
        return {"seconds_per_iteration": float(min(seconds)), "peak_mb": peak,
                "setup_seconds": total - float(sum(seconds)),
                "growth_mb": (peak - before + handed_mb) if reset else None, "handed_mb": handed_mb,
                "nnz": int(counts.nnz), "shape": list(counts.shape)}
    # ndcg: both libraries on the same split, judged by the same code
    from recsys_course.data import train_test_split
    from recsys_course.metrics import evaluate
    from recsys_course.models import FactorModelBase

    train, test = train_test_split(counts, test_fraction=0.2, random_state=0)
    model, _ = _fit(task, train)
    if task["library"] != "ours":  # judge implicit's factors with the very same code
        wrapped = FactorModelBase()
        wrapped._remember_training(train)
        wrapped.user_factors = np.asarray(model.user_factors)
        wrapped.item_factors = np.asarray(model.item_factors)
        wrapped._fitted = True
        model = wrapped
    rng = np.random.default_rng(0)
    users = np.arange(train.shape[0])
    if users.size > task["eval_users"]:
        users = np.sort(rng.choice(users, task["eval_users"], replace=False))
    result = evaluate(model, train, test, k=10, metrics=("ndcg",), users=users)
    return {"ndcg": float(result["ndcg"]), "n_users": int(result["n_users"])}


def _import_footprint(task: dict) -> dict:
    """Memory after importing the library and one tiny warm fit (both solvers), in a fresh process."""
    start = time.perf_counter()
    import numpy as np
    import scipy.sparse as sp

    tiny = sp.random(400, 300, density=0.1, random_state=0, format="csr")
    tiny.data = np.ceil(tiny.data * 3)
    if task["library"] == "ours":
        import recsys_course  # noqa: F401
        from recsys_course.models import ImplicitALS

        after_import = _rss_mb()
        for solver in ("cg", "cholesky"):
            ImplicitALS(factors=16, iterations=1, solver=solver, progress=False, random_state=0).fit(tiny)
    else:
        from threadpoolctl import threadpool_limits

        from implicit.cpu.als import AlternatingLeastSquares

        after_import = _rss_mb()
        with threadpool_limits(limits=1, user_api="blas"):
            for use_cg in (True, False):
                AlternatingLeastSquares(factors=16, iterations=1, use_cg=use_cg, random_state=0).fit(
                    tiny.astype(np.float32), show_progress=False)
    heavy = sorted(m for m in ("pandas", "matplotlib", "ipywidgets", "sklearn", "IPython", "tqdm", "numba")
                   if m in sys.modules)
    return {"import_mb": after_import, "after_fit_mb": _rss_mb(), "seconds": time.perf_counter() - start,
            "modules": len(sys.modules), "heavy_modules": heavy}


def run_child(task: dict, extra_env: dict | None = None, in_process: bool = False) -> dict:
    if in_process:
        return run_task(task)
    env = dict(os.environ, **CHILD_ENV, **(extra_env or {}))
    env.pop("OMP_NUM_THREADS", None)
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(task)],
                          env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child failed for {task}:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------ main
def _threads(value: str) -> int:
    return 0 if value == "all" else int(value)


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small synthetic data, in-process: a smoke test")
    parser.add_argument("--datasets", default="ml1m,synthetic", help="comma list of ml1m, synthetic")
    parser.add_argument("--synthetic-nnz", type=int, default=SYNTHETIC_DRAWS,
                        help="draws of the synthetic matrix (users = draws/85, items = draws/170)")
    parser.add_argument("--factors", default="64")
    parser.add_argument("--solvers", default="cg,cholesky")
    parser.add_argument("--threads", default="all", help="comma list of thread counts; 'all' = every core")
    parser.add_argument("--iterations", type=int, default=5,
                        help="timed iterations (best one reported; 3 moved the 7.3M-nnz CG ratio between 0.35 and 0.63 on one quiet machine)")
    parser.add_argument("--ndcg-iterations", type=int, default=15)
    parser.add_argument("--ndcg-solvers", default="cg,cholesky")
    parser.add_argument("--ndcg-datasets", default="ml1m", help="default: MovieLens 1M")
    parser.add_argument("--eval-users", type=int, default=5000, help="users sampled for NDCG@10")
    parser.add_argument("--no-compile", action="store_true", help="skip the compile-time measurement")
    parser.add_argument("--no-timing", action="store_true", help="skip the seconds-per-iteration table")
    parser.add_argument("--no-implicit", action="store_true", help="time ours only")
    add_output_option(parser, "als")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.datasets = args.ndcg_datasets = "synthetic"
        args.synthetic_nnz = min(args.synthetic_nnz, 40_000)
        args.factors, args.threads, args.iterations, args.ndcg_iterations = "16", "1", 2, 3
        args.no_compile = True
    args.datasets = [d for d in args.datasets.split(",") if d]
    args.ndcg_datasets = [d for d in args.ndcg_datasets.split(",") if d]
    for name in set(args.datasets) | set(args.ndcg_datasets):
        if name not in ("ml1m", "synthetic"):
            parser.error(f"unknown data set {name!r}: use ml1m or synthetic")
    args.factors = [int(f) for f in args.factors.split(",")]
    args.solvers = args.solvers.split(",")
    args.ndcg_solvers = [s for s in args.ndcg_solvers.split(",") if s]
    args.threads = [_threads(t) for t in args.threads.split(",")]
    return args


def _fmt(value, spec):
    return format("-", spec.replace(".3f", "").replace(".2f", "").replace(".0f", "").replace(".4f", "").replace("+", "")) \
        if value is None else format(value, spec)


# ------------------------------------------------------------------- machine peak
def float32_peak() -> dict:
    """The machine's float32 peak from lscpu: cores x GHz x FLOPs per cycle, and how it was estimated.

    FLOPs per cycle per core = float32 lanes of the widest SIMD unit in the CPU flags x 2 (a fused
    multiply-add is two FLOPs; without FMA an add and a multiply issue together) x 2 vector pipes
    (two FMA units per core on recent x86 cores). AMD's Zen 4 (family 25 with avx512f) runs
    AVX-512 on 256-bit units, so it counts as 256 bits wide.
    """
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        text = ""
    fields = {}
    for line in text.splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            fields[key.strip()] = value.strip()
    flags = set(fields.get("Flags", "").split())
    try:
        cores = int(fields["Core(s) per socket"]) * int(fields.get("Socket(s)", "1"))
    except (KeyError, ValueError):
        cores = os.cpu_count() or 1
    mhz, source = None, None
    for key in ("CPU max MHz", "CPU MHz"):
        if fields.get(key):
            mhz, source = float(fields[key]), f"lscpu '{key}'"
            break
    if mhz is None:
        try:
            with open("/proc/cpuinfo") as info:
                mhz = float(re.search(r"cpu MHz\s*:\s*([\d.]+)", info.read()).group(1))
            source = "/proc/cpuinfo 'cpu MHz' (lscpu shows no MHz)"
        except (OSError, AttributeError):
            mhz, source = 2000.0, "a guess of 2 GHz (no clock found)"
    amd_zen4 = fields.get("Vendor ID") == "AuthenticAMD" and fields.get("CPU family") == "25"
    if "avx512f" in flags and not amd_zen4:
        width, simd = 512, "avx512f"
    elif "avx512f" in flags:
        width, simd = 256, "avx512f on AMD family 25 (Zen 4: AVX-512 on 256-bit units)"
    elif "avx2" in flags or "avx" in flags:
        width, simd = 256, "avx2" if "avx2" in flags else "avx"
    else:
        width, simd = 128, "sse"
    fma = "fma" in flags or "avx512f" in flags
    per_cycle = (width // 32) * 2 * 2
    gflops = cores * mhz / 1000.0 * per_cycle
    how = (f"{cores} cores x {mhz / 1000.0:.2f} GHz ({source}) x {per_cycle} float32 FLOPs/cycle "
           f"({width}-bit SIMD from flags: {simd}; {width // 32} lanes x 2 ({'FMA' if fma else 'add + mul'}) "
           f"x 2 vector pipes) = {gflops:.0f} GFLOP/s")
    return {"gflops": gflops, "cores": cores, "ghz": mhz / 1000.0, "flops_per_cycle": per_cycle, "how": how}


def cholesky_flops(stats: dict, factors: int) -> float:
    """FLOPs of one Cholesky iteration as the kernel does them (both half-sweeps).

    Per half-sweep: each gathered factor row updates the upper triangle of the row's matrix by
    register tiles of TILE_ROWS rows, each reaching from its first row's diagonal rounded down
    to LANES up to f rounded up to LANES (``build_entries``: 2304 entries at f = 64 against
    2080 in the triangle), 2 FLOPs an entry, plus the right-hand side (2 n_u f); each row with
    entries a Cholesky factorisation and two triangular solves (f^3/3 + 2 f^2: the useful FLOPs;
    the vector updates also touch up to 7 scratch entries left of each diagonal, not counted);
    Y'Y of the fixed side (2 n f^2).
    """
    f = factors
    total = 0.0
    for rows, fixed in (("items_nonempty", "n_users"), ("users_nonempty", "n_items")):
        total += 2.0 * stats["nnz"] * build_entries(f) + 2.0 * stats["nnz"] * f
        total += stats[rows] * (f ** 3 / 3.0 + 2.0 * f * f) + 2.0 * stats[fixed] * f * f
    return total


def build_entries(f: int) -> int:
    """Entries of a row's matrix that one gathered factor row updates in the float32 kernel."""
    from recsys_course.models._als_kernels import LANES, TILE_ROWS

    n = -(-f // LANES) * LANES
    return sum(TILE_ROWS * (n - i + i % LANES) for i in range(0, n, TILE_ROWS))


def _label(name: str, stats: dict) -> str:
    title = "MovieLens 1M" if name == "ml1m" else "synthetic long tail"
    return f"{title} {stats['n_users']:,} x {stats['n_items']:,}, {stats['nnz'] / 1e6:.2f}M nnz"


def main(argv=None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.worker:
        print(json.dumps(run_task(json.loads(args.worker))))
        return 0
    have_implicit = not args.no_implicit
    if have_implicit:
        try:
            import implicit  # noqa: F401
        except ImportError:
            print("# implicit is not installed (pip install -e '.[bench]'): timing ours only")
            have_implicit = False
    libraries = ["ours", "implicit"] if have_implicit else ["ours"]
    in_process = args.quick
    cores = os.cpu_count() or 1
    started = time.perf_counter()
    load_before = list(os.getloadavg())
    print(f"# bench_als: alpha={ALPHA}, lambda={REGULARIZATION}, {cores} cores, "
          f"{'in-process' if in_process else 'one child process per measurement'}, "
          f"load average {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}", flush=True)
    record: dict = {"benchmark": "als", "alpha": ALPHA, "regularization": REGULARIZATION, "cores": cores,
                    "in_process": in_process, "iterations": args.iterations, "load_average_before": load_before,
                    "rows": [], "ndcg": [], "targets": []}
    with tempfile.TemporaryDirectory(prefix="bench_als_") as tmp:
        folder = Path(tmp)
        want_ndcg = args.ndcg_iterations > 0 and bool(args.ndcg_solvers)
        needed = sorted(set(([] if args.no_timing else args.datasets) + (args.ndcg_datasets if want_ndcg else [])))
        paths = prepare_data(argparse.Namespace(datasets=needed, synthetic_nnz=args.synthetic_nnz), folder)
        stats = {}
        for name, path in paths.items():
            import numpy as np
            import scipy.sparse as sp

            counts = sp.load_npz(path).tocsr()
            stats[name] = {"n_users": counts.shape[0], "n_items": counts.shape[1], "nnz": int(counts.nnz),
                           "users_nonempty": int(np.count_nonzero(np.diff(counts.indptr))),
                           "items_nonempty": int(np.count_nonzero(np.bincount(counts.indices,
                                                                              minlength=counts.shape[1])))}
        record["data"] = {name: {"label": _label(name, s), **s} for name, s in stats.items()}
        header = (f"{'data':<10} {'f':>4} {'solver':<9} {'threads':>7} {'ours s/it':>10} {'impl s/it':>10} "
                  f"{'ratio':>6} {'target':>6} {'ours set-up':>11} {'impl set-up':>11} {'ours +MB':>8} "
                  f"{'impl +MB':>8}")
        if not args.no_timing:
            print("\nseconds per iteration (best of the timed ones); set-up = seconds of fit outside the "
                  "iterations;\n+MB = peak memory growth of that fit (MiB; implicit with the confidence "
                  "matrix it is handed)")
            print("\n" + header + "\n" + "-" * len(header), flush=True)
        rows_ok = True
        for name in ([] if args.no_timing else args.datasets):
            for factors in args.factors:
                for solver in args.solvers:
                    for threads in args.threads:
                        result = {}
                        for library in libraries:
                            task = {"kind": "time", "library": library, "data": str(paths[name]),
                                    "factors": factors, "solver": solver, "threads": threads,
                                    "iterations": args.iterations, "prefault_mb": 0 if in_process else 1024}
                            result[library] = run_child(task, in_process=in_process)
                        ours = result["ours"]["seconds_per_iteration"]
                        theirs = result.get("implicit", {}).get("seconds_per_iteration")
                        ratio = None if theirs is None else ours / theirs
                        met = ratio is not None and ratio <= TARGETS[solver]
                        rows_ok &= met or ratio is None
                        label = "all" if threads == 0 else str(threads)
                        impl = result.get("implicit", {})
                        print(f"{name:<10} {factors:>4} {solver:<9} {label:>7} {ours:>10.3f} "
                              f"{_fmt(theirs, '>10.3f')} {_fmt(ratio, '>6.2f')} {TARGETS[solver]:>6.2f} "
                              f"{result['ours']['setup_seconds']:>11.3f} {_fmt(impl.get('setup_seconds'), '>11.3f')} "
                              f"{_fmt(result['ours']['growth_mb'], '>8.0f')} {_fmt(impl.get('growth_mb'), '>8.0f')}"
                              f"{'' if met or ratio is None else '  MISSED'}", flush=True)
                        record["rows"].append({"data": name, "factors": factors, "solver": solver,
                                               "threads": label, "ours": result["ours"],
                                               "implicit": result.get("implicit"), "ratio": ratio,
                                               "target": TARGETS[solver]})
        footprint = {library: run_child({"kind": "import", "library": library}) for library in libraries}
        record["import"] = footprint
        print(f"\nmemory after import + a tiny warm fit with both solvers (fresh process, MiB): "
              + ", ".join(f"{lib} {v['after_fit_mb']:.0f} (after the import alone {v['import_mb']:.0f})"
                          for lib, v in footprint.items()), flush=True)
        if not args.no_compile:
            with tempfile.TemporaryDirectory(prefix="numba_cache_") as cache:
                env = {"NUMBA_CACHE_DIR": cache}
                first = run_child({"kind": "compile"}, extra_env=env)["seconds"]
                second = run_child({"kind": "compile"}, extra_env=env)["seconds"]
            record["compile"] = {"first_process_seconds": first, "second_process_seconds": second}
            print(f"\nnumba compile (import + tiny fit with both solvers + recommend, fresh cache dir): "
                  f"first process {first:.1f} s, second process {second:.2f} s (target < 2 s)", flush=True)
        if want_ndcg:
            factors = 64 if 64 in args.factors else args.factors[0]
            print(f"\nNDCG@10, 80/20 per-user split (seed 0), {factors} factors, {args.ndcg_iterations} iterations, "
                  f"up to {args.eval_users} users sampled.\n'implicit' starts from its own factors (uniform "
                  f"[0, 0.01)) and updates users first; 'matched' is implicit started from our factors and run "
                  f"in our order (items first), i.e. the same sequence of problems")
            print(f"{'data':<10} {'solver':<9} {'ours':>7} {'implicit':>9} {'diff %':>7} {'matched':>8} {'diff %':>7}")
            for name in args.ndcg_datasets:
                path = paths[name]
                for solver in args.ndcg_solvers:
                    values = {}
                    for library in libraries + (["implicit-matched"] if have_implicit else []):
                        task = {"kind": "ndcg", "library": library, "data": str(path), "factors": factors,
                                "solver": solver, "threads": 0, "iterations": args.ndcg_iterations,
                                "eval_users": args.eval_users}
                        values[library] = run_child(task, in_process=in_process)["ndcg"]
                    theirs, matched = values.get("implicit"), values.get("implicit-matched")
                    diff = None if not theirs else 100.0 * (values["ours"] - theirs) / theirs
                    diff_matched = None if not matched else 100.0 * (values["ours"] - matched) / matched
                    print(f"{name:<10} {solver:<9} {values['ours']:>7.4f} {_fmt(theirs, '>9.4f')} "
                          f"{_fmt(diff, '>+7.1f')} {_fmt(matched, '>8.4f')} {_fmt(diff_matched, '>+7.1f')}", flush=True)
                    record["ndcg"].append({"data": name, "solver": solver, "factors": factors,
                                           "iterations": args.ndcg_iterations, **values})
    record["targets"] = _targets(record, stats)
    record["peak"] = peak = float32_peak()
    gflops = [t for t in record["targets"] if t["unit"] == "GFLOP/s"]
    if gflops:
        g = gflops[0]
        print(f"\nCholesky float32 rate on {g['measure'].split(': ', 1)[1]}: ours {g['ours']:.1f} GFLOP/s"
              + ("" if g["implicit"] is None else f", implicit {g['implicit']:.1f} GFLOP/s")
              + f" ({cholesky_flops.__doc__.splitlines()[0].rstrip('.')}); machine float32 peak "
              f"{peak['gflops']:.0f} GFLOP/s: {peak['how']}; share of peak: ours {g['ours'] / peak['gflops']:.1%}"
              + ("" if g["implicit"] is None else f", implicit {g['implicit'] / peak['gflops']:.1%}"))
        record["targets"].append(target_record(
            f"ALS Cholesky float32 share of the machine's float32 peak ({peak['gflops']:.0f} GFLOP/s, "
            f"estimated from lscpu): {g['measure'].split(': ', 1)[1]}", g["ours"] / peak["gflops"],
            None if g["implicit"] is None else g["implicit"] / peak["gflops"], None, "fraction of peak"))
    record["load_average_after"] = list(os.getloadavg())
    record["seconds"] = time.perf_counter() - started
    print("\ntargets (issue 11): measure | ours | implicit | ratio | target | met")
    for t in record["targets"]:
        print(f"  {t['measure']} | {_fmt(t['ours'], '.4g')} {t['unit']} | {_fmt(t['implicit'], '.4g')} | "
              f"{_fmt(t['ratio'], '.3f')} | {t['target']} | {'met' if t['met'] else 'NOT met'}")
    write_results("als", args.quick, record, output=args.output)
    after = record["load_average_after"]
    print(f"\n# total {record['seconds']:.0f} s; load average at the end {after[0]:.2f} {after[1]:.2f} {after[2]:.2f}; "
          f"{'every timed row met its target' if rows_ok else 'some rows MISSED their target'}")
    return 0


def _targets(record: dict, stats: dict) -> list[dict]:
    """The ``targets`` records of issue 11 (targets 1-3 and the figures to report) from the measurements."""
    out = []
    for row in record["rows"]:
        label = _label(row["data"], stats[row["data"]])
        impl = row["implicit"] or {}
        out.append(target_record(f"ALS {row['solver']} seconds per iteration, f={row['factors']}, threads "
                                 f"{row['threads']}: {label}", row["ours"]["seconds_per_iteration"],
                                 impl.get("seconds_per_iteration"), TARGETS[row["solver"]], "s"))
    # set-up and memory: the largest matrix, CG, the first factors and thread setting timed
    cg_rows = [r for r in record["rows"] if r["solver"] == "cg"] or record["rows"]
    if cg_rows:
        largest = max(stats[r["data"]]["nnz"] for r in cg_rows)
        row = [r for r in cg_rows if stats[r["data"]]["nnz"] == largest][0]
        label = _label(row["data"], stats[row["data"]])
        impl = row["implicit"] or {}
        what = f"{row['solver']}, f={row['factors']}, threads {row['threads']}: {label}"
        out.append(target_record(f"ALS fit set-up outside the iterations, {what}", row["ours"]["setup_seconds"],
                                 impl.get("setup_seconds"), SETUP_TARGET, "s"))
        out.append(target_record(f"ALS fit peak memory growth (implicit with the confidence matrix it is "
                                 f"handed), {what}",
                                 row["ours"]["growth_mb"], impl.get("growth_mb"), MEMORY_TARGET, "MiB"))
    chol = [r for r in record["rows"] if r["solver"] == "cholesky"]
    if chol:
        largest = max(stats[r["data"]]["nnz"] for r in chol)
        row = [r for r in chol if stats[r["data"]]["nnz"] == largest][0]
        flops = cholesky_flops(stats[row["data"]], row["factors"])
        impl = row["implicit"] or {}
        theirs = impl.get("seconds_per_iteration")
        out.append(target_record(f"ALS Cholesky float32 GFLOP/s (kernel's FLOPs / best iteration), f={row['factors']}, "
                                 f"threads {row['threads']}: {_label(row['data'], stats[row['data']])}",
                                 flops / row["ours"]["seconds_per_iteration"] / 1e9,
                                 None if not theirs else flops / theirs / 1e9, None, "GFLOP/s"))
    footprint = record.get("import", {})
    if "ours" in footprint:
        out.append(target_record("memory after import + a tiny warm fit with both solvers (fresh process)",
                                 footprint["ours"]["after_fit_mb"],
                                 footprint.get("implicit", {}).get("after_fit_mb"), None, "MiB"))
    for entry in record["ndcg"]:
        if "implicit-matched" in entry:
            out.append(target_record(f"ALS {entry['solver']} NDCG@10 vs implicit from our start and order "
                                     f"({entry['iterations']} iterations): "
                                     f"{_label(entry['data'], stats[entry['data']])}",
                                     entry["ours"], entry["implicit-matched"], None, "NDCG@10"))
    return out


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
