"""Implicit ALS: recsys_course.models.ImplicitALS against implicit's AlternatingLeastSquares.

Both libraries solve the same problem: confidence c_ui = 1 + alpha r_ui with alpha = 40,
the plain lambda of Hu, Koren and Volinsky, the same factors and iterations. `implicit`
multiplies the stored values by its own alpha, so it gets the matrix 1 + 40 r with
alpha = 1.0. BLAS is held to one thread for both (OPENBLAS_NUM_THREADS=1 in every child).

Every measurement runs in a fresh child process, so peak memory (ru_maxrss) belongs to one
library and one fit. Printed: seconds per iteration (best of ``--iterations``, after a
warm-up that loads our numba kernels), the ratio ours / implicit, peak RSS, the numba
compile time in a first process (empty cache) and a second one (cache warm), and NDCG@10
of both on the same held-out split (``recsys_course.metrics.evaluate``).

    python benchmarks/bench_als.py                     # MovieLens 1M + synthetic (10M non-zeros)
    python benchmarks/bench_als.py --synthetic-nnz 3000000 --iterations 2
    python benchmarks/bench_als.py --quick             # small synthetic only, a few seconds
"""

from __future__ import annotations

import argparse
import json
import os
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
TARGETS = {"cg": 0.8, "cholesky": 0.5}


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
            nnz = args.synthetic_nnz
            counts = long_tail_matrix(max(nnz // 50, 100), max(nnz // 200, 50), nnz, random_state=0)
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


def _implicit_model(task):
    from implicit.cpu.als import AlternatingLeastSquares

    return AlternatingLeastSquares(
        factors=task["factors"], regularization=REGULARIZATION, alpha=1.0, use_cg=task["solver"] == "cg",
        iterations=task["iterations"], calculate_training_loss=False,
        num_threads=task["threads"] or (os.cpu_count() or 1),
        random_state=0,
    )


def _implicit_input(counts):
    import numpy as np

    conf = counts.copy().astype(np.float32)
    conf.data = (1.0 + ALPHA * counts.data).astype(np.float32)
    return conf


def _fit(task, counts):
    """Fit one library; returns (model-like object with factors, seconds per iteration list)."""
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
            model.fit(_implicit_input(counts), show_progress=False,
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
    """One measurement: 'time' (seconds per iteration), 'ndcg' or 'compile'."""
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
        _warm_up(task)
        _, seconds = _fit(task, counts)
        return {"seconds_per_iteration": float(min(seconds)), "peak_mb": _peak_mb()}
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
    parser.add_argument("--synthetic-nnz", type=int, default=10_000_000, help="draws of the synthetic matrix")
    parser.add_argument("--factors", default="64,128")
    parser.add_argument("--solvers", default="cg,cholesky")
    parser.add_argument("--threads", default="1,all", help="comma list of thread counts; 'all' = every core")
    parser.add_argument("--iterations", type=int, default=3, help="timed iterations (best one reported)")
    parser.add_argument("--ndcg-iterations", type=int, default=15)
    parser.add_argument("--ndcg-solvers", default="cg,cholesky")
    parser.add_argument("--ndcg-datasets", default=None, help="default: the same as --datasets")
    parser.add_argument("--eval-users", type=int, default=5000, help="users sampled for NDCG@10")
    parser.add_argument("--no-compile", action="store_true", help="skip the compile-time measurement")
    parser.add_argument("--no-timing", action="store_true", help="skip the seconds-per-iteration table")
    parser.add_argument("--no-implicit", action="store_true", help="time ours only")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.datasets = "synthetic"
        args.synthetic_nnz = min(args.synthetic_nnz, 40_000)
        args.factors, args.threads, args.iterations, args.ndcg_iterations = "16", "1", 2, 3
        args.no_compile = True
    args.datasets = [d for d in args.datasets.split(",") if d]
    args.ndcg_datasets = args.datasets if args.ndcg_datasets is None else [
        d for d in args.ndcg_datasets.split(",") if d]
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
    print(f"# bench_als: alpha={ALPHA}, lambda={REGULARIZATION}, {cores} cores, "
          f"{'in-process' if in_process else 'one child process per measurement'}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench_als_") as tmp:
        folder = Path(tmp)
        want_ndcg = args.ndcg_iterations > 0 and bool(args.ndcg_solvers)
        needed = sorted(set(([] if args.no_timing else args.datasets) + (args.ndcg_datasets if want_ndcg else [])))
        paths = prepare_data(argparse.Namespace(datasets=needed, synthetic_nnz=args.synthetic_nnz), folder)
        header = (f"{'data':<10} {'f':>4} {'solver':<9} {'threads':>7} {'ours s/it':>10} {'impl s/it':>10} "
                  f"{'ratio':>6} {'target':>6} {'ours MB':>8} {'impl MB':>8}")
        if not args.no_timing:
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
                                    "iterations": args.iterations}
                            result[library] = run_child(task, in_process=in_process)
                        ours = result["ours"]["seconds_per_iteration"]
                        theirs = result.get("implicit", {}).get("seconds_per_iteration")
                        ratio = None if theirs is None else ours / theirs
                        met = ratio is not None and ratio <= TARGETS[solver]
                        rows_ok &= met or ratio is None
                        label = "all" if threads == 0 else str(threads)
                        peak_ours = None if in_process else result["ours"]["peak_mb"]
                        peak_theirs = None if in_process or theirs is None else result["implicit"]["peak_mb"]
                        print(f"{name:<10} {factors:>4} {solver:<9} {label:>7} {ours:>10.3f} "
                              f"{_fmt(theirs, '>10.3f')} {_fmt(ratio, '>6.2f')} {TARGETS[solver]:>6.2f} "
                              f"{_fmt(peak_ours, '>8.0f')} {_fmt(peak_theirs, '>8.0f')}"
                              f"{'' if met or ratio is None else '  MISSED'}", flush=True)
        if not args.no_compile:
            with tempfile.TemporaryDirectory(prefix="numba_cache_") as cache:
                env = {"NUMBA_CACHE_DIR": cache}
                first = run_child({"kind": "compile"}, extra_env=env)["seconds"]
                second = run_child({"kind": "compile"}, extra_env=env)["seconds"]
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
    print(f"\n# total {time.perf_counter() - started:.0f} s; "
          f"{'every timed row met its target' if rows_ok else 'some rows MISSED their target'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
