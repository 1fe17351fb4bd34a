"""The one check for index arrays and float dtypes (issue 12, structure point 4)."""

from __future__ import annotations

import numpy as np
import pytest

from recsys_course._validation import check_float_dtype, check_index_array


def test_index_arrays_come_back_as_int64():
    out = check_index_array(np.array([2, 0, 1], dtype=np.int32), "users", 3, "user")
    assert out.dtype == np.int64 and out.tolist() == [2, 0, 1]
    assert check_index_array([], "users", 3, "user").shape == (0,)  # an empty list is fine unless nonempty
    grid = check_index_array([[0, -1], [2, 1]], "recommended", 3, "item", ndim=2, padding=-1)
    assert grid.tolist() == [[0, -1], [2, 1]]


@pytest.mark.parametrize("values, kwargs, error, words", [
    ([[0, 1]], {}, ValueError, "users must be a 1-d sequence of user indices"),
    (5, {}, ValueError, "1-d sequence"),
    ([0.0, 1.0], {}, TypeError, "users must hold integer user indices, got dtype float64"),
    ([True, False], {}, TypeError, "got dtype bool"),
    (["0"], {}, TypeError, "integer user indices"),
    ([0, 3, 7], {}, ValueError, r"users must hold known user indices in \[0, 2\], got 3"),
    ([-1], {}, ValueError, "got -1"),
    ([-2], {"padding": -1}, ValueError, r"in \[0, 2\] or -1, got -2"),
    ([], {"nonempty": True}, ValueError, "at least one user index"),
])
def test_bad_index_arrays_name_the_argument(values, kwargs, error, words):
    with pytest.raises(error, match=words):
        check_index_array(values, "users", 3, "user", **kwargs)


def test_float_dtypes():
    assert check_float_dtype(np.float32) == np.dtype(np.float32)
    assert check_float_dtype("float64") == np.dtype(np.float64)
    for bad in (np.int64, "float16", "nonsense", 3, [np.float32]):
        with pytest.raises(TypeError, match="dtype must be numpy.float32 or numpy.float64"):
            check_float_dtype(bad)
