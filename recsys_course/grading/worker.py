"""The worker: the forked process that runs ONE submission and answers the supervisor's calls.

Between the fork and the first line of learner code (:func:`prepare`) it closes every
descriptor but its own two pipe ends (the grader's result pipe among them), clears the
environment, sets resource limits, drops to ``nobody`` when started as root, forbids new
privileges and processes, moves to the working directory and installs the guard
(:mod:`.guard`). Then it runs the code cells and answers one ``call`` at a time with a
``reply`` (see :mod:`.protocol`), restoring the namespaces it relies on after every call.

Loaded only inside the sandbox process, never by the grader.
"""

from __future__ import annotations

import builtins as _builtins
import json
import os
import select
import struct
import sys
import time

# Bound now, as module globals: a submission that patches the builtins module
# (builtins.isinstance = ...) cannot break the worker's own bookkeeping.
from builtins import (  # noqa: A004 - deliberate shadowing with the same objects
    BaseException, Exception, OSError, SystemExit, ValueError, callable, compile, dict, enumerate, exec, getattr,
    int, list, min, open, range, set, str, type,
)

from . import guard, protocol
from .guard import install_guard
from .protocol import ChannelError, Msg, ReturnError, decode_arg, encode_value, exception_info, read_frame, write_frame

__all__ = ["PRELOAD", "preload", "worker_main"]

NOBODY = 65534


def _limit(resource_module, name: str, value: int) -> None:
    kind = getattr(resource_module, name, None)
    if kind is None:
        return
    soft, hard = resource_module.getrlimit(kind)
    if hard != resource_module.RLIM_INFINITY:
        value = min(value, hard)
    try:
        resource_module.setrlimit(kind, (value, value))
    except (ValueError, OSError):
        pass


