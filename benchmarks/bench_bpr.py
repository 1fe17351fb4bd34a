"""BPR: recsys_course.models.BPR against implicit's BayesianPersonalizedRanking.

Speed: samples (SGD steps) per second on MovieLens 1M as implicit feedback (every rating
one interaction, per-user 20% holdout), 64 factors, verified negatives in both, one
thread and all threads. An epoch is one step per stored interaction in both libraries.
Best of ``--repeats`` fits of ``--epochs`` epochs, after a warm-up fit that loads our
numba kernels. Both of our schedules are timed: ``schedule="strata"`` (the default;
DSGD-style blocks, the same bits for any thread count), with the targets >= 1.5x implicit at
one thread and >= 1.25x at all threads, and ``schedule="hogwild"`` (lock-free), reported.

Quality: NDCG@10 (binary relevance, ``recsys_course.metrics.evaluate`` for both) on a
per-user 20% holdout of MovieLens 100K (as implicit) and of the Instacart sample, at
matched settings: 64 factors, the same learning rate, lambda and epochs, verified
negatives. Each library keeps its own negative sampler (ours: uniform; implicit: the item
of a random interaction, i.e. popularity); a row of ours with popularity sampling is added.

Schedules: NDCG@10 of ``schedule="strata"`` against ``"hogwild"`` (both with all threads,
uniform negatives, the same epochs), median over random_state 0 .. 19 (``--schedule-seeds``;
mean and standard deviation are printed too), on the same two holdouts. Target: strata's
median at most 2% below hogwild's. Issue 11 asked for the median of 3 seeds; it is reported
too, but one seed's NDCG@10 moves by about 2% on Instacart (593 users), so 3 seeds cannot
tell a 2% loss from luck and the target is judged on 20.

The numbers are also written to ``benchmarks/results/bpr.json`` (``bpr_quick.json``), with a
top-level ``targets`` list (issue 11, target 4) that ``make bench`` prints in its summary table.

    python benchmarks/bench_bpr.py            # MovieLens 1M speed, ML-100K + Instacart quality
    python benchmarks/bench_bpr.py --quick    # small synthetic data, a few seconds
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # not OMP_NUM_THREADS: it caps implicit's own threads
    os.environ.setdefault(_var, "1")

STRATA_TARGETS = {"one thread": 1.5, "all threads": 1.25}  # strata samples/s over implicit's
QUALITY_TOLERANCE = 0.02  # strata's median NDCG@10 at most this much (relative) below hogwild's

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (add_output_option, add_threading_layer_option,  # noqa: E402
                     print_targets, run_with_settings, target_record, write_results)


class _Factors:
    """implicit's factors (bias folded in as an extra column) behind evaluate()'s interface."""

    def __init__(self, model):
        import numpy as np

        self.user_factors = np.asarray(model.user_factors)
        self.item_factors = np.asarray(model.item_factors)
        self.n_users, self.n_items = self.user_factors.shape[0], self.item_factors.shape[0]

    def score(self, users):
        return self.user_factors[users] @ self.item_factors.T


def _binary_split(counts):
    import numpy as np

    from recsys_course.data import train_test_split

    counts = counts.copy()
    counts.data = np.ones_like(counts.data)
    train, test = train_test_split(counts, test_fraction=0.2, random_state=0)
    return train.tocsr(), test.tocsr()


def _implicit_bpr(factors, learning_rate, regularization, epochs, threads, seed=0):
    from implicit.cpu.bpr import BayesianPersonalizedRanking

    return BayesianPersonalizedRanking(factors=factors, learning_rate=learning_rate,
                                       regularization=regularization, iterations=epochs,
                                       verify_negative_samples=True, num_threads=threads,
                                       random_state=seed)


def speed(train, args, threads: int) -> dict[str, float]:
    """Best samples/s over the repeats, per wall second and per CPU second (summed over
    threads; less sensitive to other processes on a shared machine)."""
    import numpy as np

    from recsys_course.models import BPR

    X = train.astype(np.float32)
    for schedule in ("hogwild", "strata"):
        BPR(factors=args.factors, epochs=1, num_threads=threads, schedule=schedule,
            random_state=0).fit(train)
    samples = train.nnz * args.epochs
    best = {"ours": 0.0, "theirs": 0.0, "ours_cpu": 0.0, "theirs_cpu": 0.0, "strata": 0.0,
            "strata_cpu": 0.0}
    for repeat in range(args.repeats):
        # whole fits, set-up included (strata's per-epoch cut is inside its epochs anyway)
        for key, schedule in (("ours", "hogwild"), ("strata", "strata")):
            start, start_cpu = time.perf_counter(), time.process_time()
            BPR(factors=args.factors, epochs=args.epochs, num_threads=threads, schedule=schedule,
                random_state=repeat).fit(train)
            best[key] = max(best[key], samples / (time.perf_counter() - start))
            best[f"{key}_cpu"] = max(best[f"{key}_cpu"],
                                     samples / (time.process_time() - start_cpu))
        theirs = _implicit_bpr(args.factors, 0.01, 0.01, args.epochs, threads, seed=repeat)
        start, start_cpu = time.perf_counter(), time.process_time()
        theirs.fit(X, show_progress=False)
        best["theirs"] = max(best["theirs"], samples / (time.perf_counter() - start))
        best["theirs_cpu"] = max(best["theirs_cpu"], samples / (time.process_time() - start_cpu))
    return best


def quality(train, test, args, learning_rate: float) -> dict[str, float]:
    import numpy as np

    from recsys_course.metrics import evaluate
    from recsys_course.models import BPR

    out = {}
    common = dict(factors=args.factors, learning_rate=learning_rate, regularization=0.01,
                  epochs=args.quality_epochs, random_state=0)
    for label, sampler in (("ours (uniform)", "uniform"), ("ours (popularity)", "popularity")):
        model = BPR(sampler=sampler, **common).fit(train)
        out[label] = evaluate(model, train, test, k=10, metrics=["ndcg"])["ndcg"]
    theirs = _implicit_bpr(args.factors, learning_rate, 0.01, args.quality_epochs, 0)
    theirs.fit(train.astype(np.float32), show_progress=False)
    out["implicit"] = evaluate(_Factors(theirs), train, test, k=10, metrics=["ndcg"])["ndcg"]
    return out


def schedules(train, test, args, learning_rate: float) -> dict[str, list[float]]:
    """NDCG@10 per seed of both schedules at the same settings (all threads)."""
    from recsys_course.metrics import evaluate
    from recsys_course.models import BPR

    out: dict[str, list[float]] = {"hogwild": [], "strata": []}
    for seed in range(args.schedule_seeds):
        for schedule in out:
            model = BPR(factors=args.factors, learning_rate=learning_rate, regularization=0.01,
                        epochs=args.quality_epochs, schedule=schedule, random_state=seed)
            model.fit(train)
            out[schedule].append(evaluate(model, train, test, k=10, metrics=["ndcg"])["ndcg"])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small synthetic data only")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=10, help="epochs per timed fit")
    parser.add_argument("--quality-epochs", type=int, default=100)
    parser.add_argument("--factors", type=int, default=64)
    parser.add_argument("--schedule-seeds", type=int, default=20,
                        help="seeds (random_state 0, 1, ...) of the strata vs hogwild NDCG table")
    add_threading_layer_option(parser)
    add_output_option(parser, "bpr")
    return run_with_settings(parser.parse_args(argv), _run)


def _run(args) -> int:

    import numba
    import numpy as np

    from recsys_course.data import simulate

    if args.quick:
        args.repeats, args.epochs, args.quality_epochs = 1, 2, 5
        counts = simulate(n_users=400, n_items=300, random_state=0).counts
        speed_data = ("simulate(400 x 300)", *_binary_split(counts))
        quality_data = [speed_data]
    else:
        from recsys_course.data import load_instacart, load_movielens_100k, load_movielens_1m

        speed_data = ("MovieLens 1M", *_binary_split(load_movielens_1m().counts))
        quality_data = [("MovieLens 100K", *_binary_split(load_movielens_100k().counts)),
                        ("Instacart", *_binary_split(load_instacart().counts))]

    name, train, _ = speed_data
    all_threads = numba.config.NUMBA_NUM_THREADS
    record: dict = {"speed_data": name, "factors": args.factors, "epochs": args.epochs,
                    "repeats": args.repeats, "threading_layer": None, "speed": [],
                    "quality": [], "schedules": []}
    print(f"BPR speed on {name}: {train.shape[0]} users x {train.shape[1]} items, "
          f"{train.nnz} interactions; {args.factors} factors, verified negatives; "
          f"best of {args.repeats} fits of {args.epochs} epochs")
    print("strata = schedule='strata' (the default, blocks=None: "
          f"{_default_blocks()} here); hogwild = schedule='hogwild'")
    print(f"{'threads':<10}{'hogwild samples/s':>16}{'strata samples/s':>18}"
          f"{'implicit samples/s':>20}{'hogwild/impl':>15}{'strata/implicit':>17}"
          f"{'per CPU s: hogwild':>17}{'strata':>12}{'implicit':>12}{'hogwild/impl':>11}"
          f"{'strata/impl':>13}")
    strata_met, targets = [], []
    for threads in sorted({1, all_threads}):
        b = speed(train, args, threads)
        ratio, strata_ratio = b["ours"] / b["theirs"], b["strata"] / b["theirs"]
        target = STRATA_TARGETS["one thread" if threads == 1 else "all threads"]
        strata_met.append((threads, strata_ratio, target, strata_ratio >= target))
        record["speed"].append({"threads": threads, "hogwild": b["ours"], "strata": b["strata"],
                                "implicit": b["theirs"], "hogwild_cpu": b["ours_cpu"],
                                "strata_cpu": b["strata_cpu"], "implicit_cpu": b["theirs_cpu"],
                                "strata_target": target})
        where = f"{threads} thread{'s' if threads > 1 else ''}, {args.factors} factors: {name}"
        targets.append(target_record(f"BPR strata (the default) samples/s vs implicit, {where}",
                                     b["strata"], b["theirs"], target, "samples/s",
                                     higher_is_better=True))
        targets.append(target_record(f"BPR hogwild samples/s vs implicit, {where}", b["ours"],
                                     b["theirs"], None, "samples/s"))
        print(f"{threads:<10}{b['ours']:>16,.0f}{b['strata']:>18,.0f}{b['theirs']:>20,.0f}"
              f"{ratio:>15.2f}{strata_ratio:>17.2f}"
              f"{b['ours_cpu']:>17,.0f}{b['strata_cpu']:>12,.0f}{b['theirs_cpu']:>12,.0f}"
              f"{b['ours_cpu'] / b['theirs_cpu']:>11.2f}{b['strata_cpu'] / b['theirs_cpu']:>13.2f}")
    print("(timings on a shared machine are noisy: rerun when it is quiet)")
    for threads, strata_ratio, target, met in strata_met:
        print(f"target strata/implicit >= {target} at {threads} thread(s): "
              f"{strata_ratio:.2f} {'met' if met else 'NOT met'}")
    print()

    print(f"NDCG@10 at matched settings ({args.factors} factors, lambda 0.01, "
          f"{args.quality_epochs} epochs, verified negatives), 20% per-user holdout")
    print(f"{'data':<16}{'lr':>6}{'ours (uniform)':>16}{'ours (popularity)':>19}{'implicit':>10}"
          f"{'ours - implicit':>17}")
    for data_name, train, test in quality_data:
        for learning_rate in (0.01, 0.05):
            q = quality(train, test, args, learning_rate)
            print(f"{data_name:<16}{learning_rate:>6}{q['ours (uniform)']:>16.4f}"
                  f"{q['ours (popularity)']:>19.4f}{q['implicit']:>10.4f}"
                  f"{q['ours (uniform)'] - q['implicit']:>+17.4f}")
            record["quality"].append({"data": data_name, "learning_rate": learning_rate, **q})

    print(f"\nNDCG@10 by schedule: median over random_state 0-{args.schedule_seeds - 1}, "
          f"{args.quality_epochs} epochs, all threads, otherwise as above; target: strata at most "
          f"{QUALITY_TOLERANCE:.0%} below hogwild")
    print(f"{'data':<16}{'lr':>6}{'hogwild':>10}{'strata':>10}{'strata/hogwild-1':>18}{'':>9}"
          f"{'mean ± std: hogwild':>21}{'strata':>21}   per seed (hogwild | strata)")
    for data_name, train, test in quality_data:
        for learning_rate in (0.01, 0.05):
            per_seed = schedules(train, test, args, learning_rate)
            hogwild, strata = (float(np.median(per_seed[k])) for k in ("hogwild", "strata"))
            change = strata / hogwild - 1.0
            met = change >= -QUALITY_TOLERANCE
            record["schedules"].append({"data": data_name, "learning_rate": learning_rate,
                                        "hogwild": per_seed["hogwild"],
                                        "strata": per_seed["strata"],
                                        "median_change": change, "met": bool(met)})
            targets.append(target_record(
                f"BPR strata NDCG@10 / hogwild's, median of {args.schedule_seeds} seeds, lr "
                f"{learning_rate}, {args.quality_epochs} epochs: {data_name}", strata, None,
                1.0 - QUALITY_TOLERANCE, "NDCG@10", higher_is_better=True, ratio=strata / hogwild))
            if args.schedule_seeds > 3:  # the wording, kept in view
                first = [float(np.median(per_seed[k][:3])) for k in ("strata", "hogwild")]
                targets.append(target_record(
                    f"the same, median of seeds 0-2 only (too few to judge 2%): lr "
                    f"{learning_rate}: {data_name}", first[0], None, None, "NDCG@10",
                    ratio=first[0] / first[1]))
            seeds = (" ".join(f"{v:.4f}" for v in per_seed["hogwild"]) + " | "
                     + " ".join(f"{v:.4f}" for v in per_seed["strata"]))
            spread = "".join(f"{np.mean(per_seed[k]):>12.4f} ± {np.std(per_seed[k], ddof=1):.4f}"
                             for k in ("hogwild", "strata"))
            print(f"{data_name:<16}{learning_rate:>6}{hogwild:>10.4f}{strata:>10.4f}"
                  f"{change:>+18.2%}{'met' if met else 'NOT met':>9}{spread}   {seeds}")
    record["threading_layer"] = numba.threading_layer()
    print(f"numba threading layer: {record['threading_layer']}")
    record["targets"] = targets
    print()
    print_targets(targets)
    write_results("bpr", args.quick, record, output=args.output)
    return 0


def _default_blocks() -> int:
    from recsys_course.models.bpr import DEFAULT_BLOCKS

    return DEFAULT_BLOCKS


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
