"""Subtly wrong solutions a learner actually writes: each loses the check meant for it.

Every submission below passes the exercise notebook's own self-check cells, so only the
grader's hidden checks stand between it and full marks. For each one the test names the
check that must lose points and words the feedback must contain, so the learner is told
what is wrong rather than only that something is.
"""

from __future__ import annotations

import textwrap

import pytest

from recsys_course.grading import grade_submission

pytestmark = pytest.mark.grader

SUBTLE = {
    "ex01-accepts-inf-and-nan-alpha": ("ex01", """
        import numpy as np
        def preference_confidence(counts, alpha=40.0):
            r = np.array(counts, dtype=np.float64)
            if np.isnan(r).any() or (r < 0).any():
                raise ValueError("bad counts")
            if alpha < 0:
                raise ValueError("bad alpha")
            return (r > 0).astype(np.float64), 1.0 + alpha * r
        """, "rejects negative / NaN / inf counts", ["an infinite count"]),
    "ex01-changes-the-callers-array": ("ex01", """
        import numpy as np
        def preference_confidence(counts, alpha=40.0):
            r = np.asarray(counts, dtype=np.float64)
            if not np.isfinite(r).all() or (r < 0).any() or not np.isfinite(alpha) or alpha < 0:
                raise ValueError("bad input")
            p = (r > 0).astype(np.float64)
            r *= alpha
            r += 1
            return p, r
        """, "caller's array unchanged", ["caller's counts after the call"]),
    "ex02-preference-one-for-a-zero-count": ("ex02", """
        import numpy as np
        def als_user_update(Y, YtY, items, counts, alpha, regularization):
            items = np.asarray(items, dtype=np.int64)
            counts = np.asarray(counts, dtype=np.float64)
            if items.shape != counts.shape:
                raise ValueError("length")
            if items.size and (items.min() < 0 or items.max() >= len(Y)):
                raise ValueError("index")
            Yu = np.asarray(Y)[items]
            c = 1.0 + alpha * counts
            A = YtY + (Yu.T * (c - 1.0)) @ Yu + regularization * np.eye(Yu.shape[1])
            return np.linalg.solve(A, Yu.T @ c)
        """, "random users and hyperparameters", ["count of 0", "x_u differs"]),
    "ex02-negative-index-wraps": ("ex02", """
        import numpy as np
        def als_user_update(Y, YtY, items, counts, alpha, regularization):
            items = np.asarray(items, dtype=np.int64)
            counts = np.asarray(counts, dtype=np.float64)
            if items.shape != counts.shape:
                raise ValueError("length")
            if items.size and items.max() >= len(Y):
                raise ValueError("index")
            Yu = np.asarray(Y)[items]
            c = 1.0 + alpha * counts
            p = (counts > 0).astype(float)
            A = YtY + (Yu.T * (c - 1.0)) @ Yu + regularization * np.eye(Yu.shape[1])
            return np.linalg.solve(A, Yu.T @ (c * p))
        """, "rejects mismatched or unknown items", ["a negative item index"]),
    "ex03-stored-zero-counts-as-touched": ("ex03", """
        import numpy as np
        import scipy.sparse as sp
        def sample_negatives(user_items, user, n, rng):
            m = sp.csr_matrix(user_items)
            if not 0 <= user < m.shape[0] or n < 0:
                raise ValueError("bad user or n")
            candidates = np.setdiff1d(np.arange(m.shape[1]), m[user].indices)
            if candidates.size == 0:
                raise ValueError("nothing to draw")
            return rng.choice(candidates, size=n)
        """, "uniform over the unseen items", ["stored in the matrix with the value 0"]),
    "ex03-negative-user-wraps": ("ex03", """
        import numpy as np
        import scipy.sparse as sp
        def sample_negatives(user_items, user, n, rng):
            m = sp.csr_matrix(user_items)
            if user >= m.shape[0] or n < 0:
                raise ValueError("bad user or n")
            row = m[user]
            seen = row.indices[row.data > 0]
            candidates = np.setdiff1d(np.arange(m.shape[1]), seen)
            if candidates.size == 0:
                raise ValueError("nothing to draw")
            return rng.choice(candidates, size=n)
        """, "rejects a bad user or n", ["a negative user"]),
    "ex04-idcg-without-min-k": ("ex04", """
        import numpy as np
        def ndcg_at_k(ranked_items, relevant_items, k):
            if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
                raise ValueError("k")
            relevant = set(np.asarray(list(relevant_items)).ravel().tolist())
            if not relevant:
                return 0.0
            top = list(np.asarray(ranked_items).ravel().tolist())[:k]
            dcg = sum(1 / np.log2(j + 2) for j, item in enumerate(top) if item in relevant)
            idcg = sum(1 / np.log2(j + 2) for j in range(len(relevant)))
            return float(dcg / idcg)
        """, "perfect, below-k and empty cases", ["perfect top 3 with 4 relevant items"]),
    "ex04-non-integer-k": ("ex04", """
        import numpy as np
        def ndcg_at_k(ranked_items, relevant_items, k):
            if k < 1:
                raise ValueError("k")
            relevant = set(np.asarray(list(relevant_items)).ravel().tolist())
            if not relevant:
                return 0.0
            top = list(np.asarray(ranked_items).ravel().tolist())[:int(k)]
            dcg = sum(1 / np.log2(j + 2) for j, item in enumerate(top) if item in relevant)
            idcg = sum(1 / np.log2(j + 2) for j in range(min(int(k), len(relevant))))
            return float(dcg / idcg)
        """, "a non-integer k", ["k = 2.5"]),
}


@pytest.mark.parametrize("name", sorted(SUBTLE))
def test_subtle_mistake_loses_its_check_and_says_why(tmp_path, name):
    exercise, code, check_name, words = SUBTLE[name]
    path = tmp_path / f"{exercise}_subtle.py"
    path.write_text(textwrap.dedent(code), encoding="utf-8")
    result = grade_submission(path, seed=0, timeout=5.0)
    lost = [c for c in result.checks if c.score < c.max_score]
    assert [c.name for c in lost if check_name in c.name], (
        f"{name}: no check named like {check_name!r} lost points; lost: {[c.name for c in lost]}")
    target = next(c for c in lost if check_name in c.name)
    for word in words:
        assert word in target.output, f"{name}: feedback {target.output!r} does not mention {word!r}"
    # the mistake is subtle: it loses that check (and perhaps a related one), not everything
    assert result.score >= 0.6 * result.max_score, (name, result.score)


def test_cli_output_into_a_closed_pipe_is_not_a_traceback(tmp_path):
    """`recsys-course grade ... | head`: the reader leaves early; no traceback, reports still written."""
    import subprocess
    import sys

    from recsys_course.exercises import EXERCISES

    report = tmp_path / "report.json"
    stub = EXERCISES["ex04"].notebook_name
    root = EXERCISES["ex04"].source_path.parents[2]
    command = [sys.executable, "-m", "recsys_course.cli", "grade", str(root / "exercises" / stub),
               "--seed", "0", "--json", str(report)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    process.stdout.close()  # the reader is gone before the grader prints anything (like `| head -0`)
    stderr = process.stderr.read().decode()
    process.wait(timeout=120)
    process.stderr.close()
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
    assert report.exists()
