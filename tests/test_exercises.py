"""Exercises: committed stubs equal the regenerated ones; references are right; stubs score 0."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import numpy as np
import pytest
import scipy.sparse as sp

from recsys_course import exercises
from recsys_course.exercises import (
    EXERCISES,
    exercise_for_file,
    get_exercise,
    parse_cells,
    reference,
    stub_source,
)
from recsys_course.exercises import build

REPO = Path(__file__).resolve().parent.parent
EXERCISE_DIR = REPO / "exercises"


# ----------------------------------------------------------------- stubs in step with references
@pytest.mark.parametrize("exercise_id", list(EXERCISES))
def test_committed_stub_equals_regenerated(exercise_id):
    exercise = EXERCISES[exercise_id]
    committed = (EXERCISE_DIR / exercise.notebook_name).read_text(encoding="utf-8")
    assert committed == build.notebook_text(exercise), (
        f"{exercise.notebook_name} is stale: run python -m recsys_course.exercises.build"
    )


def test_build_check_mode_and_fresh_output(tmp_path, capsys):
    assert build.main(["--check"]) == 0
    assert build.main(["--out", str(tmp_path)]) == 0
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted(e.notebook_name for e in EXERCISES.values())
    (tmp_path / "ex01_confidence.ipynb").write_text("{}", encoding="utf-8")
    assert build.main(["--check", "--out", str(tmp_path)]) == 1
    assert "stale" in capsys.readouterr().err


@pytest.mark.parametrize("exercise_id", list(EXERCISES))
def test_stub_notebook_shape(exercise_id):
    exercise = EXERCISES[exercise_id]
    nb = nbformat.read(EXERCISE_DIR / exercise.notebook_name, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    markdown = [c for c in nb.cells if c.cell_type == "markdown"]
    assert markdown and markdown[0].source.startswith(f"# Exercise {int(exercise_id[2:])}")
    stubs = [c for c in code if "exercise" in c.metadata.get("tags", [])]
    assert len(stubs) == 1
    lines = [line.strip() for line in stubs[0].source.splitlines()]
    at = lines.index("# YOUR CODE HERE")
    assert lines[at + 1] == "raise NotImplementedError"
    assert f"def {exercise.function}(" in stubs[0].source
    text = json.dumps(nb)
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    # visible self-checks call the function after the stub
    assert any(exercise.function + "(" in c.source for c in code[code.index(stubs[0]) + 1:])


def test_stub_keeps_indentation_and_rejects_broken_markers():
    source = "def f(x):\n    '''doc'''\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n"
    assert stub_source(source) == "def f(x):\n    '''doc'''\n    # YOUR CODE HERE\n    raise NotImplementedError"
    with pytest.raises(ValueError, match="without END"):
        stub_source("### BEGIN SOLUTION\nx = 1\n")
    with pytest.raises(ValueError, match="without BEGIN"):
        stub_source("x = 1\n### END SOLUTION\n")


def test_parse_cells_rejects_a_source_without_solution(tmp_path):
    path = tmp_path / "ex99.py"
    path.write_text("# %% [markdown]\n# hi\n# %%\nx = 1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no '# %% solution' cell"):
        parse_cells(path)


def test_exercise_ids_from_file_names():
    assert exercise_for_file("ex01_alice.ipynb") == "ex01"
    assert exercise_for_file("/some/dir/EX03-bob.py") == "ex03"
    for bad in ("alice_ex01.ipynb", "ex011.py", "ex09_x.py"):
        with pytest.raises(ValueError, match="--exercise"):
            exercise_for_file(bad)
    with pytest.raises(ValueError, match="exercise must be one of"):
        get_exercise("ex9")


# ----------------------------------------------------------------- the references themselves
@pytest.mark.parametrize("exercise_id", list(EXERCISES))
def test_reference_passes_its_own_self_checks(exercise_id, capsys):
    """Run the whole source (solution + visible self-check cells) as a learner would."""
    namespace: dict = {}
    for cell in parse_cells(EXERCISES[exercise_id].source_path):
        if cell.kind != "markdown":
            exec(compile(cell.source, exercise_id, "exec"), namespace)  # noqa: S102
    assert "ok" in capsys.readouterr().out


def test_ex01_reference_reproduces_worked_example_and_q1(worked_counts):
    f = reference("ex01")
    P, C = f(worked_counts.astype(int), alpha=40)
    assert P.tolist() == [[0, 1, 0], [1, 0, 1], [0, 0, 1]]
    assert C.tolist() == [[1, 121, 1], [41, 1, 321], [1, 1, 81]]
    assert f([12])[1].tolist() == [481.0]
    original = worked_counts.copy()
    f(worked_counts)
    assert np.array_equal(worked_counts, original)
    for bad, alpha in (([[-1]], 1.0), ([[np.inf]], 1.0), ([[1]], -2.0)):
        with pytest.raises(ValueError):
            f(bad, alpha)


def test_ex02_reference_matches_dense_formula():
    f = reference("ex02")
    rng = np.random.default_rng(3)
    for _ in range(5):
        n_items, k = int(rng.integers(5, 40)), int(rng.integers(1, 6))
        Y = rng.normal(size=(n_items, k))
        items = rng.choice(n_items, size=int(rng.integers(0, n_items)), replace=False)
        counts = rng.integers(1, 9, size=items.size).astype(float)
        alpha, lam = float(rng.uniform(0, 50)), float(rng.uniform(0.01, 3))
        r = np.zeros(n_items)
        r[items] = counts
        Cu = np.diag(1 + alpha * r)
        dense = np.linalg.solve(Y.T @ Cu @ Y + lam * np.eye(k), Y.T @ Cu @ (r > 0))
        np.testing.assert_allclose(f(Y, Y.T @ Y, items, counts, alpha, lam), dense, rtol=1e-8, atol=1e-10)
    with pytest.raises(ValueError, match="same length"):
        f(np.ones((3, 2)), np.eye(2), [0, 1], [1.0], 1.0, 1.0)


def test_ex03_reference_draws_only_unseen_items_uniformly():
    f = reference("ex03")
    dense = np.array([[1, 0, 2, 0, 0, 0], [1, 1, 1, 1, 1, 1]])
    draws = f(sp.csr_matrix(dense), 0, 6000, np.random.default_rng(1))
    assert set(draws.tolist()) == {1, 3, 4, 5}
    assert np.all(np.abs(np.bincount(draws, minlength=6)[[1, 3, 4, 5]] / 6000 - 0.25) < 0.03)
    assert np.array_equal(draws, f(sp.csr_matrix(dense), 0, 6000, np.random.default_rng(1)))
    with pytest.raises(ValueError, match="every item"):
        f(sp.csr_matrix(dense), 1, 1, np.random.default_rng(0))
    with pytest.raises(ValueError):
        f(sp.csr_matrix(dense), 2, 1, np.random.default_rng(0))


def test_ex04_reference_values():
    f = reference("ex04")
    assert f([7, 3, 9], [3], 3) == pytest.approx(1 / np.log2(3))
    assert f([1, 2], {2, 9}, 2) == pytest.approx((1 / np.log2(3)) / (1 + 1 / np.log2(3)))
    assert f([1, 2, 3], [], 10**9) == 0.0
    assert isinstance(f(np.array([1, 2]), np.array([2]), 2), float)
    for k in (0, -1, 1.5, True):
        with pytest.raises(ValueError):
            f([1], [1], k)


def test_module_exports():
    assert set(exercises.__all__) >= {"EXERCISES", "reference", "parse_cells", "stub_source"}


# ----------------------------------------------------------------- through the grader
@pytest.mark.grader
@pytest.mark.parametrize("exercise_id", list(EXERCISES))
def test_reference_scores_full_marks_and_stub_scores_zero(exercise_id, tmp_path):
    from recsys_course.grading import grade_submission

    exercise = EXERCISES[exercise_id]
    solved = tmp_path / f"{exercise.stem}_solved.py"
    solved.write_text(exercise.source_path.read_text(encoding="utf-8"), encoding="utf-8")
    good = grade_submission(solved)
    assert good.score == good.max_score == 10, [(c.name, c.output) for c in good.checks]
    assert good.verdict == ""

    stub = grade_submission(EXERCISE_DIR / exercise.notebook_name)
    assert stub.score == 0 and stub.max_score == 10
    assert all("NotImplementedError" in c.output for c in stub.checks), [c.output for c in stub.checks]


@pytest.mark.grader
@pytest.mark.parametrize("exercise_id", list(EXERCISES))
def test_learner_notebook_with_the_stub_filled_in_scores_full_marks(exercise_id, tmp_path):
    """The learner's real workflow: open the stub notebook, fill in the cell, run self-checks, hand in."""
    from recsys_course.grading import grade_submission

    exercise = EXERCISES[exercise_id]
    solution = next(c.source for c in parse_cells(exercise.source_path) if c.kind == "solution")
    nb = nbformat.read(EXERCISE_DIR / exercise.notebook_name, as_version=4)
    stub = next(c for c in nb.cells if "exercise" in c.metadata.get("tags", []))
    stub.source = "\n".join(line for line in solution.splitlines() if "### " not in line)
    path = tmp_path / f"{exercise.id}_learner.ipynb"
    nbformat.write(nb, path)
    result = grade_submission(path)
    assert result.score == 10, [(c.name, c.output) for c in result.checks]
    assert not result.notes, result.notes  # every self-check cell ran cleanly
    assert "ok" in result.log
