"""The grader's side of the sandbox: start the runner, feed it, read plain results.

One submission = one fresh interpreter (``python -I -B _runner.py FD``) in a fresh temporary
working directory, in its own session so the whole process group can be killed. Its stdout
and stderr go to a pipe that a thread drains and truncates (a submission printing megabytes
costs nothing but time). Results come back only through the inherited pipe ``FD``, which the
runner's worker closes before any learner code runs.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import protocol
from .protocol import Msg, Status, decode_value

__all__ = ["CallOutcome", "RunOutcome", "run_in_sandbox"]

_Returned = protocol.Returned  # the decoded arrays the checks read (kept under its old name)

RUNNER = Path(__file__).resolve().with_name("_runner.py")  # the sandbox process's entry script
COURSE_DIR = RUNNER.parent.parent  # the recsys_course package
LOG_KEEP = 4000  # characters of the submission's output kept for the report


@dataclass
class CallOutcome:
    """What happened to one call: ``status`` is ok, error, timeout, crashed, load_failed or missing."""

    status: str
    value: object = None  # decoded plain value (numpy arrays, floats, tuples) when ok
    error_type: str = ""
    error_mro: tuple[str, ...] = ()
    message: str = ""
    args_after: dict = field(default_factory=dict)

    def raised(self, name: str) -> bool:
        return self.status == "error" and name in self.error_mro

    def describe(self) -> str:
        """One line for a report: what went wrong, in words."""
        if self.status == "ok":
            return "returned normally"
        if self.status == "error":
            return f"raised {self.error_type}: {self.message}" if self.message else f"raised {self.error_type}"
        return self.message or self.status


@dataclass
class RunOutcome:
    calls: list[CallOutcome]
    load_notes: list[dict] = field(default_factory=list)
    violations: list[tuple[str, str]] = field(default_factory=list)
    forged: str | None = None
    log: str = ""
    log_bytes: int = 0
    crashed_runner: str | None = None


class _Drain(threading.Thread):
    """Reads a pipe to its end, keeping only the first ``keep`` bytes."""

    def __init__(self, fd: int, keep: int = LOG_KEEP):
        super().__init__(daemon=True)
        self.fd = fd
        self.keep = keep
        self.kept = bytearray()
        self.total = 0

    def run(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            self.total += len(chunk)
            if len(self.kept) < self.keep:
                self.kept.extend(chunk[: self.keep - len(self.kept)])
        os.close(self.fd)


def _outcome_from_frame(frame: dict) -> CallOutcome:
    status = frame.get("status")
    if status in (Status.LOAD_FAILED, Status.TIMEOUT, Status.CRASHED):
        return CallOutcome(status=status, message=str(frame.get("message", ""))[:500])
    reply = frame.get("reply")
    if status != Status.DONE or not isinstance(reply, dict):
        return CallOutcome(status="crashed", message="the runner sent an unreadable result")
    after = {}
    raw_after = reply.get("args_after") or {}
    if isinstance(raw_after, dict):
        for key, value in raw_after.items():
            try:
                after[int(key)] = decode_value(value)
            except (ValueError, TypeError):
                after[int(key)] = None
    if reply.get("ok") is True:
        try:
            value = decode_value(reply.get("value"))
        except (ValueError, TypeError):
            return CallOutcome(status="error", error_type="ReturnError",
                               message="the returned value could not be read as plain numbers")
        return CallOutcome(status="ok", value=value, args_after=after)
    mro = reply.get("error_mro")
    mro = tuple(str(x)[:40] for x in mro[:30]) if isinstance(mro, list) else ()
    return CallOutcome(
        status="error",
        error_type=str(reply.get("error_type", "?"))[:60],
        error_mro=mro,
        message=str(reply.get("message", ""))[:500],
        args_after=after,
    )


def _add_violations(target: list, raw) -> None:
    if not isinstance(raw, list):
        return
    for item in raw[:20]:
        if isinstance(item, list) and len(item) == 2 and all(isinstance(x, str) for x in item):
            pair = (item[0][:20], item[1][:300])
            if pair not in target:
                target.append(pair)


# ----------------------------------------------------------------- running
def run_in_sandbox(
    cells: list[str],
    function: str,
    calls: list[dict],
    *,
    timeout: float = 10.0,
    memory_mb: int = 1024,
    denied_reads: list[str] | None = None,
) -> RunOutcome:
    """Run ``cells`` in a fresh sandboxed interpreter and call ``function`` once per call spec."""
    workdir = tempfile.mkdtemp(prefix="recsys-grade-")
    os.chmod(workdir, 0o700)
    job = {
        "cells": cells,
        "function": function,
        "calls": calls,
        "timeout": float(timeout),
        "memory_mb": int(memory_mb),
        "cpu_seconds": int(timeout * (len(calls) + 2)) + 5,
        "workdir": workdir,
        "denied_reads": [str(p) for p in (denied_reads or [])],
        "course_dirs": [str(COURSE_DIR)],
    }
    result_read, result_write = os.pipe()
    log_read, log_write = os.pipe()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONHASHSEED": "0",
        "HOME": workdir,
        "LANG": "C.UTF-8",
    }
    if os.environ.get("LD_LIBRARY_PATH"):  # an interpreter whose libpython lives off the default path
        env["LD_LIBRARY_PATH"] = os.environ["LD_LIBRARY_PATH"]
    outcomes: dict[int, CallOutcome] = {}
    run = RunOutcome(calls=[])
    process = None
    drain = _Drain(log_read)
    try:
        process = subprocess.Popen(
            [sys.executable, "-I", "-B", str(RUNNER), str(result_write)],
            stdin=subprocess.PIPE,
            stdout=log_write,
            stderr=log_write,
            pass_fds=(result_write,),
            cwd=workdir,
            env=env,
            start_new_session=True,
        )
        os.close(log_write)
        log_write = -1
        os.close(result_write)
        result_write = -1
        drain.start()
        try:
            process.stdin.write(json.dumps(job, allow_nan=True).encode("utf-8"))
            process.stdin.close()
        except BrokenPipeError:
            pass
        deadline = time.monotonic() + timeout * (len(calls) + 2) + 30.0
        while True:
            try:
                frame = protocol.read_frame(result_read, deadline)
            except protocol.Timeout:
                run.crashed_runner = "the grading process overran its overall time limit and was stopped"
                break
            except protocol.ChannelError as err:
                run.crashed_runner = f"the grading process sent unreadable data ({err})"
                break
            if frame is None:
                break
            if not isinstance(frame, dict):
                continue
            kind = frame.get("type")
            if kind == Msg.DONE:
                break
            if kind == Msg.FORGED:
                run.forged = str(frame.get("message", "forged data"))[:300]
            elif kind == Msg.LOADED:
                notes = frame.get("notes")
                if isinstance(notes, list) and not run.load_notes:
                    run.load_notes = [n for n in notes[:20] if isinstance(n, dict)]
                _add_violations(run.violations, frame.get("violations"))
            elif kind == Msg.RESULT and isinstance(frame.get("call"), int):
                outcomes[frame["call"]] = _outcome_from_frame(frame)
                reply = frame.get("reply")
                if isinstance(reply, dict):
                    _add_violations(run.violations, reply.get("violations"))
    finally:
        if process is not None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            process.wait()
        for fd in (result_read, result_write, log_write):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        if drain.is_alive() or drain.ident is not None:
            drain.join(timeout=5)
        else:
            os.close(log_read)
        shutil.rmtree(workdir, ignore_errors=True)
    run.log = drain.kept.decode("utf-8", errors="replace")
    run.log_bytes = drain.total
    if run.crashed_runner is None and process is not None and process.returncode not in (0, -9) and len(outcomes) < len(calls):
        run.crashed_runner = f"the grading process ended with code {process.returncode}"
    missing = run.crashed_runner or "no result came back for this check"
    run.calls = [outcomes.get(k, CallOutcome(status="missing", message=missing)) for k in range(len(calls))]
    return run
