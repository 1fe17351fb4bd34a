"""Every benchmark runs end to end on small data (--quick) and prints its tables."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

if os.environ.get("CI"):
    import implicit  # noqa: F401  (make test installs the bench extra: a skip in CI would hide a break)
else:
    pytest.importorskip("implicit", reason="the benchmarks compare with implicit: pip install -e '.[bench]'")

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_als_bench_quick(capsys):
    bench = _load("bench_als")
    assert bench.main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "ours s/it" in out and "impl s/it" in out and "NDCG@10" in out
    rows = [line.split() for line in out.splitlines() if line.startswith("synthetic ")]
    timed = [row for row in rows if row[1].isdigit()]
    assert {row[2] for row in timed} == {"cg", "cholesky"}
    for row in timed:
        assert float(row[4]) > 0 and float(row[5]) > 0  # both libraries were timed
    ndcg = [row for row in rows if not row[1].isdigit()]
    assert {row[1] for row in ndcg} == {"cg", "cholesky"}
    for row in ndcg:
        # started from the same factors in the same order, implicit and ours solve the same problems
        assert abs(float(row[6])) < 2.0, row


def test_long_tail_matrix_is_seeded_and_long_tailed():
    bench = _load("bench_als")
    a = bench.long_tail_matrix(300, 100, 5000, random_state=3)
    b = bench.long_tail_matrix(300, 100, 5000, random_state=3)
    assert (a != b).nnz == 0 and a.shape == (300, 100)
    assert a.sum() == 5000  # every draw is counted once
    popularity = sorted(a.getnnz(axis=0), reverse=True)
    assert popularity[0] > 5 * popularity[len(popularity) // 2]  # a popular head, a long tail


@pytest.mark.slow
def test_bench_eval_quick(capsys):
    assert _load("bench_eval").main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "implicit ranking_metrics_at_k" in out and "ours/implicit" in out
    for metric in ("precision", "map", "ndcg", "auc", "rank-bar"):
        assert metric in out


@pytest.mark.slow
def test_bench_bpr_quick(capsys):
    assert _load("bench_bpr").main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "strata samples/s" in out and "hogwild samples/s" in out and "NDCG@10" in out
    assert "implicit" in out and "median of 20 seeds" in out


def test_warmup_bench_pieces(tmp_path):
    """The warm-up benchmark's cheap parts: a clone without caches, and the layers numba can load
    (workqueue is built into numba, so it is always there)."""
    bench = _load("bench_warmup")
    clone = bench.fresh_clone(tmp_path)
    assert (clone / "recsys_course" / "warmup.py").exists()
    assert not list(clone.rglob("*.nbi")) and not list(clone.rglob("__pycache__"))
    assert "workqueue" in bench.layers_available()


def test_spark_bench_splits_fixed_and_per_iteration_cost():
    """Seconds per iteration from two fits: the fixed cost (start-up, transfer) cancels out."""
    bench = _load("bench_spark")
    clock = {"t": 0.0}

    def fake_fit(iterations):
        clock["t"] += 5.0 + 0.5 * iterations  # 5 s fixed, 0.5 s per iteration

    import time as _time
    real = _time.perf_counter
    try:
        bench.time.perf_counter = lambda: clock["t"]
        slope, fixed = bench.per_iteration(fake_fit, 2, 8, repeats=2)
    finally:
        bench.time.perf_counter = real
    assert slope == 0.5 and fixed == 5.0


@pytest.mark.slow
def test_output_option_writes_elsewhere_and_leaves_the_record_alone(tmp_path, capsys):
    record = BENCH / "results" / "eval_quick.json"
    before = record.read_bytes() if record.exists() else None
    target = tmp_path / "partial" / "eval.json"
    assert _load("bench_eval").main(["--quick", "--output", str(target)]) == 0
    import json

    assert json.loads(target.read_text())["targets"]  # the whole record went to --output
    assert (record.read_bytes() if record.exists() else None) == before
