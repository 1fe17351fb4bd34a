"""The grader's wire protocol: message types, framing and the two value codecs.

Standard library only at import time (numpy and scipy are imported inside the codec functions
that need them): the sandbox process loads this file without the course package, and the
grader's own process imports it as :mod:`recsys_course.grading.protocol`. Nothing here rebinds
builtins or keeps state.

Three channels, every message a JSON object with a ``type``:

=====================  ==================================================================
grader -> supervisor   the job (not framed): one JSON document on the runner's stdin
supervisor -> worker   ``call`` {call: k} -- run call k of the job; ``stop``
worker -> supervisor   ``loaded`` {notes, violations} once; then one ``reply`` per call:
                       {call: k, ok, value | error_type, error_mro, message, args_after,
                       violations}
supervisor -> grader   ``loaded``; ``result`` {call: k, status, reply | message} per call
                       (status one of :class:`Status`); ``forged`` {message}; ``done``
=====================  ==================================================================

**Framing.** A frame is a 4-byte big-endian length and that many bytes of UTF-8 JSON
(:func:`write_frame`, :func:`read_frame`); at most :data:`MAX_FRAME` bytes.

**Argument codec** (grader -> worker, chosen by the grader): plain JSON values, or specs
``{"t": kind, ...}`` built by :func:`encode_array`, :func:`encode_csr`, :func:`normal_spec`,
:func:`gram_spec`, :func:`rng_spec`, :func:`set_spec`, :func:`tuple_spec`, and decoded by
:func:`decode_arg` (the same function computes the grader's reference inputs).

**Value codec** (worker -> grader, produced by learner code, so decoded strictly):
:func:`encode_value` turns a return value into ``{"t": "none" | "tuple" | "array", ...}`` or
raises :class:`ReturnError`; :func:`decode_value` accepts only well-formed plain numbers and
gives :class:`Returned` arrays (plus the dtype the learner really returned).
"""

from __future__ import annotations

import json
import os
import select
import struct
import time

__all__ = [
    "MAX_ELEMENTS", "MAX_FRAME", "ChannelError", "Msg", "ReturnError", "Returned", "Status", "Timeout",
    "decode_arg", "decode_value", "encode_array", "encode_csr", "encode_value", "exception_info",
    "gram_spec", "normal_spec", "read_frame", "rng_spec", "set_spec", "tuple_spec", "write_frame",
]

MAX_FRAME = 64 * 1024 * 1024  # bytes in one frame
MAX_ELEMENTS = 5_000_000  # numbers in one returned value
MAX_TUPLE = 16  # items in one returned tuple
MAX_DEPTH = 3  # nesting of returned tuples
_HEADER = struct.Struct(">I")


class Msg:
    """The ``type`` of every message."""

    CALL = "call"
    STOP = "stop"
    LOADED = "loaded"
    REPLY = "reply"
    RESULT = "result"
    FORGED = "forged"
    DONE = "done"


class Status:
    """The ``status`` of a ``result`` message: what became of one call."""

    DONE = "done"  # the worker replied; the reply is attached
    LOAD_FAILED = "load_failed"
    TIMEOUT = "timeout"
    CRASHED = "crashed"
    ALL = (DONE, LOAD_FAILED, TIMEOUT, CRASHED)


class ChannelError(Exception):
    """A frame that is malformed, too large or not the one expected."""


class Timeout(Exception):
    """No complete frame before the deadline."""


# --------------------------------------------------------------------------- framing
def write_frame(fd: int, obj, _write=os.write) -> None:
    """Send ``obj`` as one frame; ChannelError when it is larger than MAX_FRAME."""
    data = json.dumps(obj, allow_nan=True, separators=(",", ":")).encode("utf-8")
    if len(data) > MAX_FRAME:
        raise ChannelError(f"frame of {len(data)} bytes exceeds {MAX_FRAME}")
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        written = _write(fd, view)
        view = view[written:]


