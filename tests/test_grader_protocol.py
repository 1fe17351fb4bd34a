"""The grader's wire protocol on its own: framing and both codecs round-trip, bad data is refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from recsys_course.grading import protocol
from recsys_course.grading.protocol import (
    ChannelError,
    ReturnError,
    Returned,
    Timeout,
    decode_arg,
    decode_value,
    encode_array,
    encode_csr,
    encode_value,
    gram_spec,
    normal_spec,
    read_frame,
    rng_spec,
    set_spec,
    tuple_spec,
    write_frame,
)

GRADING = Path(protocol.__file__).resolve().parent


@pytest.fixture
def pipe():
    read_end, write_end = os.pipe()
    yield read_end, write_end
    for fd in (read_end, write_end):
        try:
            os.close(fd)
        except OSError:
            pass


# ----------------------------------------------------------------- framing
def test_frames_round_trip_in_order_then_end_of_stream(pipe):
    read_end, write_end = pipe
    messages = [{"type": protocol.Msg.CALL, "call": 3}, {"text": "héllo ✓", "nan": float("nan")}, [1, [2, [3]]],
                None, "plain"]
    for message in messages:
        write_frame(write_end, message)
    os.close(write_end)
    got = [read_frame(read_end) for _ in messages]
    assert got[0] == messages[0] and got[2:] == messages[2:]
    assert got[1]["text"] == "héllo ✓" and np.isnan(got[1]["nan"])
    assert read_frame(read_end) is None  # a clean end between frames


@pytest.mark.parametrize("raw, problem", [
    (b"\x00\x00\x00\x10{\"a\":", "ended in the middle of a frame"),
    (b"\x00\x00", "ended in the middle of a frame"),
    (b"\x00\x00\x00\x03abc", "not valid JSON"),
    ((protocol.MAX_FRAME + 1).to_bytes(4, "big"), "announced"),
])
def test_malformed_frames_are_channel_errors(pipe, raw, problem):
    read_end, write_end = pipe
    os.write(write_end, raw)
    os.close(write_end)
    with pytest.raises(ChannelError, match=problem):
        read_frame(read_end)


def test_header_without_body_is_a_channel_error(pipe):
    read_end, write_end = pipe
    os.write(write_end, (5).to_bytes(4, "big"))
    os.close(write_end)
    with pytest.raises(ChannelError, match="after a frame header"):
        read_frame(read_end)


def test_read_times_out_on_a_silent_pipe(pipe):
    read_end, _ = pipe
    with pytest.raises(Timeout):
        read_frame(read_end, time.monotonic() + 0.05)


def test_oversized_frame_is_refused_before_writing(pipe, monkeypatch):
    read_end, write_end = pipe
    monkeypatch.setattr(protocol, "MAX_FRAME", 10)
    with pytest.raises(ChannelError, match="exceeds 10"):
        write_frame(write_end, {"data": "x" * 20})
    write_frame(write_end, {"a": 1})  # small frames still go through
    assert read_frame(read_end) == {"a": 1}


# ----------------------------------------------------------------- argument codec
def _through_json(obj):
    return json.loads(json.dumps(obj, allow_nan=True))


@pytest.mark.parametrize("values, dtype", [
    ([[1.5, -2.0], [0.0, 3.25]], "float64"), ([1, 2, 3], "int64"), ([[True, False]], "bool"), ([], "float64"),
])
def test_array_arguments_round_trip(values, dtype):
    decoded = decode_arg(_through_json(encode_array(values, dtype)))
    expected = np.asarray(values, dtype=dtype)
    assert decoded.dtype == expected.dtype and decoded.shape == expected.shape
    np.testing.assert_array_equal(decoded, expected)


def test_structured_arguments_round_trip():
    rng = np.random.default_rng(5)
    dense = rng.integers(0, 3, size=(4, 6)) * (rng.random((4, 6)) < 0.5)
    matrix = decode_arg(_through_json(encode_csr(dense)))
    assert sp.isspmatrix_csr(matrix) and matrix.dtype == np.float64
    np.testing.assert_array_equal(matrix.toarray(), dense)

    factors = normal_spec(11, (7, 3), 0.5)
    Y = decode_arg(factors)
    np.testing.assert_array_equal(Y, np.random.default_rng(11).normal(scale=0.5, size=(7, 3)))
    np.testing.assert_allclose(decode_arg(_through_json(gram_spec(factors, [1.0, 2.0, 3.0]))),
                               Y.T @ Y + np.diag([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(decode_arg(gram_spec(factors)), Y.T @ Y)
    assert decode_arg(rng_spec(3)).integers(0, 10**9) == np.random.default_rng(3).integers(0, 10**9)
    assert decode_arg(_through_json(set_spec([3, 1, 3]))) == {1, 3}
    assert decode_arg(_through_json(tuple_spec([1, encode_array([2.0])])))[0] == 1
    assert decode_arg([1, "a", None, 2.5]) == [1, "a", None, 2.5]
    with pytest.raises(ValueError, match="unknown argument kind 'bogus'"):
        decode_arg({"t": "bogus"})


# ----------------------------------------------------------------- value codec
@settings(max_examples=60, deadline=None)
@given(arrays(dtype=st.sampled_from([np.float64, np.float32, np.int32, np.int64, np.uint8, np.bool_]),
              shape=array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)))
def test_returned_arrays_round_trip(array):
    decoded = decode_value(_through_json(encode_value(array)))
    assert isinstance(decoded, Returned)
    assert decoded.source_dtype == str(array.dtype) and decoded.pyscalar is False
    assert decoded.array.shape == array.shape
    finite = np.isfinite(array) if array.dtype.kind == "f" else np.ones(array.shape, dtype=bool)
    np.testing.assert_array_equal(decoded.array[finite], array[finite])
    assert np.array_equal(np.isnan(decoded.array.astype(float)), np.isnan(array.astype(float)))


def test_returned_scalars_tuples_and_none_round_trip():
    pair = decode_value(_through_json(encode_value((np.eye(2), 3))))
    assert isinstance(pair, tuple) and len(pair) == 2
    np.testing.assert_array_equal(pair[0].array, np.eye(2))
    assert pair[1].pyscalar is True and pair[1].array.shape == () and pair[1].array == 3
    assert decode_value(_through_json(encode_value(None))) is None
    assert decode_value(_through_json(encode_value(True))).array.dtype == np.bool_


@pytest.mark.parametrize("value, problem", [
    ("text", "numpy sees dtype <U4"),
    (sp.csr_matrix(np.eye(2)), "scipy sparse matrix"),
    (((((1,),),),), "nested too deeply"),
    ([1, "a"], "expected numbers"),
])
def test_values_that_are_not_plain_numbers_are_refused(value, problem):
    with pytest.raises(ReturnError, match=problem):
        encode_value(value)


def test_too_many_numbers_are_refused(monkeypatch):
    monkeypatch.setattr(protocol, "MAX_ELEMENTS", 5)
    with pytest.raises(ReturnError, match="limit 5"):
        encode_value(np.zeros(6))


@pytest.mark.parametrize("obj", [
    "not a dict", {"t": "array", "dtype": "object", "shape": [1], "data": [1]},
    {"t": "array", "dtype": "float64", "shape": [3], "data": [1.0, 2.0]},
    {"t": "array", "dtype": "float64", "shape": [2], "data": [1.0, "2"]},
    {"t": "array", "dtype": "float64", "shape": [1], "data": [True]},
    {"t": "array", "dtype": "int64", "shape": [1], "data": [1.5]},
    {"t": "array", "dtype": "float64", "shape": [-1], "data": []},
    {"t": "tuple", "items": [{"t": "none"}] * 17}, {"t": "tuple", "items": "no"}, {"t": "pickle"},
])
def test_decoding_refuses_malformed_values(obj):
    with pytest.raises(ValueError):
        decode_value(obj)


# ----------------------------------------------------------------- import hygiene
def test_protocol_needs_only_the_standard_library():
    code = ("import importlib.util, sys\n"
            f"spec = importlib.util.spec_from_file_location('p', {str(GRADING / 'protocol.py')!r})\n"
            "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
            "assert not {'numpy', 'scipy', 'recsys_course'} & set(sys.modules), sorted(sys.modules)\n")
    done = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_the_grader_process_never_loads_the_sandbox_side_nor_touches_builtins():
    code = ("import builtins, sys\n"
            "before = dict(vars(builtins))\n"
            "import recsys_course.grading, recsys_course.grading.checks, recsys_course.grading.report\n"
            "import recsys_course.grading.autograder, recsys_course.grading.cli\n"
            "changed = [k for k, v in before.items() if vars(builtins).get(k) is not v]\n"
            "assert not changed, changed\n"
            "loaded = {m.rsplit('.', 1)[-1] for m in sys.modules if m.startswith('recsys_course.grading.')}\n"
            "assert not loaded & {'worker', 'guard', 'supervisor', '_runner'}, loaded\n"
            "import recsys_course.grading.protocol as p\n"
            "shadowed = [k for k in vars(p) if hasattr(builtins, k) and not k.startswith('__')]\n"
            "assert not shadowed, shadowed\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr

