"""Evaluation: recsys_course.metrics.evaluate against implicit.evaluation.ranking_metrics_at_k.

One implicit ALS model (64 factors, 15 iterations) is trained once on a per-user 20% holdout
of MovieLens 1M (every rating = one interaction) and both evaluators score the same factors
on the same split at K = 10. Timings are the best of ``--repeats`` runs after a warm-up
(which loads our numba kernels from the cache). BLAS is held to one thread.

Our ``evaluate`` is timed twice: with every metric (precision, recall, MAP, NDCG binary and
graded, full AUC, rank-bar, coverage -- more work than implicit does) and with the four
metrics implicit reports. Target: ours / implicit time <= 0.5.

The values differ by definition, not by error:
* implicit's "precision" is all hits over the sum of min(K, |test_u|) across users (pooled;
  a recall for users with fewer than K test items); ours is the mean over users of hits / K;
* implicit's "auc" is AUC@K, computed from the top-K list only; ours ranks every item the
  user did not have in training (full AUC);
* "ndcg" (binary relevance) and "map" follow the same definitions in both.

    python benchmarks/bench_eval.py             # MovieLens 1M
    python benchmarks/bench_eval.py --quick     # small synthetic data, a few seconds
"""

from __future__ import annotations

import argparse
import os
import sys
import time

for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

TARGET = 0.5


def _data(quick: bool):
    import numpy as np

    from recsys_course.data import simulate, train_test_split

    if quick:
        counts = simulate(n_users=400, n_items=300, random_state=0).counts
        name = "simulate(400 x 300)"
    else:
        from recsys_course.data import load_movielens_1m

        counts = load_movielens_1m().counts.copy()
        name = "MovieLens 1M"
    counts.data = np.ones_like(counts.data)
    train, test = train_test_split(counts, test_fraction=0.2, random_state=0)
    return name, train.tocsr(), test.tocsr()


class _Factors:
    """implicit's trained factors behind our evaluate() interface (score(users))."""

    def __init__(self, user_factors, item_factors):
        self.user_factors = user_factors
        self.item_factors = item_factors
        self.n_users, self.n_items = user_factors.shape[0], item_factors.shape[0]

    def score(self, users):
        return self.user_factors[users] @ self.item_factors.T


def _best(fn, repeats: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small synthetic data, one repeat")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--factors", type=int, default=64)
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # BLAS on one thread even when imported late (smoke tests)
        return _run(args)


def _run(args) -> int:
    repeats = 1 if args.quick else args.repeats

    import numpy as np
    from implicit.als import AlternatingLeastSquares
    from implicit.evaluation import ranking_metrics_at_k

    from recsys_course.metrics import evaluate

    name, train, test = _data(args.quick)
    als = AlternatingLeastSquares(factors=args.factors, regularization=10.0, iterations=15,
                                  random_state=0)
    als.fit((train * 10.0 + train.astype(bool)).astype(np.float32), show_progress=False)
    model = _Factors(np.asarray(als.user_factors), np.asarray(als.item_factors))
    train32 = train.astype(np.float32)
    test32 = test.astype(np.float32)

    def theirs():
        return ranking_metrics_at_k(als, train32, test32, K=args.k, show_progress=False,
                                    num_threads=0)

    def ours_all():
        return evaluate(model, train, test, k=args.k)

    def ours_same():
        return evaluate(model, train, test, k=args.k, metrics=("precision", "map", "ndcg", "auc"))

    for fn in (theirs, ours_all, ours_same):  # warm-up: numba cache, BLAS, page faults
        fn()
    t_theirs, m_theirs = _best(theirs, repeats)
    t_all, m_all = _best(ours_all, repeats)
    t_same, _ = _best(ours_same, repeats)

    print(f"evaluation at K={args.k} on {name}: {train.shape[0]} users x {train.shape[1]} items, "
          f"{train.nnz} train / {test.nnz} test interactions, ALS with {args.factors} factors")
    print(f"best of {repeats}; threads: all cores for both; BLAS 1 thread\n")
    print(f"{'evaluator':<46}{'seconds':>9}{'ours/implicit':>15}")
    print(f"{'implicit ranking_metrics_at_k':<46}{t_theirs:>9.3f}{'':>15}")
    print(f"{'ours evaluate, all 8 metrics':<46}{t_all:>9.3f}{t_all / t_theirs:>15.2f}")
    print(f"{'ours evaluate, precision/map/ndcg/auc':<46}{t_same:>9.3f}{t_same / t_theirs:>15.2f}")
    print(f"target ours/implicit <= {TARGET}: "
          f"{'met' if t_all / t_theirs <= TARGET else 'NOT met'} (all metrics)\n")

    print(f"{'metric':<12}{'implicit':>10}{'ours':>10}  note")
    notes = {
        "precision": "implicit: hits / sum of min(K, |test_u|), pooled; ours: mean of hits / K",
        "map": "same definition",
        "ndcg": "same definition (binary relevance)",
        "auc": "implicit: AUC@K from the top-K list; ours: full AUC over all non-train items",
    }
    for metric, note in notes.items():
        print(f"{metric:<12}{m_theirs[metric]:>10.4f}{m_all[metric]:>10.4f}  {note}")
    print(f"{'recall':<12}{'':>10}{m_all['recall']:>10.4f}  ours only")
    print(f"{'rank-bar':<12}{'':>10}{m_all['percentile_rank']:>10.4f}  ours only (HKV, lower is better)")
    print(f"{'coverage':<12}{'':>10}{m_all['coverage']:>10.4f}  ours only")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
