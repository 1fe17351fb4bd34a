import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from recsys_course.feedback import confidence, preference, preference_confidence


def test_worked_example_of_the_syllabus(worked_counts):
    P, C = preference_confidence(worked_counts, alpha=40)
    assert P.tolist() == [[0, 1, 0], [1, 0, 1], [0, 0, 1]]
    assert C.tolist() == [[1, 121, 1], [41, 1, 321], [1, 1, 81]]


def test_quiz_question_one_streamed_twelve_times():
    assert float(confidence(12, alpha=40)) == 481.0


def test_log_scheme_formula():
    c = confidence(np.array([0.0, 1.0, 9.0]), alpha=2.0, scheme="log", epsilon=1.0)
    np.testing.assert_allclose(c, [1.0, 1 + 2 * math.log(2), 1 + 2 * math.log(10)])


def test_sparse_keeps_observed_entries_only(worked_counts):
    P, C = preference_confidence(sp.csr_matrix(worked_counts))
    assert sp.issparse(P) and sp.issparse(C)
    assert P.nnz == C.nnz == 4
    np.testing.assert_array_equal(C.toarray(), [[0, 121, 0], [41, 0, 321], [0, 0, 81]])


def test_sparse_explicit_zeros_are_dropped():
    m = sp.csr_matrix((np.array([0.0, 2.0]), (np.array([0, 1]), np.array([0, 1]))), shape=(2, 2))
    assert m.nnz == 2
    assert confidence(m).nnz == 1


def test_input_is_not_modified(worked_counts):
    before = worked_counts.copy()
    confidence(worked_counts)
    m = sp.csr_matrix(worked_counts)
    data = m.data.copy()
    confidence(m, alpha=3)
    np.testing.assert_array_equal(worked_counts, before)
    np.testing.assert_array_equal(m.data, data)


@pytest.mark.parametrize(
    "counts, kind, fragment",
    [
        ([[1, -2]], ValueError, "counts must hold counts >= 0"),
        ([[1, np.nan]], ValueError, "finite"),
        ([[1, np.inf]], ValueError, "finite"),
        (np.array([["a", "b"]]), TypeError, "real numbers"),
        (np.zeros((2, 2, 2)), ValueError, "at most 2 dimensions"),
        ([[1, 2], [3]], ValueError, "rectangular"),
        ("12", TypeError, "counts must be"),
        (None, TypeError, "counts must be"),
        (np.array([1 + 2j]), TypeError, "real numbers"),
        (sp.csr_matrix(np.array([[0.0, -1.0]])), ValueError, ">= 0"),
    ],
)
def test_bad_counts(counts, kind, fragment):
    with pytest.raises(kind, match=fragment):
        confidence(counts)
    with pytest.raises(kind, match=fragment):
        preference(counts)


@pytest.mark.parametrize(
    "kwargs, kind, fragment",
    [
        ({"alpha": -3.0}, ValueError, "alpha must be a finite number >= 0, got -3.0"),
        ({"alpha": float("nan")}, ValueError, "alpha must be a finite number"),
        ({"alpha": float("inf")}, ValueError, "alpha"),
        ({"alpha": "40"}, TypeError, "alpha must be a real number"),
        ({"scheme": "square"}, ValueError, "scheme must be one of 'linear', 'log'"),
        ({"epsilon": 0.0}, ValueError, "epsilon must be a finite number > 0"),
        ({"epsilon": -1.0}, ValueError, "epsilon"),
    ],
)
def test_bad_parameters(kwargs, kind, fragment, worked_counts):
    with pytest.raises(kind, match=fragment):
        confidence(worked_counts, **kwargs)
    with pytest.raises(kind, match=fragment):
        preference_confidence(worked_counts, **kwargs)


def test_empty_input_gives_empty_output():
    assert confidence(np.zeros((0, 3))).shape == (0, 3)
    assert confidence(sp.csr_matrix((0, 3))).shape == (0, 3)


def test_integer_and_bool_counts():
    np.testing.assert_array_equal(confidence(np.array([0, 2], dtype=np.int32), alpha=1), [1, 3])
    np.testing.assert_array_equal(preference(np.array([True, False])), [1, 0])


counts_arrays = arrays(
    dtype=np.float64,
    shape=st.tuples(st.integers(1, 6), st.integers(1, 6)),
    elements=st.floats(0, 1000, allow_nan=False, allow_infinity=False),
)


@settings(max_examples=60, deadline=None)
@given(counts=counts_arrays, alpha=st.floats(0, 100), scheme=st.sampled_from(["linear", "log"]))
def test_properties(counts, alpha, scheme):
    P, C = preference_confidence(counts, alpha=alpha, scheme=scheme, epsilon=1.0)
    assert set(np.unique(P)) <= {0.0, 1.0}
    assert np.all(C >= 1.0)
    np.testing.assert_array_equal(C[counts == 0], 1.0)
    np.testing.assert_array_equal(P, counts > 0)
    # sparse and dense agree on the observed cells; unobserved cells are p=0, c=1 by definition
    Ps, Cs = preference_confidence(sp.csr_matrix(counts), alpha=alpha, scheme=scheme, epsilon=1.0)
    dense_c = Cs.toarray()
    dense_c[counts == 0] = 1.0
    np.testing.assert_allclose(dense_c, C)
    np.testing.assert_array_equal(Ps.toarray(), P)


@settings(max_examples=60, deadline=None)
@given(
    a=st.floats(0, 1e4),
    b=st.floats(0, 1e4),
    alpha=st.floats(0.01, 100),
    scheme=st.sampled_from(["linear", "log"]),
)
def test_confidence_increases_with_count(a, b, alpha, scheme):
    low, high = sorted([a, b])
    c_low, c_high = confidence(np.array([low, high]), alpha=alpha, scheme=scheme, epsilon=1.0)
    assert c_low <= c_high
    if high > low:
        assert c_low < c_high or math.isclose(c_low, c_high, rel_tol=1e-12)