def _read_exact(fd: int, size: int, deadline: float | None) -> bytes | None:
    chunks = []
    remaining = size
    while remaining:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout()
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                raise Timeout()
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            if remaining == size:
                return None  # clean end of stream
            raise ChannelError("the stream ended in the middle of a frame")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int, deadline: float | None = None):
    """The next JSON frame, or None at end of stream; ChannelError for anything malformed,
    Timeout when ``deadline`` (a time.monotonic() value) passes first."""
    header = _read_exact(fd, _HEADER.size, deadline)
    if header is None:
        return None
    (size,) = _HEADER.unpack(header)
    if size > MAX_FRAME:
        raise ChannelError(f"a frame announced {size} bytes (limit {MAX_FRAME})")
    data = _read_exact(fd, size, deadline)
    if data is None:
        raise ChannelError("the stream ended after a frame header")
    try:
        return json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as err:
        raise ChannelError(f"a frame is not valid JSON ({type(err).__name__})") from None


# --------------------------------------------------------------------------- argument codec
def encode_array(values, dtype: str = "float64") -> dict:
    """An array argument: its numbers travel as a flat list."""
    import numpy as np

    a = np.asarray(values, dtype=dtype)
    return {"t": "array", "dtype": dtype, "shape": list(a.shape), "data": a.ravel().tolist()}


def encode_csr(matrix) -> dict:
    """A scipy CSR matrix argument (float64 data, int32 indices; explicit zeros dropped)."""
    import numpy as np
    import scipy.sparse as sp

    m = sp.csr_matrix(matrix, dtype=np.float64)
    m.eliminate_zeros()
    return {"t": "csr", "shape": list(m.shape), "data": m.data.tolist(),
            "indices": m.indices.tolist(), "indptr": m.indptr.tolist()}


def normal_spec(seed: int, shape, scale: float) -> dict:
    """A normal(0, scale) array drawn from ``seed`` on both sides (cheap to send, large to hold)."""
    return {"t": "normal", "seed": int(seed), "shape": [int(n) for n in shape], "scale": float(scale)}


def gram_spec(of: dict, diagonal=None) -> dict:
    """``Y.T @ Y`` of a normal spec, plus an optional diagonal."""
    spec = {"t": "gram", "of": of}
    if diagonal is not None:
        spec["diagonal"] = [float(d) for d in diagonal]
    return spec


def rng_spec(seed: int) -> dict:
    return {"t": "rng", "seed": int(seed)}


def set_spec(items) -> dict:
    return {"t": "set", "items": list(items)}


def tuple_spec(items) -> dict:
    return {"t": "tuple", "items": list(items)}


def decode_arg(obj):
    """Grader-chosen argument spec -> the Python/numpy/scipy value passed to the learner."""
    import numpy as np

    if isinstance(obj, list):
        return [decode_arg(item) for item in obj]
    if not isinstance(obj, dict):
        return obj  # int, float, str, bool, None
    kind = obj["t"]
    if kind == "array":
        return np.array(obj["data"], dtype=obj["dtype"]).reshape(obj["shape"])
    if kind == "normal":
        rng = np.random.default_rng(obj["seed"])
        return rng.normal(scale=obj["scale"], size=tuple(obj["shape"]))
    if kind == "gram":  # Y.T @ Y of a "normal" spec, plus an optional diagonal
        Y = decode_arg(obj["of"])
        gram = Y.T @ Y
        if obj.get("diagonal") is not None:
            gram = gram + np.diag(np.asarray(obj["diagonal"], dtype=np.float64))
        return gram
    if kind == "csr":
        import scipy.sparse as sp

        return sp.csr_matrix(
            (np.asarray(obj["data"], dtype=np.float64), np.asarray(obj["indices"], dtype=np.int32),
             np.asarray(obj["indptr"], dtype=np.int32)),
            shape=tuple(obj["shape"]),
        )
    if kind == "rng":
        return np.random.default_rng(obj["seed"])
    if kind == "set":
        return set(obj["items"])
    if kind == "tuple":
        return tuple(decode_arg(item) for item in obj["items"])
    raise ValueError(f"unknown argument kind {kind!r}")


# --------------------------------------------------------------------------- value codec
class ReturnError(Exception):
    """The learner's return value is not plain numbers."""