def _vm_size() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def prepare(job: dict, keep: set[int]) -> None:
    """Everything between fork and learner code: fds, limits, privileges, cwd, guard."""
    import resource

    # 1. close every descriptor except stdio and this worker's own two pipe ends
    try:
        open_fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        open_fds = list(range(3, 256))
    for fd in open_fds:
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass
    workdir = job["workdir"]
    root = os.geteuid() == 0
    if root:
        os.chown(workdir, NOBODY, NOBODY)
    os.chdir(workdir)
    os.environ.clear()
    os.environ.update({"HOME": workdir, "TMPDIR": workdir, "PATH": "/usr/bin:/bin",
                       "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
    # 2. resource limits
    memory = int(job["memory_mb"]) * 1024 * 1024
    _limit(resource, "RLIMIT_AS", _vm_size() + memory)
    _limit(resource, "RLIMIT_CPU", int(job["cpu_seconds"]))
    _limit(resource, "RLIMIT_FSIZE", 16 * 1024 * 1024)
    _limit(resource, "RLIMIT_CORE", 0)
    _limit(resource, "RLIMIT_NOFILE", 64)
    # 3. privileges
    if root:
        os.setgroups([])
        os.setresgid(NOBODY, NOBODY, NOBODY)
        os.setresuid(NOBODY, NOBODY, NOBODY)
    _limit(resource, "RLIMIT_NPROC", 0)  # no new processes or threads
    try:  # no setuid binaries either
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS
    except Exception:  # noqa: BLE001 - best effort on exotic systems
        pass


def _exec_cells(cells: list[str], namespace: dict) -> list[dict]:
    """Run each code cell; a cell that raises is noted and the next one still runs."""
    notes = []
    for number, source in enumerate(cells, start=1):
        try:
            code = compile(source, f"<submission cell {number}>", "exec")
            exec(code, namespace)  # noqa: S102 - this is the sandbox
        except SystemExit as err:
            notes.append({"cell": number, "error_type": "SystemExit",
                          "message": f"the cell called sys.exit({err.code!r}); the grader carried on"})
        except BaseException as err:  # noqa: BLE001 - learner code may raise anything
            info = exception_info(err)
            notes.append({"cell": number, "error_type": info["error_type"], "message": info["message"]})
    return notes


def worker_main(job: dict, request_fd: int, reply_fd: int) -> None:
    """Runs in the forked worker; never returns."""
    try:
        violations: list = []
        prepare(job, {request_fd, reply_fd})
        install_guard(job["workdir"], job["denied_reads"], job["course_dirs"], violations)
        write = write_frame
        namespace = {"__name__": "__submission__", "__builtins__": _builtins}
        saved = _snapshot()
        notes = _exec_cells(job["cells"], namespace)
        _restore(saved)
        _flush()
        write(reply_fd, {"type": Msg.LOADED, "notes": notes[:20], "violations": list(violations)[:20]})
        function_name = job["function"]
        calls = job["calls"]
        while True:
            request = read_frame(request_fd)
            if request is None or request.get("type") != Msg.CALL:
                os._exit(0)
            k = request["call"]
            call = calls[k]
            reply = {"type": Msg.REPLY, "call": k}
            func = namespace.get(function_name)
            if not callable(func):
                reply.update(ok=False, error_type="NameError", error_mro=["NameError"],
                             message=f"the submission does not define a function {function_name}()")
            else:
                args = [decode_arg(a) for a in call["args"]]
                kwargs = {key: decode_arg(v) for key, v in call.get("kwargs", {}).items()}
                try:
                    value = func(*args, **kwargs)
                    _restore(saved)
                except SystemExit as err:
                    _restore(saved)
                    reply.update(ok=False, error_type="SystemExit", error_mro=["SystemExit"],
                                 message=f"the function called sys.exit({err.code!r})")
                except BaseException as err:  # noqa: BLE001
                    _restore(saved)
                    reply.update(ok=False, **exception_info(err))
                else:
                    try:
                        reply.update(ok=True, value=encode_value(value))
                    except ReturnError as err:
                        reply.update(ok=False, error_type="ReturnError", error_mro=[],
                                     message=str(err))
                    except BaseException as err:  # noqa: BLE001
                        reply.update(ok=False, error_type="ReturnError", error_mro=[],
                                     message=f"reading the returned value failed: {type(err).__name__}")
                after = {}
                for index in call.get("report_args", []):
                    try:
                        after[str(index)] = encode_value(args[index])
                    except BaseException:  # noqa: BLE001
                        after[str(index)] = None
                reply["args_after"] = after
            reply["violations"] = list(violations)[:20]
            _flush()
            try:
                write(reply_fd, reply)
            except ChannelError:
                write(reply_fd, {"type": Msg.REPLY, "call": k, "ok": False, "error_type": "ReturnError",
                                 "error_mro": [], "message": "the returned value is too large to send back",
                                 "violations": reply["violations"]})
    except BaseException:  # noqa: BLE001 - a broken worker just ends; the supervisor reports it
        pass
    _flush()
    os._exit(0)


def _snapshot() -> list:
    """The namespaces the runner itself relies on, as they are before learner code runs."""
    import numpy

    # the worker's and the protocol's own functions too: learner code can reach them in sys.modules
    modules = [_builtins, numpy, json, os, struct, select, time, protocol, guard, sys.modules[__name__]]
    return [(module.__dict__, dict(module.__dict__)) for module in modules]


def _restore(snapshot: list) -> None:
    """Undo a submission's monkey-patching of those namespaces (not its additions)."""
    for namespace, saved in snapshot:
        for key, value in saved.items():
            try:
                if namespace.get(key) is not value:
                    namespace[key] = value
            except BaseException:  # noqa: BLE001
                pass


def _flush() -> None:
    """Push the submission's buffered prints into the log before a frame or an exit."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001
            pass


PRELOAD = (
    "abc", "array", "base64", "bisect", "cmath", "collections", "collections.abc", "contextlib", "copy",
    "csv", "dataclasses", "datetime", "decimal", "enum", "fnmatch", "fractions", "functools", "glob",
    "hashlib", "heapq", "inspect", "itertools", "json", "math", "numbers", "operator", "pathlib",
    "pickle", "pprint", "queue", "random", "re", "secrets", "statistics", "string", "struct",
    "textwrap", "time", "timeit", "traceback", "types", "typing", "warnings", "weakref", "zlib",
    "numpy.linalg", "numpy.random", "numpy.fft", "numpy.polynomial",
    "scipy.linalg", "scipy.sparse.linalg", "scipy.special",
)


def preload() -> None:
    """Import PRELOAD while the supervisor can still read the Python installation."""
    import importlib

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - an optional convenience
            pass
