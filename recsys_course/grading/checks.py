"""The hidden checks: which inputs the grader sends and how it judges the answers.

Nothing here is shown to learners (the notebooks only carry visible self-checks). Every
check draws fresh inputs from the grader's random generator on every run, so an answer
file prepared in advance cannot match. A check is a function ``(rng) -> Plan``: the calls to
make inside the sandbox (arguments as plain data) and a judge that turns the outcomes into
a fraction of the check's points plus a message. Expected values come from the reference
solution in :mod:`recsys_course.exercises`, computed here, in the grader's process.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..exercises import EXERCISES, reference
from .protocol import Returned, decode_arg, encode_array, encode_csr
from .sandbox import CallOutcome

__all__ = ["CHECKS", "Check", "Plan", "call", "plans_for"]


@dataclass
class Plan:
    calls: list[dict]
    judge: Callable[[list[CallOutcome]], tuple[float, str]]


@dataclass
class Check:
    name: str
    points: float
    build: Callable[[np.random.Generator], Plan]
    hint: str = ""


# ----------------------------------------------------------------- argument specs
def call(*args, report_args: tuple[int, ...] = (), **kwargs) -> dict:
    return {"args": list(args), "kwargs": kwargs, "report_args": list(report_args)}


arr = encode_array  # the argument codec lives in .protocol
csr = encode_csr


def seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31 - 1))


def expected_of(function: str, spec: dict):
    """Run the reference on the decoded spec, here in the grader."""
    args = [decode_arg(a) for a in spec["args"]]
    kwargs = {k: decode_arg(v) for k, v in spec["kwargs"].items()}
    return reference_for(function)(*args, **kwargs)


_REFERENCES: dict[str, Callable] = {}


def reference_for(function: str) -> Callable:
    """The reference solution that defines ``function``, found through the exercise registry."""
    if function not in _REFERENCES:
        by_function = {spec.function: spec.id for spec in EXERCISES.values()}
        if function not in by_function:
            raise ValueError(f"no exercise asks for a function named {function!r}; known: {sorted(by_function)}")
        _REFERENCES[function] = reference(by_function[function])
    return _REFERENCES[function]


# ----------------------------------------------------------------- comparisons
def as_array(outcome: CallOutcome):
    """The returned value as an ndarray, or (None, why-not)."""
    if outcome.status != "ok":
        return None, outcome.describe()
    value = outcome.value
    if isinstance(value, Returned):
        return value.array, ""
    if isinstance(value, tuple):
        return None, f"returned a tuple of {len(value)} items, expected one array"
    return None, "returned None" if value is None else "returned something that is not numbers"


def same_array(got, expected, *, rtol: float = 1e-7, atol: float = 1e-9, what: str = "the result"):
    """(True, "") or (False, a message naming the first wrong entry)."""
    expected = np.asarray(expected, dtype=np.float64)
    if got is None:
        return False, f"{what}: nothing to compare"
    if got.shape != expected.shape:
        return False, f"{what} has shape {got.shape}, expected {expected.shape}"
    got_f = got.astype(np.float64)
    close = np.isclose(got_f, expected, rtol=rtol, atol=atol)
    if close.all():
        return True, ""
    bad = np.argwhere(~close)
    first = tuple(int(i) for i in bad[0])
    where = f" at index {first}" if first else ""
    count = f" ({len(bad)} of {expected.size} entries wrong)" if expected.size > 1 else ""
    return False, f"{what} differs{where}: expected {expected[first]:.6g}, got {got_f[first]:.6g}{count}"


def unpack_pair(outcome: CallOutcome):
    if outcome.status != "ok":
        return None, None, outcome.describe()
    value = outcome.value
    if not isinstance(value, tuple) or len(value) != 2:
        kind = f"a tuple of {len(value)}" if isinstance(value, tuple) else "a single value"
        return None, None, f"returned {kind}, expected the pair (P, C)"
    p, c = value
    if not isinstance(p, Returned) or not isinstance(c, Returned):
        return None, None, "P and C must both be numeric arrays"
    return p.array, c.array, ""


def fraction_report(results: list[tuple[bool, str]], what: str) -> tuple[float, str]:
    """Partial credit: the share of cases right, and the first problem in words."""
    passed = sum(ok for ok, _ in results)
    total = len(results)
    if total == 1:
        return (1.0, f"right ({what})") if passed else (0.0, results[0][1])
    if passed == total:
        return 1.0, f"{total} of {total} cases right ({what})"
    first = next(msg for ok, msg in results if not ok)
    return passed / total, f"{passed} of {total} cases right ({what}); first problem: {first}"


def raises_value_error(outcome: CallOutcome, case: str) -> tuple[bool, str]:
    if outcome.raised("ValueError"):
        return True, ""
    if outcome.status == "ok":
        return False, f"{case}: returned a result instead of raising ValueError"
    return False, f"{case}: expected ValueError, but {outcome.describe()}"


def must_raise(cases: list[str], what: str) -> Callable[[list[CallOutcome]], tuple[float, str]]:
    """The judge of every bad-input check: each call (one per case) must raise ValueError.
    One case: all or nothing, ``what`` when right; several: partial credit per case."""

    def judge(out):
        results = [raises_value_error(o, c) for o, c in zip(out, cases)]
        if len(cases) == 1:
            ok, message = results[0]
            return float(ok), message or what
        return fraction_report(results, what)

    return judge


# ================================================================= ex01
SYLLABUS_COUNTS = [[0, 3, 0], [1, 0, 8], [0, 0, 2]]


def _ex01_worked(rng):
    spec = call(arr(SYLLABUS_COUNTS, "int64"), 40.0)

    def judge(out):
        p, c, why = unpack_pair(out[0])
        if why:
            return 0.0, why
        ok_p, msg_p = same_array(p, [[0, 1, 0], [1, 0, 1], [0, 0, 1]], what="P")
        ok_c, msg_c = same_array(c, [[1, 121, 1], [41, 1, 321], [1, 1, 81]], what="C")
        return (ok_p + ok_c) / 2, "; ".join(m for m in (msg_p, msg_c) if m) or "P and C match the worked example"

    return Plan([spec], judge)


def _ex01_random(rng):
    specs = []
    for _ in range(3):
        shape = (int(rng.integers(2, 7)), int(rng.integers(2, 9)))
        counts = rng.integers(1, 25, size=shape) * (rng.random(shape) < 0.4)
        specs.append(call(arr(counts, "int64"), float(np.round(rng.uniform(0.5, 50), 3))))

    def judge(out):
        results = []
        for spec, outcome in zip(specs, out):
            expected_p, expected_c = expected_of("preference_confidence", spec)
            p, c, why = unpack_pair(outcome)
            if why:
                results += [(False, why), (False, why)]
                continue
            results.append(same_array(p, expected_p, what="P"))
            results.append(same_array(c, expected_c, what="C"))
        return fraction_report(results, "P and C of 3 random count matrices")

    return Plan(specs, judge)


def _ex01_shapes(rng):
    row = rng.integers(0, 9, size=7).tolist()
    specs = [
        call(rng.integers(0, 5, size=(3, 4)).tolist(), 10.0),           # a list of lists
        call(arr(row, "int64"), 40.0),                                   # one row, 1-d
        call(arr(np.round(rng.uniform(0, 3, size=(2, 5)), 2)), 2.5),     # fractional counts
        call(arr(rng.integers(0, 4, size=(4, 1)), "int64"), 1.0),       # a column
    ]
    names = ["a list of lists", "a 1-d array", "float counts", "a single column"]

    def judge(out):
        results = []
        for name, spec, outcome in zip(names, specs, out):
            expected_p, expected_c = expected_of("preference_confidence", spec)
            p, c, why = unpack_pair(outcome)
            if why:
                results.append((False, f"{name}: {why}"))
                continue
            problems = []
            for label, got, exp, src in (("P", p, expected_p, outcome.value[0]), ("C", c, expected_c, outcome.value[1])):
                ok, msg = same_array(got, exp, what=f"{label} for {name}")
                if not ok:
                    problems.append(msg)
                elif not src.source_dtype.startswith("float"):
                    problems.append(f"{label} for {name} has dtype {src.source_dtype}, expected float64")
            results.append((not problems, "; ".join(problems)))
        return fraction_report(results, "a list of lists, a 1-d array, float counts, a column")

    return Plan(specs, judge)


def _ex01_default_alpha(rng):
    counts = rng.integers(0, 6, size=(3, 3))
    spec = call(arr(counts, "int64"))

    def judge(out):
        p, c, why = unpack_pair(out[0])
        if why:
            return 0.0, why
        ok, msg = same_array(c, 1 + 40.0 * counts, what="C without an alpha argument")
        return float(ok), msg or "the default alpha is 40"

    return Plan([spec], judge)


def _ex01_bad_input(rng):
    specs = [call(arr([[1, -2], [0, 3]], "int64"), 40.0),
             call(arr([[1.0, float("nan")]]), 40.0),
             call(arr([[float("inf"), 2.0]]), 40.0),
             call(arr([[1, 2]], "int64"), -1.0),
             call(arr([[1, 2]], "int64"), float("nan"))]
    cases = ["a negative count", "a NaN count", "an infinite count", "a negative alpha", "a NaN alpha"]

    return Plan(specs, must_raise(cases, "each bad input must raise ValueError"))


def _ex01_unchanged(rng):
    counts = np.round(rng.uniform(0, 5, size=(3, 4)) * (rng.random((3, 4)) < 0.5), 1)
    spec = call(arr(counts), 40.0, report_args=(0,))

    def judge(out):
        outcome = out[0]
        p, c, why = unpack_pair(outcome)
        if why:
            return 0.0, why
        expected_p, expected_c = expected_of("preference_confidence", spec)
        for label, got, exp in (("P", p, expected_p), ("C", c, expected_c)):
            ok, msg = same_array(got, exp, what=label)
            if not ok:
                return 0.0, f"the result must be right first: {msg}"
        after = outcome.args_after.get(0)
        if not isinstance(after, Returned):
            return 0.0, "the input array could not be read back after the call"
        ok, msg = same_array(after.array, counts, what="the caller's counts after the call")
        return float(ok), msg or "right result, and the caller's array was left as it was"

    return Plan([spec], judge)


# ================================================================= ex02
def _factors(rng, n_items: int, f: int, scale: float = 0.3) -> dict:
    return {"t": "normal", "seed": seed(rng), "shape": [n_items, f], "scale": scale}


def _user(rng, n_items: int, n: int):
    items = np.sort(rng.choice(n_items, size=n, replace=False))
    counts = rng.integers(1, 15, size=n).astype(np.float64)
    return arr(items, "int64"), arr(counts)


def _als_judge(specs, what: str, rtol: float = 1e-6):
    def judge(out):
        results = []
        for spec, outcome in zip(specs, out):
            got, why = as_array(outcome)
            if why:
                results.append((False, why))
                continue
            expected = expected_of("als_user_update", spec)
            results.append(same_array(got.ravel() if got.ndim == 2 and 1 in got.shape else got, expected,
                                      rtol=rtol, atol=1e-8, what="x_u"))
        return fraction_report(results, what)

    return judge


def _ex02_small(rng):
    Y = _factors(rng, 30, 4, 0.5)
    items, counts = _user(rng, 30, 3)
    spec = call(Y, {"t": "gram", "of": Y}, items, counts, 40.0, 0.1)
    return Plan([spec], _als_judge([spec], "a 30-item catalogue"))


def _ex02_random(rng):
    specs = []
    for _ in range(4):
        n_items, f = int(rng.integers(50, 400)), int(rng.integers(2, 12))
        Y = _factors(rng, n_items, f)
        items, counts = _user(rng, n_items, int(rng.integers(2, 20)))
        specs.append(call(Y, {"t": "gram", "of": Y}, items, counts,
                          float(np.round(rng.uniform(0.5, 50), 2)), float(np.round(rng.uniform(0.01, 5), 3))))
    # The last user lists one item with a count of 0 (a stored zero): p_ui = 0 and c_ui = 1 there.
    specs[-1]["args"][3]["data"][0] = 0.0
    return Plan(specs, _als_judge(specs, "4 random catalogues, alphas and lambdas; one listed item has a count of 0"))


def _ex02_uses_yty(rng):
    n_items, f = 200, 6
    Y = _factors(rng, n_items, f)
    items, counts = _user(rng, n_items, 8)
    extra = np.round(rng.uniform(0.5, 2.0, size=f), 3).tolist()
    spec = call(Y, {"t": "gram", "of": Y, "diagonal": extra}, items, counts, 10.0, 0.5)
    plan_judge = _als_judge([spec], "a YtY with an extra diagonal")

    def judge(out):
        score, message = plan_judge(out)
        if score < 1:
            message += " (the check passes a YtY that differs from Y.T @ Y on purpose: use the argument, do not recompute it)"
        return score, message

    return Plan([spec], judge)


def _ex02_no_items(rng):
    Y = _factors(rng, 40, 5)
    spec = call(Y, {"t": "gram", "of": Y}, arr([], "int64"), arr([]), 40.0, 0.1)

    def judge(out):
        got, why = as_array(out[0])
        if why:
            return 0.0, why
        ok, msg = same_array(got, np.zeros(5), what="x_u of a user without items")
        return float(ok), msg or "a user without items gets the zero vector"

    return Plan([spec], judge)


def _ex02_large(rng):
    n_items, f = 200_000, 8
    Y = _factors(rng, n_items, f, 0.1)
    specs = []
    for _ in range(2):
        items, counts = _user(rng, n_items, 40)
        specs.append(call(Y, {"t": "gram", "of": Y}, items, counts, 40.0, 1.0))
    judge = _als_judge(specs, "2 users of 200,000 items; a dense C^u would need 320 GB")
    return Plan(specs, judge)


def _ex02_mismatch(rng):
    Y = _factors(rng, 20, 3)
    specs = [call(Y, {"t": "gram", "of": Y}, arr([1, 2, 3], "int64"), arr([1.0, 2.0]), 40.0, 0.1),
             call(Y, {"t": "gram", "of": Y}, arr([1, 25], "int64"), arr([1.0, 2.0]), 40.0, 0.1),
             call(Y, {"t": "gram", "of": Y}, arr([-1, 4], "int64"), arr([1.0, 2.0]), 40.0, 0.1)]
    cases = ["items and counts of different lengths", "an item index outside the catalogue",
             "a negative item index"]

    return Plan(specs, must_raise(cases, "each bad input must raise ValueError"))


# ================================================================= ex03
def _interactions(rng, n_users: int, n_items: int, density: float):
    dense = rng.integers(1, 6, size=(n_users, n_items)) * (rng.random((n_users, n_items)) < density)
    return dense


def _draws(outcome: CallOutcome):
    got, why = as_array(outcome)
    if why:
        return None, why
    if got.ndim != 1:
        return None, f"returned an array of shape {got.shape}, expected a 1-d array of item indices"
    if outcome.value.source_dtype.startswith(("float", "bool")):
        return None, f"returned dtype {outcome.value.source_dtype}, expected integer item indices"
    return got.astype(np.int64), ""


def _ex03_length(rng):
    dense = _interactions(rng, 5, 30, 0.3)
    n = int(rng.integers(5, 50))
    specs = [call(csr(dense), 1, n, {"t": "rng", "seed": seed(rng)}),
             call(csr(dense), 2, 0, {"t": "rng", "seed": seed(rng)})]

    def judge(out):
        results = []
        for spec, outcome in zip(specs, out):
            want = spec["args"][2]
            got, why = _draws(outcome)
            if why:
                results.append((False, why))
            elif got.size != want:
                results.append((False, f"asked for {want} negatives, got {got.size}"))
            else:
                results.append((True, ""))
        return fraction_report(results, "n > 0 and n = 0 draws")

    return Plan(specs, judge)


def _ex03_never_seen(rng):
    n_users, n_items = 30, 60
    dense = _interactions(rng, n_users, n_items, 0.35)
    users = rng.choice(n_users, size=6, replace=False)
    specs = [call(csr(dense), int(u), 400, {"t": "rng", "seed": seed(rng)}) for u in users]

    def judge(out):
        results = []
        for spec, outcome in zip(specs, out):
            user = spec["args"][1]
            got, why = _draws(outcome)
            if why:
                results.append((False, why))
                continue
            if got.size and (got.min() < 0 or got.max() >= n_items):
                results.append((False, f"user {user}: an index outside [0, {n_items - 1}]"))
                continue
            seen = np.flatnonzero(dense[user] > 0)
            hits = np.intersect1d(got, seen)
            if hits.size:
                results.append((False, f"user {user}: returned item {int(hits[0])}, which the user interacted with"))
            elif got.size != 400:
                results.append((False, f"user {user}: asked for 400, got {got.size}"))
            else:
                results.append((True, ""))
        return fraction_report(results, "6 users, 400 draws each")

    return Plan(specs, judge)


def _ex03_uniform(rng):
    n_items = 50
    dense = _interactions(rng, 3, n_items, 0.0)
    unseen = np.sort(rng.choice(n_items, size=20, replace=False))
    dense[1] = rng.integers(1, 5, size=n_items)
    dense[1, unseen] = 0
    n = 40_000
    matrix = csr(dense)
    # Five of the unseen items are *stored* with the value 0 (a stored zero, not an interaction):
    # they must be drawn like every other unseen item.
    stored_zeros = np.sort(rng.choice(unseen, size=5, replace=False))
    row = sorted(set(np.flatnonzero(dense[1]).tolist()) | set(stored_zeros.tolist()))
    data = [float(dense[1, j]) for j in row]
    start, end = matrix["indptr"][1], matrix["indptr"][2]
    matrix["indices"][start:end] = row
    matrix["data"][start:end] = data
    matrix["indptr"] = matrix["indptr"][:2] + [i + len(stored_zeros) for i in matrix["indptr"][2:]]
    spec = call(matrix, 1, n, {"t": "rng", "seed": seed(rng)})

    def judge(out):
        got, why = _draws(out[0])
        if why:
            return 0.0, why
        if got.size != n or got.min() < 0 or got.max() >= n_items:
            return 0.0, "wrong length or indices outside the catalogue"
        counts = np.bincount(got, minlength=n_items)
        frequency = counts[unseen] / n
        if frequency.sum() < 0.999:
            return 0.0, "some draws are items the user interacted with"
        if np.any(counts[stored_zeros] == 0):
            missed = int(stored_zeros[np.flatnonzero(counts[stored_zeros] == 0)[0]])
            return 0.0, (f"item {missed} is stored in the matrix with the value 0, which is not an interaction, "
                         "but it was never drawn (only a stored, positive entry means 'interacted')")
        worst = float(np.max(np.abs(frequency * len(unseen) - 1)))
        if worst <= 0.12:  # expected 2000 draws per item, sd about 44: 12% is about 5.4 sd
            return 1.0, f"all 20 unseen items drawn about equally often (largest deviation {worst:.0%})"
        return 0.0, (f"not uniform: one unseen item is drawn {worst:.0%} off the expected 1/20 share "
                     "(draw every unseen item with the same probability)")

    return Plan([spec], judge)


def _ex03_reproducible(rng):
    dense = _interactions(rng, 8, 40, 0.3)
    s1, s2 = seed(rng), seed(rng)
    specs = [call(csr(dense), 3, 50, {"t": "rng", "seed": s1}),
             call(csr(dense), 3, 50, {"t": "rng", "seed": s1}),
             call(csr(dense), 3, 50, {"t": "rng", "seed": s2})]

    def judge(out):
        draws = []
        for outcome in out:
            got, why = _draws(outcome)
            if why:
                return 0.0, why
            draws.append(got)
        same = draws[0].shape == draws[1].shape and np.array_equal(draws[0], draws[1])
        different = not (draws[0].shape == draws[2].shape and np.array_equal(draws[0], draws[2]))
        results = [(same, "two generators with the same seed gave different draws"),
                   (different, "generators with different seeds gave the same draws: use rng for every random choice")]
        return fraction_report([(ok, "" if ok else m) for ok, m in results], "same seed twice, then another seed")

    return Plan(specs, judge)


def _ex03_nothing_left(rng):
    dense = _interactions(rng, 4, 12, 0.3)
    dense[2] = rng.integers(1, 4, size=12)
    spec = call(csr(dense), 2, 5, {"t": "rng", "seed": seed(rng)})

    return Plan([spec], must_raise(["a user who interacted with every item"],
                                   "raises ValueError when nothing can be drawn"))


def _ex03_bad_args(rng):
    dense = _interactions(rng, 4, 12, 0.3)
    specs = [call(csr(dense), 4, 5, {"t": "rng", "seed": 1}),
             call(csr(dense), -1, 5, {"t": "rng", "seed": 1}),
             call(csr(dense), 1, -1, {"t": "rng", "seed": 1})]
    cases = ["user equal to the number of users", "a negative user", "a negative n"]

    return Plan(specs, must_raise(cases, "each bad input must raise ValueError"))


# ================================================================= ex04
def _ndcg_judge(specs, what: str):
    def judge(out):
        results = []
        for spec, outcome in zip(specs, out):
            got, why = as_array(outcome)
            if why:
                results.append((False, why))
                continue
            if got.size != 1:
                results.append((False, f"returned an array of shape {got.shape}, expected one number"))
                continue
            expected = expected_of("ndcg_at_k", spec)
            ranked, relevant, k = (decode_arg(a) for a in spec["args"])
            results.append(same_array(got.reshape(()), expected, rtol=1e-9, atol=1e-12,
                                      what=f"NDCG@{k} of {_short(ranked)} against {_short(relevant)}"))
        return fraction_report(results, what)

    return judge


def _short(value) -> str:
    items = sorted(value) if isinstance(value, set) else list(np.asarray(value).ravel().tolist())
    text = ", ".join(str(x) for x in items[:6]) + (", ..." if len(items) > 6 else "")
    return "{" + text + "}" if isinstance(value, set) else "[" + text + "]"


def _ex04_worked(rng):
    specs = [call([7, 3, 9], [3], 3), call([5, 1, 2, 8], [2, 8, 4], 4)]
    return Plan(specs, _ndcg_judge(specs, "two worked examples"))


def _ex04_random(rng):
    specs = []
    for _ in range(10):
        n_items = int(rng.integers(10, 60))
        length = int(rng.integers(1, n_items))
        ranked = rng.choice(n_items, size=length, replace=False)
        relevant = rng.choice(n_items, size=int(rng.integers(1, min(12, n_items + 1))), replace=False)
        k = int(rng.integers(1, length + 1))
        specs.append(call(arr(ranked, "int64"), arr(relevant, "int64"), k))
    return Plan(specs, _ndcg_judge(specs, "10 random rankings"))


def _ex04_long_k(rng):
    ranked = rng.choice(30, size=5, replace=False)
    relevant = rng.choice(30, size=8, replace=False)
    relevant[0] = ranked[2]
    specs = [call(arr(ranked, "int64"), arr(relevant, "int64"), 20)]
    return Plan(specs, _ndcg_judge(specs, "5 items ranked, k = 20"))


def _ex04_edges(rng):
    relevant = rng.choice(40, size=4, replace=False)
    rest = np.setdiff1d(np.arange(40), relevant)
    perfect = np.concatenate([relevant, rng.choice(rest, size=3, replace=False)])
    below = np.concatenate([rng.choice(rest, size=3, replace=False), relevant[:1]])
    specs = [call(arr(perfect, "int64"), arr(relevant, "int64"), 5),
             call(arr(below, "int64"), arr(relevant, "int64"), 3),
             call(arr(perfect, "int64"), [], 5),
             call(arr(perfect, "int64"), arr(relevant, "int64"), 3)]
    return Plan(specs, _ndcg_judge(specs, "perfect ranking, a hit below k, nothing relevant, "
                                          "a perfect top 3 with 4 relevant items (IDCG has min(k, relevant) hits)"))


def _ex04_repeats(rng):
    ranked = rng.choice(25, size=10, replace=False)
    relevant = [int(ranked[1]), int(ranked[4]), int(ranked[1]), int(rng.integers(25, 30))]
    specs = [call(arr(ranked, "int64"), relevant, 6),
             call(arr(ranked, "int64"), {"t": "set", "items": relevant}, 6)]
    return Plan(specs, _ndcg_judge(specs, "relevant items as a list with repeats and as a set"))


def _ex04_bad_k(rng):
    specs = [call([1, 2, 3], [2], 0), call([1, 2, 3], [2], -3), call([1, 2, 3], [2], 2.5)]
    cases = ["k = 0", "k = -3", "k = 2.5"]

    return Plan(specs, must_raise(cases, "each bad k must raise ValueError"))


# ================================================================= registry
CHECKS: dict[str, list[Check]] = {
    "ex01": [
        Check("worked example (alpha = 40)", 2, _ex01_worked),
        Check("random counts and alphas", 3, _ex01_random),
        Check("lists, 1-d, float and column inputs give float64", 2, _ex01_shapes),
        Check("default alpha is 40", 1, _ex01_default_alpha),
        Check("rejects negative / NaN / inf counts and negative / NaN alpha", 1, _ex01_bad_input),
        Check("right answer, caller's array unchanged", 1, _ex01_unchanged),
    ],
    "ex02": [
        Check("small user against the dense formula", 2, _ex02_small),
        Check("random users and hyperparameters", 3, _ex02_random),
        Check("uses the YtY argument", 1, _ex02_uses_yty),
        Check("user without items", 1, _ex02_no_items),
        Check("200,000-item catalogue (no dense C^u)", 2, _ex02_large),
        Check("rejects mismatched or unknown items", 1, _ex02_mismatch),
    ],
    "ex03": [
        Check("returns n integer indices", 1, _ex03_length),
        Check("never an item the user touched", 4, _ex03_never_seen),
        Check("uniform over the unseen items", 2, _ex03_uniform),
        Check("reproducible with the given rng", 1, _ex03_reproducible),
        Check("fails clearly when nothing is left", 1, _ex03_nothing_left),
        Check("rejects a bad user or n", 1, _ex03_bad_args),
    ],
    "ex04": [
        Check("two worked examples", 2, _ex04_worked),
        Check("random rankings against the reference", 3, _ex04_random),
        Check("k longer than the list", 1, _ex04_long_k),
        Check("perfect, below-k and empty cases", 2, _ex04_edges),
        Check("repeated relevant items, sets", 1, _ex04_repeats),
        Check("rejects k < 1 and a non-integer k", 1, _ex04_bad_k),
    ],
}


@dataclass
class BuiltCheck:
    check: Check
    plan: Plan
    first_call: int = 0
    n_calls: int = 0


def plans_for(exercise: str, rng: np.random.Generator) -> list[BuiltCheck]:
    built = []
    position = 0
    for check in CHECKS[exercise]:
        plan = check.build(rng)
        built.append(BuiltCheck(check, plan, position, len(plan.calls)))
        position += len(plan.calls)
    return built