def encode_value(value, _depth: int = 0):
    """A learner's return value -> plain JSON data, or ReturnError saying why not."""
    import numpy as np

    if _depth > MAX_DEPTH:
        raise ReturnError("the returned value is nested too deeply")
    if value is None:
        return {"t": "none"}
    if type(value) is tuple:  # exactly a tuple: encode its items
        return {"t": "tuple", "items": [encode_value(item, _depth + 1) for item in value]}
    try:
        import scipy.sparse as sp

        if sp.issparse(value):
            raise ReturnError(
                f"returned a scipy sparse matrix ({type(value).__name__}); this exercise asks for "
                "dense numpy arrays (use .toarray())"
            )
    except ImportError:  # pragma: no cover - scipy is a dependency
        pass
    try:
        array = np.asarray(value)
    except Exception as err:  # noqa: BLE001 - learner objects may raise anything
        raise ReturnError(f"returned a {type(value).__name__} that numpy cannot read ({type(err).__name__})")
    array = np.array(array, copy=True)  # a plain ndarray, not a subclass
    if array.dtype.kind not in "biuf":
        raise ReturnError(
            f"returned a {type(value).__name__} (numpy sees dtype {array.dtype}); "
            "expected numbers or an array of numbers"
        )
    if array.size > MAX_ELEMENTS:
        raise ReturnError(f"returned {array.size} numbers (limit {MAX_ELEMENTS})")
    kind = {"b": "bool", "i": "int64", "u": "int64", "f": "float64"}[array.dtype.kind]
    plain = array.astype(kind)
    return {
        "t": "array",
        "dtype": kind,
        "source_dtype": str(array.dtype),
        "pyscalar": isinstance(value, (bool, int, float)),
        "shape": list(plain.shape),
        "data": plain.ravel().tolist(),
    }


def exception_info(err: BaseException) -> dict:
    """An exception as plain data: its name, its builtin base classes, its message (cut)."""
    kind = type(err)
    try:
        message = str(err)
    except BaseException:  # noqa: BLE001
        message = "<the exception's message could not be printed>"
    if len(message) > 500:
        message = message[:500] + "..."
    mro = [c.__name__ for c in getattr(kind, "__mro__", ()) if c.__module__ == "builtins"]
    return {"error_type": getattr(kind, "__name__", "?"), "error_mro": mro, "message": message}


class Returned:
    """A decoded array plus what the learner's function really returned (dtype, Python scalar?)."""

    __slots__ = ("array", "source_dtype", "pyscalar")

    def __init__(self, array, source_dtype: str, pyscalar: bool):
        self.array = array
        self.source_dtype = source_dtype
        self.pyscalar = pyscalar


_DTYPES = {"bool", "int64", "float64"}


def decode_value(obj, depth: int = 0):
    """Plain JSON from the sandbox -> None, a tuple or a :class:`Returned`; ValueError for
    anything else (the data was produced by learner code and is checked field by field)."""
    import numpy as np

    if depth > MAX_DEPTH + 1 or not isinstance(obj, dict):
        raise ValueError("not a value")
    kind = obj.get("t")
    if kind == "none":
        return None
    if kind == "tuple":
        items = obj.get("items")
        if not isinstance(items, list) or len(items) > MAX_TUPLE:
            raise ValueError("bad tuple")
        return tuple(decode_value(item, depth + 1) for item in items)
    if kind == "array":
        dtype, shape, data = obj.get("dtype"), obj.get("shape"), obj.get("data")
        if dtype not in _DTYPES or not isinstance(shape, list) or not isinstance(data, list):
            raise ValueError("bad array")
        if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape) or len(shape) > 8:
            raise ValueError("bad shape")
        if int(np.prod(shape, dtype=np.int64)) != len(data) or len(data) > MAX_ELEMENTS:
            raise ValueError("shape does not match data")
        allowed = (bool,) if dtype == "bool" else (int,) if dtype == "int64" else (int, float)
        if not all(type(x) in allowed for x in data):
            raise ValueError("non-numeric data")
        array = np.array(data, dtype=dtype).reshape(shape)
        return Returned(array, str(obj.get("source_dtype", dtype))[:20], obj.get("pyscalar") is True)
    raise ValueError("unknown kind")
