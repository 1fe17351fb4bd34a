"""Run every benchmark in this folder (``bench_*.py``), one after another, in fresh processes,
then print ONE table with every measure of issue 11 (ours, implicit, ratio, target, met or not).

Each benchmark prints its own tables and writes ``results/<name>.json`` (``<name>_quick.json``
with ``--quick``) with a top-level ``targets`` list of records
``{"measure", "ours", "implicit", "ratio", "target", "met", "unit"}`` (``_common.target_record``).
The summary reads those lists in the order of issue 11's targets 1-7 and writes them to
``results/summary.json`` (``summary_quick.json``). A benchmark that did not run, failed, or
left no fresh results shows as *missing*, never as met.

Extra arguments (for example ``--quick``) are passed to every benchmark; names without a dash
pick benchmarks (``run_all.py eval bpr``). BLAS is held to one thread for fair timings of
`implicit` (it warns otherwise); its OpenMP threads are not.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

#: issue 11's targets in order: (target numbers, benchmark name, what it measures)
SECTIONS = (
    ("1-3", "als", "ALS seconds per iteration (CG, Cholesky), fit set-up, fit memory, import footprint"),
    ("4", "bpr", "BPR samples/s (hogwild, strata) vs implicit; strata NDCG@10 vs hogwild"),
    ("5", "eval", "evaluate vs implicit's ranking_metrics_at_k"),
    ("6", "warmup", "first-call compile time after warm-up"),
    ("7", "spark", "ALS seconds per iteration vs Spark"),
)


def summary_rows(outcomes: dict[str, dict], results: Path = RESULTS, quick: bool = False) -> list[dict]:
    """The summary table's rows, in the order of ``SECTIONS``.

    ``outcomes`` maps a benchmark name to ``{"exit": code, "started": time.time() at its start}``
    for each benchmark that ran. A benchmark gives its ``targets`` records only when it ran,
    exited 0 and wrote its results file after it started; otherwise one row with status
    "missing" and the reason stands in for all of its records.
    """
    rows = []
    for number, name, what in SECTIONS:
        path = results / (f"{name}_quick.json" if quick else f"{name}.json")
        outcome = outcomes.get(name)
        reason = None
        records = []
        if outcome is None:
            reason = "did not run"
        elif outcome["exit"] != 0:
            reason = f"failed (exit {outcome['exit']})"
        elif not path.exists() or path.stat().st_mtime < outcome["started"]:
            reason = f"no fresh {path.name}"
        else:
            try:
                records = json.loads(path.read_text()).get("targets")
            except (OSError, ValueError, AttributeError) as error:
                reason, records = f"unreadable {path.name}: {error}", []
            if reason is None and (not isinstance(records, list) or not records):
                reason, records = f"no targets in {path.name}", []
        if reason is not None:
            rows.append({"targets": number, "benchmark": name, "measure": what, "ours": None,
                         "implicit": None, "ratio": None, "target": None, "met": False,
                         "unit": "", "status": "missing", "reason": reason})
            continue
        for record in records:
            row = {"targets": number, "benchmark": name, **record}
            if record.get("target") == "report":
                row["status"] = "report"
            else:
                row["status"] = "met" if record.get("met") is True else "NOT met"
                row["met"] = record.get("met") is True
            rows.append(row)
    return rows


def _number(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, (int, float)) and abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def format_table(rows: list[dict]) -> str:
    """The summary as plain text: target, measure, ours, implicit, ratio, target, met."""
    header = ("#", "measure", "ours", "implicit", "ratio", "target", "met")
    lines = []
    for row in rows:
        if row["status"] == "missing":
            lines.append((row["targets"], f"{row['measure']} [{row['benchmark']}]", "-", "-", "-", "-",
                          f"missing: {row['reason']}"))
            continue
        theirs = _number(row.get("implicit"))
        versus = row.get("versus")
        if row.get("implicit") is None and isinstance(versus, dict):
            theirs = f"{versus.get('name', 'other')}: {_number(versus.get('value'))}"
        lines.append((row["targets"], row["measure"], f"{_number(row.get('ours'))} {row.get('unit', '')}".strip(),
                      theirs, "-" if row.get("ratio") is None else f"{row['ratio']:.3f}",
                      str(row.get("target")), row["status"]))
    widths = [max(len(str(line[i])) for line in (header, *lines)) for i in range(len(header))]
    out = []
    for line in (header, tuple("-" * w for w in widths), *lines):
        cells = [str(c) for c in line]
        out.append("  ".join(c.ljust(w) if i < 2 else c.rjust(w) if i < 5 else c.ljust(w)
                             for i, (c, w) in enumerate(zip(cells, widths))).rstrip())
    counted = [r for r in rows if r["status"] in ("met", "NOT met", "missing")]
    met = sum(r["status"] == "met" for r in counted)
    missing = sum(r["status"] == "missing" for r in counted)
    out.append(f"{met} of {len(counted)} targets met, {len(counted) - met - missing} not met, "
               f"{missing} benchmark(s) missing")
    return "\n".join(out)


def write_summary(rows: list[dict], quick: bool, results: Path = RESULTS) -> Path:
    results.mkdir(exist_ok=True)
    path = results / ("summary_quick.json" if quick else "summary.json")
    path.write_text(json.dumps({"quick": quick, "load_average": list(os.getloadavg()),
                                "written": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                                "rows": rows}, indent=2) + "\n")
    return path


def main(argv: list[str]) -> int:
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__)
        return 0
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
    outcomes: dict[str, dict] = {}
    for script in scripts:
        print(f"\n=== {script.name} ===", flush=True)
        started = time.time()
        start = time.perf_counter()
        code = subprocess.call([sys.executable, str(script), *flags], env=env)
        print(f"--- {script.name}: exit {code}, {time.perf_counter() - start:.0f} s wall", flush=True)
        outcomes[script.stem.removeprefix("bench_")] = {"exit": code, "started": started}
        failures += code != 0
    quick = "--quick" in flags
    rows = summary_rows(outcomes, quick=quick)
    path = write_summary(rows, quick)
    load = os.getloadavg()
    print(f"\n=== summary: issue 11 targets ({'--quick: small data, not the issue figures' if quick else 'full size'}"
          f"; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}) ===")
    print(format_table(rows))
    print(f"written to {path.relative_to(HERE.parent)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
