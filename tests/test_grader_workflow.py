"""The graders' workflow: a class folder into a gradebook, a Gradescope autograder zip, safe CSV."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from recsys_course.grading.autograder import ROOT_VARIABLE, build_autograder, find_submission, run_autograder
from recsys_course.grading.checks import CHECKS
from recsys_course.grading.cli import main as grade_main
from recsys_course.grading.report import spreadsheet_safe

pytestmark = pytest.mark.grader

GOOD_EX01 = textwrap.dedent("""
    import numpy as np
    def preference_confidence(counts, alpha=40.0):
        r = np.array(counts, dtype=float)
        if not np.all(np.isfinite(r)) or np.any(r < 0) or not np.isfinite(alpha) or alpha < 0:
            raise ValueError("bad input")
        return (r > 0).astype(float), 1.0 + alpha * r
    """)
GOOD_EX04 = textwrap.dedent("""
    import numpy as np
    def ndcg_at_k(ranked, relevant, k):
        raise NotImplementedError("-not done yet")
    """)
FORMULA = "=HYPERLINK(\"http://evil.example\",\"click\")"


def notebook(code: str) -> str:
    return json.dumps({"cells": [{"cell_type": "code", "source": code, "metadata": {}, "outputs": [],
                                  "execution_count": None}],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def test_spreadsheet_safe_prefixes_every_formula_start():
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert spreadsheet_safe(start + "1+1") == "'" + start + "1+1"
    assert spreadsheet_safe("raised ValueError: =x") == "raised ValueError: =x"
    assert spreadsheet_safe(10) == 10 and spreadsheet_safe(-1.5) == -1.5  # numbers stay numbers
    assert spreadsheet_safe("") == ""


def test_class_folder_gives_one_gradebook_and_feedback_per_student(tmp_path, capsys):
    submissions = tmp_path / "submissions"
    for student, files in {
        "alice": {"ex01_confidence.ipynb": notebook(GOOD_EX01), "ex04_ndcg.ipynb": notebook(GOOD_EX04)},
        "bob": {"ex01_confidence.ipynb": notebook(
            "def preference_confidence(counts, alpha=40.0):\n    raise RuntimeError(" + repr(FORMULA) + ")\n")},
        FORMULA[:9]: {"ex01_mine.py": "import os\nos._exit(0)\n"},
    }.items():
        (submissions / student).mkdir(parents=True)
        for name, text in files.items():
            (submissions / student / name).write_text(text, encoding="utf-8")
    # bob handed ex01 in twice: the last file in name order counts, the other is named in his feedback
    (submissions / "bob" / "ex01_aa_draft.py").write_text(GOOD_EX01, encoding="utf-8")
    out = tmp_path / "grades"

    assert grade_main([str(submissions), "--out", str(out), "--timeout", "3", "--quiet"]) == 0
    assert "feedback for 3 students" in capsys.readouterr().out

    with open(out / "gradebook.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    students = sorted({"alice", "bob", FORMULA[:9]})
    assert [(r["student"], r["exercise"]) for r in rows] == [
        (s if not s.startswith("=") else "'" + s, ex) for s in students for ex in ("ex01", "ex04")]
    table = {(r["student"], r["exercise"]): r for r in rows}
    assert table[("alice", "ex01")]["score"] == "10" and table[("alice", "ex01")]["status"] == "graded"
    assert table[("alice", "ex04")]["score"] == "0"
    assert table[("bob", "ex01")]["score"] == "0"  # the RuntimeError file, not the correct draft
    assert Path(table[("bob", "ex01")]["submission"]).name == "ex01_confidence.ipynb"
    assert table[("bob", "ex04")]["status"] == "missing" and table[("bob", "ex04")]["max_score"] == "10"
    for row in rows:  # nothing in the gradebook can become a formula
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row.values()), row

    feedback = {p.stem: p.read_text(encoding="utf-8") for p in (out / "feedback").iterdir()}
    assert sorted(feedback) == students
    assert "Feedback for alice" in feedback["alice"] and "score 10 / 10" in feedback["alice"]
    assert "Total: 10 / 20" in feedback["alice"]
    assert "raised RuntimeError" in feedback["bob"] and "raised NotImplementedError" in feedback["alice"]
    assert "no submission found: 0 / 10" in feedback["bob"]
    assert "ex01_aa_draft.py" in feedback["bob"] and "ex01_aa_draft.py" not in feedback["alice"]
    assert "alice" not in feedback["bob"]  # a student's report names nobody else


def test_plain_csv_cells_are_spreadsheet_safe(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("-ex01_y.py").write_text(GOOD_EX01, encoding="utf-8")
    Path("@ex01_z.py").write_text(GOOD_EX01, encoding="utf-8")
    assert grade_main(["--exercise", "ex01", "--csv", "out.csv", "--timeout", "3", "--quiet",
                       "--", "-ex01_y.py", "@ex01_z.py"]) == 0
    rows = list(csv.reader(open("out.csv", encoding="utf-8")))
    assert [row[0] for row in rows[1:]] == ["'-ex01_y.py", "'@ex01_z.py"]
    assert [row[2] for row in rows[1:]] == ["10", "10"]


def test_autograder_zip_runs_like_gradescope(tmp_path):
    archive = build_autograder("ex01", tmp_path / "autograder.zip", timeout=3)
    root = tmp_path / "autograder"
    source = root / "source"
    with zipfile.ZipFile(archive) as zipped:
        names = set(zipped.namelist())
        zipped.extractall(source)
        modes = {info.filename: info.external_attr >> 16 for info in zipped.infolist()}
    assert {"setup.sh", "run_autograder", "course/pyproject.toml",
            "course/recsys_course/grading/checks.py"} <= names
    assert not any("__pycache__" in name for name in names)
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
    setup = (source / "setup.sh").read_text(encoding="utf-8")
    assert "pip install" in setup and "$ROOT/source/course" in setup
    assert subprocess.run(["bash", "-n", str(source / "setup.sh")], check=False).returncode == 0

    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), ROOT_VARIABLE: str(root),
           "RECSYS_AUTOGRADER_PYTHON": sys.executable, "HOME": str(tmp_path), "LANG": "C.UTF-8"}

    def run(files: dict[str, str]) -> dict:
        submission = root / "submission"
        if submission.exists():
            for old in sorted(submission.rglob("*"), reverse=True):
                old.rmdir() if old.is_dir() else old.unlink()
        submission.mkdir(exist_ok=True)
        for name, text in files.items():
            (submission / name).parent.mkdir(parents=True, exist_ok=True)
            (submission / name).write_text(text, encoding="utf-8")
        done = subprocess.run(["bash", str(source / "run_autograder")], env=env, capture_output=True, text=True,
                              timeout=300, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        return json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))

    good = run({"my_homework.ipynb": notebook(GOOD_EX01)})  # Gradescope keeps the uploaded name
    assert good["score"] == 10
    assert [t["name"] for t in good["tests"]] == [c.name for c in CHECKS["ex01"]]
    assert all(t["score"] == t["max_score"] for t in good["tests"])

    wrong = run({"nested/ex01_confidence.ipynb": notebook(
        "import numpy as np\ndef preference_confidence(counts, alpha=40.0):\n"
        "    r = np.asarray(counts, dtype=float)\n    return (r > 0).astype(float), alpha * r\n")})
    assert 0 < wrong["score"] < 10
    assert "C differs" in " ".join(t["output"] for t in wrong["tests"])

    empty = run({"notes.txt": "I forgot the notebook"})
    assert empty["score"] == 0 and "no .ipynb or .py file" in empty["output"]


def test_find_submission_prefers_the_exercise_notebook(tmp_path):
    for name in ("helper.py", "ex01_work.py", "ex01_work.ipynb", ".hidden.ipynb"):
        (tmp_path / name).write_text("", encoding="utf-8")
    chosen, notes = find_submission(tmp_path, "ex01")
    assert chosen.name == "ex01_work.ipynb" and "several files" in notes[0]
    assert find_submission(tmp_path / "missing", "ex01")[0] is None


def test_autograder_command_rejects_bad_input(tmp_path, capsys):
    from recsys_course.cli import main

    assert main(["autograder", "ex99"]) == 2
    assert main(["autograder"]) == 2
    with pytest.raises(ValueError, match="timeout"):
        build_autograder("ex01", tmp_path / "a.zip", timeout=0)
    with pytest.raises(ValueError, match="memory_mb"):
        build_autograder("ex01", tmp_path / "a.zip", memory_mb=10)
    with pytest.raises(ValueError, match="ex99"):
        run_autograder("ex99", tmp_path)
    with pytest.raises(ValueError, match="timeout"):
        run_autograder("ex01", tmp_path, timeout=float("nan"))
    out = tmp_path / "ag.zip"
    assert main(["autograder", "ex02", "--out", str(out)]) == 0
    assert "--run ex02" in zipfile.ZipFile(out).read("run_autograder").decode()
