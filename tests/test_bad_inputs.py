"""Bad input to the public API: a clear ValueError/TypeError that names the argument.

One table of calls a learner might plausibly get wrong (wrong type, shape, NaN, negative
counts, unknown users/items/ids, empty data, k = 0, recommending before fit), across
recsys_course.feedback, .data, .models, .metrics, .quiz and .grading. Each row says which
exception must come out and a pattern its message must contain (the argument's name and,
where it helps, the bad value). A numba error, a numpy error, a hang or a silent result fails
the row. Calls that are *allowed* to succeed on odd input (a huge k is clipped, an empty user
list gives an empty result) are checked for the right shape of answer at the end.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp

from recsys_course import feedback
from recsys_course.data import Interactions, leave_k_out, simulate, train_test_split
from recsys_course.grading import SubmissionError, grade_submission
from recsys_course.metrics import evaluate
from recsys_course.models import BPR, ExplicitALS, ImplicitALS, ItemKNN, NotFittedError, Popularity
from recsys_course.quiz import Quiz

N_USERS, N_ITEMS = 12, 9


def _counts() -> sp.csr_matrix:
    rng = np.random.default_rng(0)
    dense = (rng.random((N_USERS, N_ITEMS)) < 0.4) * rng.integers(1, 5, (N_USERS, N_ITEMS))
    dense[np.arange(N_USERS), np.arange(N_USERS) % N_ITEMS] += 1  # every user has an item
    return sp.csr_matrix(dense.astype(np.float64))


def _with(matrix: sp.csr_matrix, value: float) -> sp.csr_matrix:
    bad = matrix.copy()
    bad.data[0] = value
    return bad


MAKERS = {
    "ImplicitALS": lambda **kw: ImplicitALS(**{"factors": 3, "iterations": 2, "progress": False, "random_state": 0,
                                               **kw}),
    "BPR": lambda **kw: BPR(**{"factors": 3, "epochs": 2, "num_threads": 1, "random_state": 0, **kw}),
    "Popularity": lambda **kw: Popularity(**kw),
    "ItemKNN": lambda **kw: ItemKNN(**kw),
    "ExplicitALS": lambda **kw: ExplicitALS(**{"factors": 3, "iterations": 2, "random_state": 0, **kw}),
}
# ExplicitALS.fit names its argument `ratings`; every other model's is `counts`.
DATA_ARG = {name: ("ratings" if name == "ExplicitALS" else "counts") for name in MAKERS}


@pytest.fixture(scope="module")
def ctx():
    counts = _counts()
    train, test = train_test_split(counts, random_state=0)
    fitted = {name: make().fit(counts) for name, make in MAKERS.items()}
    return SimpleNamespace(counts=counts, train=train, test=test, fitted=fitted,
                           popularity=Popularity().fit(train), quiz=Quiz())


# ----------------------------------------------------------------------------- the table
# (id, call taking ctx, exception type, regex the message must match)
CASES = []


# feedback: counts, alpha, scheme, epsilon
for fn in (feedback.confidence, feedback.preference, feedback.preference_confidence):
    n = fn.__name__
    CASES += [
        pytest.param(lambda c, fn=fn: fn("abc"), TypeError, r"counts .*'abc'", id=f"{n}-string"),
        pytest.param(lambda c, fn=fn: fn(None), TypeError, r"counts .*None", id=f"{n}-None"),
        pytest.param(lambda c, fn=fn: fn([[1, -1]]), ValueError, r"counts .*>= 0.*-1", id=f"{n}-negative"),
        pytest.param(lambda c, fn=fn: fn([[np.nan]]), ValueError, r"counts .*finite.*nan", id=f"{n}-nan"),
        pytest.param(lambda c, fn=fn: fn([[np.inf]]), ValueError, r"counts .*finite.*inf", id=f"{n}-inf"),
        pytest.param(lambda c, fn=fn: fn(sp.csr_matrix(np.array([[0, -1.0]]))), ValueError, r"counts .*>= 0",
                     id=f"{n}-sparse-negative"),
        pytest.param(lambda c, fn=fn: fn(sp.csr_matrix(np.array([[0, np.nan]]))), ValueError, r"counts .*finite",
                     id=f"{n}-sparse-nan"),
        pytest.param(lambda c, fn=fn: fn(np.ones((2, 2, 2))), ValueError, r"counts .*dimensions", id=f"{n}-3d"),
        pytest.param(lambda c, fn=fn: fn(np.array([[1 + 1j]])), TypeError, r"counts .*real", id=f"{n}-complex"),
        pytest.param(lambda c, fn=fn: fn(np.array([["a", 1]], dtype=object)), TypeError, r"counts .*real",
                     id=f"{n}-object"),
    ]
for fn in (feedback.confidence, feedback.preference_confidence):
    n = fn.__name__
    CASES += [
        pytest.param(lambda c, fn=fn: fn([[1]], alpha=-1), ValueError, r"alpha .*>= 0.*-1", id=f"{n}-alpha-negative"),
        pytest.param(lambda c, fn=fn: fn([[1]], alpha=np.nan), ValueError, r"alpha .*finite.*nan", id=f"{n}-alpha-nan"),
        pytest.param(lambda c, fn=fn: fn([[1]], alpha="x"), TypeError, r"alpha .*'x'", id=f"{n}-alpha-string"),
        pytest.param(lambda c, fn=fn: fn([[1]], alpha=None), TypeError, r"alpha .*None", id=f"{n}-alpha-None"),
        pytest.param(lambda c, fn=fn: fn([[1]], scheme="foo"), ValueError, r"scheme .*'foo'", id=f"{n}-scheme"),
        pytest.param(lambda c, fn=fn: fn([[1]], scheme="log", epsilon=0), ValueError, r"epsilon .*> 0",
                     id=f"{n}-epsilon-zero"),
    ]

# data.simulate
for arg, value, exc in [("n_users", 0, ValueError), ("n_users", -5, ValueError), ("n_users", 2.5, TypeError),
                        ("n_users", "10", TypeError), ("n_items", 0, ValueError), ("n_factors", 0, ValueError),
                        ("like_fraction", 1.5, ValueError), ("like_fraction", math.nan, ValueError),
                        ("exposure_fraction", -0.1, ValueError), ("consume_probability", 2, ValueError),
                        ("mean_extra_count", -1, ValueError), ("noise_probability", -1, ValueError),
                        ("random_state", "x", TypeError), ("random_state", -1, ValueError),
                        ("random_state", 1.5, TypeError)]:
    CASES.append(pytest.param(lambda c, arg=arg, value=value: simulate(**{"random_state": 0, arg: value}),
                              exc, rf"{arg} ", id=f"simulate-{arg}={value!r}"))

# data.train_test_split / leave_k_out
for name, split in (("train_test_split", train_test_split), ("leave_k_out", leave_k_out)):
    CASES += [
        pytest.param(lambda c, s=split: s(_with(c.counts, -1.0), random_state=0), ValueError, r"counts .*>= 0",
                     id=f"{name}-negative"),
        pytest.param(lambda c, s=split: s(_with(c.counts, np.nan), random_state=0), ValueError, r"counts .*finite",
                     id=f"{name}-nan"),
        pytest.param(lambda c, s=split: s("abc", random_state=0), TypeError, r"counts ", id=f"{name}-string"),
        pytest.param(lambda c, s=split: s(None, random_state=0), TypeError, r"counts ", id=f"{name}-None"),
        pytest.param(lambda c, s=split: s(np.ones(5), random_state=0), TypeError, r"counts .*shape \(5,\)",
                     id=f"{name}-1d"),
        pytest.param(lambda c, s=split: s(sp.csr_matrix((0, 0)), random_state=0), ValueError,
                     r"counts .*at least one", id=f"{name}-empty"),
        pytest.param(lambda c, s=split: s(sp.csr_matrix((4, 4)), random_state=0), ValueError,
                     r"counts .*at least one", id=f"{name}-all-zero"),
        pytest.param(lambda c, s=split: s(c.counts, random_state="x"), TypeError, r"random_state ",
                     id=f"{name}-random_state"),
    ]
for value, exc in [(0, ValueError), (1, ValueError), (1.5, ValueError), (math.nan, ValueError), ("0.2", TypeError)]:
    CASES.append(pytest.param(lambda c, v=value: train_test_split(c.counts, test_fraction=v, random_state=0),
                              exc, r"test_fraction ", id=f"train_test_split-test_fraction={value!r}"))
for value in (0, -1):
    CASES.append(pytest.param(lambda c, v=value: train_test_split(c.counts, min_interactions=v, random_state=0),
                              ValueError, r"min_interactions ", id=f"train_test_split-min_interactions={value}"))
for value, exc in [(0, ValueError), (-1, ValueError), (1.5, TypeError), (True, TypeError)]:
    CASES.append(pytest.param(lambda c, v=value: leave_k_out(c.counts, k=v, random_state=0), exc, r"k must",
                              id=f"leave_k_out-k={value!r}"))

# data.Interactions
CASES += [
    pytest.param(lambda c: Interactions(["a", "b"], ["x"]), ValueError, r"users and items .*2 and 1",
                 id="Interactions-length-mismatch"),
    pytest.param(lambda c: Interactions(["a", "b"], ["x", "y"], [1.0]), ValueError, r"values ",
                 id="Interactions-values-length"),
    pytest.param(lambda c: Interactions(["a"], ["x"], [np.nan]), ValueError, r"values .*finite",
                 id="Interactions-values-nan"),
    pytest.param(lambda c: Interactions(["a"], ["x"], [-2.0]), ValueError, r"values .*>= 0",
                 id="Interactions-values-negative"),
    pytest.param(lambda c: Interactions([], []), ValueError, r"users .*empty", id="Interactions-empty"),
    pytest.param(lambda c: Interactions(None, ["x"]), TypeError, r"users ", id="Interactions-users-None"),
    pytest.param(lambda c: Interactions(5, ["x"]), TypeError, r"users ", id="Interactions-users-int"),
    pytest.param(lambda c: Interactions([["a", "b"]], [["x", "y"]]), TypeError, r"users .*hashable",
                 id="Interactions-2d"),
    pytest.param(lambda c: Interactions(["a", None], ["x", "y"]), ValueError, r"users .*missing",
                 id="Interactions-None-id"),
    pytest.param(lambda c: Interactions(["a", "b"], ["x", "y"]).user_index("zzz"), ValueError, r"'zzz'",
                 id="Interactions-unknown-user"),
    pytest.param(lambda c: Interactions(["a", "b"], ["x", "y"]).item_id(99), ValueError, r"item .*99",
                 id="Interactions-unknown-item-index"),
    pytest.param(lambda c: Interactions(["a", "b"], ["x", "y"]).item_id(-1), ValueError, r"item .*-1",
                 id="Interactions-negative-item-index"),
]

# models: hyperparameters (checked by fit at the latest)
BAD_PARAMS = {
    "ImplicitALS": [("factors", 0, ValueError), ("factors", -1, ValueError), ("factors", 2.5, TypeError),
                    ("regularization", -1.0, ValueError), ("regularization", math.nan, ValueError),
                    ("alpha", -1.0, ValueError), ("alpha", math.inf, ValueError), ("iterations", 0, ValueError),
                    ("solver", "foo", ValueError), ("cg_steps", 0, ValueError), ("scheme", "foo", ValueError),
                    ("dtype", np.int32, TypeError), ("num_threads", -1, ValueError),
                    ("random_state", "x", TypeError)],
    "BPR": [("factors", 0, ValueError), ("learning_rate", 0.0, ValueError), ("learning_rate", -0.1, ValueError),
            ("learning_rate", math.nan, ValueError), ("regularization", -1.0, ValueError), ("epochs", 0, ValueError),
            ("sampler", "foo", ValueError), ("negatives", 0, ValueError), ("max_draws", 0, ValueError),
            ("early_stopping", 0, ValueError), ("validation_pairs", -1, ValueError),
            ("init_scale", -1.0, ValueError), ("popularity_exponent", math.nan, ValueError),
            ("num_threads", -2, ValueError), ("random_state", "x", TypeError)],
    "Popularity": [("weighting", "foo", ValueError), ("weighting", None, ValueError)],
    "ItemKNN": [("neighbors", 0, ValueError), ("neighbors", -3, ValueError), ("neighbors", 2.5, TypeError),
                ("binary", "yes", TypeError)],
    "ExplicitALS": [("factors", 0, ValueError), ("regularization", -1.0, ValueError),
                    ("regularization_scaling", "foo", ValueError), ("iterations", 0, ValueError),
                    ("dtype", np.int32, TypeError), ("random_state", "x", TypeError)],
}
for model, rows in BAD_PARAMS.items():
    for arg, value, exc in rows:
        CASES.append(pytest.param(lambda c, m=model, a=arg, v=value: MAKERS[m](**{a: v}).fit(c.counts), exc,
                                  rf"{arg} ", id=f"{model}-{arg}={value!r}"))

# models: the data given to fit, and calls after fit
for model in MAKERS:
    arg = DATA_ARG[model]
    bad_data = [("negative", lambda c: _with(c.counts, -1.0), ValueError, rf"{arg} .*>= 0"),
                ("nan", lambda c: _with(c.counts, np.nan), ValueError, rf"{arg} .*finite"),
                ("inf", lambda c: _with(c.counts, np.inf), ValueError, rf"{arg} .*finite"),
                ("string", lambda c: "abc", TypeError, rf"{arg} "),
                ("None", lambda c: None, TypeError, rf"{arg} "),
                ("1d", lambda c: np.ones(5), TypeError, rf"{arg} "),
                ("dense-list", lambda c: c.counts.toarray().tolist(), TypeError, rf"{arg} .*sparse"),
                ("0x0", lambda c: sp.csr_matrix((0, 0)), ValueError, rf"{arg} .*at least one"),
                ("3x0", lambda c: sp.csr_matrix((3, 0)), ValueError, rf"{arg} .*at least one"),
                ("all-zero", lambda c: sp.csr_matrix((4, 4)), ValueError, rf"{arg} .*at least one"),
                ("complex", lambda c: sp.csr_matrix(c.counts, dtype=complex), TypeError, rf"{arg} .*real")]
    for label, data, exc, pattern in bad_data:
        CASES.append(pytest.param(lambda c, m=model, d=data: MAKERS[m]().fit(d(c)), exc, pattern,
                                  id=f"{model}.fit-{label}"))
    unfitted = [("recommend", lambda m: m.recommend(0)), ("score", lambda m: m.score([0])),
                ("recommend_batch", lambda m: m.recommend_batch([0]))]
    if model != "Popularity":
        unfitted.append(("similar_items", lambda m: m.similar_items(0)))
    for label, call in unfitted:
        CASES.append(pytest.param(lambda c, m=model, call=call: call(MAKERS[m]()), NotFittedError,
                                  r"not fitted.*fit", id=f"{model}.{label}-before-fit"))
    after = [
        ("recommend-user=-1", lambda f: f.recommend(-1), ValueError, r"user .*-1"),
        ("recommend-user=n_users", lambda f: f.recommend(N_USERS), ValueError, rf"user .*{N_USERS}"),
        ("recommend-user=1.5", lambda f: f.recommend(1.5), TypeError, r"user .*1\.5"),
        ("recommend-user='a'", lambda f: f.recommend("a"), TypeError, r"user .*'a'"),
        ("recommend-user=None", lambda f: f.recommend(None), TypeError, r"user .*None"),
        ("recommend-user=True", lambda f: f.recommend(True), TypeError, r"user .*True"),
        ("recommend-k=0", lambda f: f.recommend(0, k=0), ValueError, r"k must .*0"),
        ("recommend-k=-1", lambda f: f.recommend(0, k=-1), ValueError, r"k must .*-1"),
        ("recommend-k=2.5", lambda f: f.recommend(0, k=2.5), TypeError, r"k must .*2\.5"),
        ("recommend-filter_seen", lambda f: f.recommend(0, filter_seen="no"), TypeError, r"filter_seen "),
        ("recommend_batch-unknown", lambda f: f.recommend_batch([0, 99]), ValueError, r"users .*99"),
        ("recommend_batch-2d", lambda f: f.recommend_batch([[0, 1]]), ValueError, r"users .*1-d"),
        ("recommend_batch-k=0", lambda f: f.recommend_batch([0, 1], k=0), ValueError, r"k must"),
        ("score-unknown", lambda f: f.score([99]), ValueError, r"users .*99"),
        ("score-negative", lambda f: f.score([-1]), ValueError, r"users .*-1"),
        ("score-string", lambda f: f.score(["a"]), TypeError, r"users .*integer"),
        ("score-float", lambda f: f.score([0.5]), TypeError, r"users .*integer"),
    ]
    if model != "Popularity":
        after += [
            ("similar_items-item=-1", lambda f: f.similar_items(-1), ValueError, r"item .*-1"),
            ("similar_items-item=n_items", lambda f: f.similar_items(N_ITEMS), ValueError, rf"item .*{N_ITEMS}"),
            ("similar_items-item='x'", lambda f: f.similar_items("x"), TypeError, r"item .*'x'"),
            ("similar_items-k=0", lambda f: f.similar_items(0, k=0), ValueError, r"k must"),
        ]
    for label, call, exc, pattern in after:
        CASES.append(pytest.param(lambda c, m=model, call=call: call(c.fitted[m]), exc, pattern,
                                  id=f"{model}.{label}"))

CASES += [
    pytest.param(lambda c: c.fitted["ImplicitALS"].explain(99, 0), ValueError, r"user .*99", id="explain-user"),
    pytest.param(lambda c: c.fitted["ImplicitALS"].explain(0, 99), ValueError, r"item .*99", id="explain-item"),
    pytest.param(lambda c: c.fitted["ImplicitALS"].explain(0, 0, k=0), ValueError, r"k must", id="explain-k=0"),
    pytest.param(lambda c: MAKERS["BPR"]().fit(sp.csr_matrix(np.ones((3, 4)))), ValueError,
                 r"counts .*every item", id="BPR.fit-nothing-to-sample"),
    pytest.param(lambda c: MAKERS["BPR"]().fit(c.counts, validation=sp.csr_matrix(np.ones((3, 3)))), ValueError,
                 r"validation .*shape", id="BPR.fit-validation-shape"),
    pytest.param(lambda c: MAKERS["BPR"]().fit(c.counts, validation=_with(c.counts, -1.0)), ValueError,
                 r"validation .*>= 0", id="BPR.fit-validation-negative"),
]

# metrics.evaluate
CASES += [
    pytest.param(lambda c: evaluate(c.popularity, c.train, c.test, k=0), ValueError, r"k must .*0", id="evaluate-k=0"),
    pytest.param(lambda c: evaluate(c.popularity, c.train, c.test, k=-1), ValueError, r"k must", id="evaluate-k=-1"),
    pytest.param(lambda c: evaluate(c.popularity, c.train, c.test, k=2.5), TypeError, r"k must", id="evaluate-k=2.5"),
    pytest.param(lambda c: evaluate(c.popularity, c.train, c.test, metrics=["foo"]), ValueError, r"metrics .*'foo'",
                 id="evaluate-metric-unknown"),
    pytest.param(lambda c: evaluate(c.popularity, c.train, c.test, metrics=[]), ValueError, r"metrics ",
                 id="evaluate-metrics-empty"),
    pytest.param(lambda c: evaluate(c.popularity, c.train, sp.csr_matrix(np.ones((N_USERS, 5)))), ValueError,
                 r"same shape", id="evaluate-test-shape"),
    pytest.param(lambda c: evaluate(c.popularity, sp.csr_matrix(np.ones((5, N_ITEMS))), c.test), ValueError,
                 r"train must have the same shape", id="evaluate-train-shape"),
    pytest.param(lambda c: evaluate(c.popularity, c.train, _with(c.test, -1.0)), ValueError, r"test .*>= 0",
                 id="evaluate-test-negative"),
    pytest.param(lambda c: evaluate(c.popularity, c.train, _with(c.test, np.nan)), ValueError, r"test .*finite",
                 id="evaluate-test-nan"),
    pytest.param(lambda c: evaluate(c.popularity, c.train, sp.csr_matrix(c.train.shape)), ValueError,
                 r"test .*at least one", id="evaluate-test-empty"),
    pytest.param(lambda c: evaluate(c.popularity, c.train, None), TypeError, r"test ", id="evaluate-test-None"),
    pytest.param(lambda c: evaluate(Popularity(), c.train, c.test), NotFittedError, r"not fitted",
                 id="evaluate-unfitted"),
    pytest.param(lambda c: evaluate(None, c.train, c.test), TypeError, r"model ", id="evaluate-model-None"),
    pytest.param(lambda c: evaluate("x", c.train, c.test), TypeError, r"model .*'x'", id="evaluate-model-string"),
    pytest.param(lambda c: evaluate(c.popularity, c.train, c.test, users=[99]), ValueError, r"users .*99",
                 id="evaluate-users-unknown"),
    pytest.param(lambda c: evaluate(c.popularity, c.train, c.test, users=[-1]), ValueError, r"users .*-1",
                 id="evaluate-users-negative"),
    pytest.param(lambda c: evaluate(c.popularity, c.train, c.test, users=["a"]), TypeError, r"users ",
                 id="evaluate-users-string"),
    pytest.param(lambda c: evaluate(c.popularity, c.train, c.test, users=[]), ValueError, r"test holds no item",
                 id="evaluate-users-empty"),
    pytest.param(lambda c: evaluate(c.popularity, c.train, c.test, chunk_size=0), ValueError, r"chunk_size ",
                 id="evaluate-chunk_size"),
    pytest.param(lambda c: evaluate(Popularity().fit(sp.csr_matrix(np.eye(N_USERS, 5))), c.train, c.test),
                 ValueError, r"fitted on 5", id="evaluate-model-other-layout"),
]

# quiz
CASES += [
    pytest.param(lambda c: c.quiz.check({"nope": 1}), ValueError, r"'nope'", id="quiz-unknown-id"),
    pytest.param(lambda c: c.quiz.check({"q1-confidence-481": "abc"}), ValueError, r"q1-confidence-481.*'abc'",
                 id="quiz-numeric-text"),
    pytest.param(lambda c: c.quiz.check({"q1-confidence-481": math.nan}), ValueError, r"q1-confidence-481.*finite",
                 id="quiz-numeric-nan"),
    pytest.param(lambda c: c.quiz.check(None), TypeError, r"answers ", id="quiz-answers-None"),
    pytest.param(lambda c: c.quiz.check([481]), TypeError, r"answers ", id="quiz-answers-list"),
    pytest.param(lambda c: c.quiz.check({"signals-implicit": [0, 99]}), ValueError, r"signals-implicit.*99",
                 id="quiz-multiple-index"),
    pytest.param(lambda c: c.quiz.check({"signals-implicit": "a,z"}), ValueError, r"signals-implicit.*'z'",
                 id="quiz-multiple-letter"),
    pytest.param(lambda c: c.quiz.check({"q2-never-clicked": 5}), ValueError, r"q2-never-clicked.*5",
                 id="quiz-single-index"),
    pytest.param(lambda c: c.quiz.check({"q2-never-clicked": True}), ValueError, r"q2-never-clicked.*True",
                 id="quiz-single-bool"),
    pytest.param(lambda c: c.quiz.check({"q2-never-clicked": 1.5}), ValueError, r"q2-never-clicked.*1\.5",
                 id="quiz-single-float"),
    pytest.param(lambda c: c.quiz.subset(["nope"]), ValueError, r"'nope'", id="quiz-subset-unknown"),
    pytest.param(lambda c: c.quiz.subset([]), TypeError, r"questions ", id="quiz-subset-empty"),
    pytest.param(lambda c: Quiz("/nonexistent/bank.json"), ValueError, r"question bank", id="quiz-bank-missing"),
    pytest.param(lambda c: Quiz(42), TypeError, r"questions .*42", id="quiz-bank-int"),
    pytest.param(lambda c: Quiz({"questions": [{}]}), ValueError, r"question #1", id="quiz-bank-malformed"),
    pytest.param(lambda c: c.quiz.feedback_for("nope", 1), ValueError, r"question_id .*'nope'",
                 id="quiz-feedback_for-unknown"),
]


# grading: arguments of grade_submission (all rejected before any sandbox starts)
def _grading_cases():
    def on(tmp_path, name, text="x = 1\n"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return [
        pytest.param(lambda t: grade_submission(t / "ex01_missing.ipynb"), SubmissionError, r"ex01_missing",
                     id="grade-missing-file"),
        pytest.param(lambda t: grade_submission(on(t, "alice.py")), SubmissionError, r"alice\.py.*ex01",
                     id="grade-no-exercise-prefix"),
        pytest.param(lambda t: grade_submission(on(t, "alice.py"), exercise="ex09"), SubmissionError,
                     r"exercise .*'ex09'", id="grade-unknown-exercise"),
        pytest.param(lambda t: grade_submission(123), TypeError, r"path .*123", id="grade-path-int"),
        pytest.param(lambda t: grade_submission(t), SubmissionError, r"folder", id="grade-folder"),
        pytest.param(lambda t: grade_submission(on(t, "ex01_bad.ipynb", "{not json")), SubmissionError,
                     r"not a readable Jupyter notebook", id="grade-corrupt-notebook"),
        pytest.param(lambda t: grade_submission(on(t, "ex01_a.py"), timeout=-1), ValueError, r"timeout .*-1",
                     id="grade-timeout-negative"),
        pytest.param(lambda t: grade_submission(on(t, "ex01_a.py"), timeout=math.nan), ValueError, r"timeout ",
                     id="grade-timeout-nan"),
        pytest.param(lambda t: grade_submission(on(t, "ex01_a.py"), memory_mb=0), ValueError, r"memory_mb .*0",
                     id="grade-memory"),
        pytest.param(lambda t: grade_submission(on(t, "ex01_a.py"), seed="x"), TypeError, r"seed .*'x'",
                     id="grade-seed"),
    ]


@pytest.mark.parametrize(("call", "exc", "pattern"), CASES)
def test_bad_input_is_a_clear_error(ctx, call, exc, pattern):
    with pytest.raises(exc, match=pattern) as info:
        call(ctx)
    # never a numba/numpy error dressed up: the error comes from the course's own checks
    assert "numba" not in type(info.value).__module__
    assert "numpy" not in type(info.value).__module__


@pytest.mark.parametrize(("call", "exc", "pattern"), _grading_cases())
def test_grader_bad_arguments(tmp_path, call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call(tmp_path)


def test_submission_error_is_a_value_error():
    assert issubclass(SubmissionError, ValueError)
    assert issubclass(NotFittedError, ValueError)


# ------------------------------------------------------------- odd but allowed input
def test_huge_k_is_clipped_for_similar_items_and_evaluate(ctx):
    for name, model in ctx.fitted.items():
        if name == "Popularity":
            continue
        items, scores = model.similar_items(0, k=10**12)
        assert len(items) == len(scores) == N_ITEMS - 1, name
    result = evaluate(ctx.popularity, ctx.train, ctx.test, k=10**9, metrics=("ndcg",))
    assert result["k"] == N_ITEMS
    assert 0.0 <= result["ndcg"] <= 1.0


def test_empty_user_lists_give_empty_results(ctx):
    for name, model in ctx.fitted.items():
        assert model.score([]).shape == (0, N_ITEMS), name
        items, scores = model.recommend_batch([], k=3)
        assert items.shape == scores.shape == (0, 3), name


def test_a_user_who_has_seen_everything_gets_an_empty_list():
    dense = _counts().toarray()
    dense[0] = 1.0
    items, scores = Popularity().fit(sp.csr_matrix(dense)).recommend(0, k=3)
    assert items.size == scores.size == 0


def test_bpr_fits_when_one_user_has_every_item():
    dense = _counts().toarray()
    dense[0] = 1.0
    model = MAKERS["BPR"]().fit(sp.csr_matrix(dense))
    assert np.isfinite(model.user_factors).all()


def test_quiz_unanswered_is_not_an_error(ctx):
    result = ctx.quiz.check({"q1-confidence-481": None})
    assert "not answered" in result.report()


@pytest.mark.parametrize("args", [["quiz", "--list"]])
def test_cli_into_a_closed_pipe_is_not_a_traceback(args):
    """`recsys-course quiz --list | head -0`: the reader is gone before anything is printed."""
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-m", "recsys_course.cli", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    process.stdout.close()
    stderr = process.stderr.read().decode()
    process.wait(timeout=60)
    process.stderr.close()
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr


def test_a_split_that_would_leave_test_empty_is_refused():
    counts = _counts()
    largest = int(np.diff(counts.indptr).max())
    with pytest.raises(ValueError, match=rf"k must be smaller .*k={largest}"):
        leave_k_out(counts, k=largest, random_state=0)
    assert leave_k_out(counts, k=largest - 1, random_state=0).test.nnz > 0
    with pytest.raises(ValueError, match=rf"min_interactions={largest + 1} leaves no user"):
        train_test_split(counts, min_interactions=largest + 1, random_state=0)
    assert train_test_split(counts, min_interactions=largest, random_state=0).test.nnz > 0
    singles = sp.csr_matrix(np.eye(4))  # every user has one item: nothing can be held out
    with pytest.raises(ValueError, match=r"min_interactions=2 leaves no user"):
        train_test_split(singles, random_state=0)


def test_huge_k_is_cut_to_the_catalogue(small_counts):
    from recsys_course.models import ImplicitALS, Popularity

    for model in (Popularity().fit(small_counts),
                  ImplicitALS(factors=4, iterations=2, random_state=0, progress=False).fit(small_counts)):
        items, scores = model.recommend(0, k=10**12, filter_seen=False)
        assert items.size == small_counts.shape[1]
        batch_items, _ = model.recommend_batch([0, 1], k=10**12)
        assert batch_items.shape == (2, small_counts.shape[1])


def test_popularity_has_no_similar_items_and_says_so(small_counts):
    from recsys_course.models import Popularity

    with pytest.raises(TypeError, match="Popularity .* no similar_items"):
        Popularity().fit(small_counts).similar_items(0)


def test_bpr_that_diverges_says_so_and_keeps_the_previous_model(small_counts):
    import numpy as np

    from recsys_course.models import BPR

    model = BPR(factors=4, epochs=2, random_state=0, progress=False).fit(small_counts)
    before = model.item_factors.copy()
    model.learning_rate = 1e6
    with pytest.raises(ValueError, match="learning_rate=1e\\+06 is too large"):
        model.fit(small_counts)
    np.testing.assert_array_equal(model.item_factors, before)
    with pytest.raises(ValueError, match="not fitted"):
        BPR(factors=4, learning_rate=1e6, epochs=3, random_state=0, progress=False).recommend(0)


def test_alpha_too_large_for_float32_is_a_clear_error_without_warnings(small_counts):
    import warnings

    from recsys_course.models import ImplicitALS

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="alpha=1e\\+38 .* too large for dtype float32"):
            ImplicitALS(alpha=1e38, factors=2, progress=False).fit(small_counts)
