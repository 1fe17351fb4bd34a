"""The one summary table of ``make bench`` (benchmarks/run_all.py), built from made-up results
JSON: the order of issue 11's targets, met / not met / report, and benchmarks that are missing."""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name):
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCH))
    return module


run_all = _load("run_all")
common = _load("_common")


def _write(folder: Path, name: str, targets, quick=False):
    path = folder / (f"{name}_quick.json" if quick else f"{name}.json")
    path.write_text(json.dumps({"targets": targets}))


def test_target_record_bounds_ratio_or_value_and_never_meets_a_missing_value():
    rec = common.target_record("x", 0.2, 1.0, 0.25, "s")
    assert rec["ratio"] == 0.2 and rec["target"] == "<= 0.25" and rec["met"] is True
    assert common.target_record("x", 0.3, 1.0, 0.25, "s")["met"] is False
    faster = common.target_record("y", 300.0, 200.0, 1.25, "samples/s", higher_is_better=True)
    assert faster["target"] == ">= 1.25" and faster["ratio"] == 1.5 and faster["met"] is True
    assert common.target_record("z", 2.5, None, 2.0, "s", absolute=True)["met"] is False
    assert common.target_record("z", 1.5, None, 2.0, "s", absolute=True)["met"] is True
    assert common.target_record("w", 0.1, None, 0.25, "s")["met"] is False  # no implicit: no ratio
    report = common.target_record("r", 0.1, None, None, "s", ratio=0.06)
    assert report["target"] == "report" and report["ratio"] == 0.06
    assert set(rec) == {"measure", "ours", "implicit", "ratio", "target", "met", "unit"}


def test_summary_orders_by_target_and_shows_missing_and_not_met(tmp_path):
    eval_met = common.target_record("evaluate wall s", 0.08, 0.4, 0.25, "s")
    bpr_slow = common.target_record("BPR strata samples/s, 1 thread", 1.0e6, 1.0e6, 1.5, "samples/s",
                                    higher_is_better=True)
    bpr_fast = common.target_record("BPR hogwild samples/s, 1 thread", 2.0e6, 1.0e6, 1.25, "samples/s",
                                    higher_is_better=True)
    spark = common.target_record("ALS s/it vs Spark", 0.1, None, None, "s", ratio=0.05)
    spark["versus"] = {"name": "Spark local[2]", "value": 2.0}
    started = time.time() - 60
    _write(tmp_path, "eval", [eval_met])
    _write(tmp_path, "bpr", [bpr_fast, bpr_slow])
    _write(tmp_path, "spark", [spark])
    _write(tmp_path, "warmup", [common.target_record("first call", 0.4, None, 2.0, "s", absolute=True)])
    outcomes = {
        "eval": {"exit": 0, "started": started},
        "bpr": {"exit": 0, "started": started},
        "spark": {"exit": 0, "started": started},
        "warmup": {"exit": 1, "started": started},  # failed: its (old, met) results must not count
        # "als" did not run at all
    }
    rows = run_all.summary_rows(outcomes, results=tmp_path)
    assert [r["benchmark"] for r in rows] == ["als", "bpr", "bpr", "eval", "warmup", "spark"]
    status = {(r["benchmark"], r["measure"]): r["status"] for r in rows}
    assert rows[0]["status"] == "missing" and rows[0]["reason"] == "did not run"
    assert status["bpr", "BPR hogwild samples/s, 1 thread"] == "met"
    assert status["bpr", "BPR strata samples/s, 1 thread"] == "NOT met"
    assert status["eval", "evaluate wall s"] == "met"
    assert rows[4]["status"] == "missing" and "exit 1" in rows[4]["reason"] and rows[4]["met"] is False
    assert rows[5]["status"] == "report"

    table = run_all.format_table(rows)
    lines = table.splitlines()
    assert lines[0].split() == ["#", "measure", "ours", "implicit", "ratio", "target", "met"]
    strata = next(line for line in lines if "strata" in line)
    assert strata.rstrip().endswith("NOT met") and ">= 1.5" in strata and "1,000,000" in strata
    assert "Spark local[2]: 2" in next(line for line in lines if "Spark" in line)
    assert "missing: did not run" in table and "missing: failed (exit 1)" in table
    # 2 met (eval, hogwild), 1 not met (strata), 2 missing (als, warmup); the Spark row is a report
    assert lines[-1] == "2 of 5 targets met, 1 not met, 2 benchmark(s) missing"

    path = run_all.write_summary(rows, quick=True, results=tmp_path)
    assert path.name == "summary_quick.json"
    assert json.loads(path.read_text())["rows"] == json.loads(json.dumps(rows))


def test_stale_or_empty_results_are_missing(tmp_path):
    _write(tmp_path, "eval", [common.target_record("evaluate", 0.08, 0.4, 0.25, "s")], quick=True)
    _write(tmp_path, "bpr", [], quick=True)
    later = time.time() + 60  # the run "started" after the file was written: old results
    rows = run_all.summary_rows({"eval": {"exit": 0, "started": later},
                                 "bpr": {"exit": 0, "started": 0.0}}, results=tmp_path, quick=True)
    by_name = {r["benchmark"]: r for r in rows}
    assert by_name["eval"]["status"] == "missing" and "no fresh eval_quick.json" in by_name["eval"]["reason"]
    assert by_name["bpr"]["status"] == "missing" and "no targets" in by_name["bpr"]["reason"]
    assert not any(r["status"] == "met" for r in rows)
