"""The evaluation and BPR benchmarks run end to end on small data (--quick) and print their tables."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("implicit")

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
    assert "ours samples/s" in out and "NDCG@10" in out and "implicit" in out
