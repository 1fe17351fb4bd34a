"""The supervisor: the sandbox process's main side, between the grader and the worker.

It holds the result pipe back to the grader and never runs learner code. It forks a worker
(:mod:`.worker`), asks it for one call at a time and passes each reply on; a worker that dies
or overruns its time is killed and reported for that call, and the next call gets a fresh one.
Anything on the worker's pipe that is not exactly the reply asked for -- a frame nobody asked
for, a reply to another call, bytes that are not a frame -- means the submission wrote on the
channel itself: the supervisor reports a forgery and stops.

Its progress is a small state machine (:class:`State`)::

    NO_WORKER --start--> READY            (the worker loaded the submission)
              --start--> LOAD_FAILED      (loading timed out or crashed: every later call says so)
              --start--> FORGED
    READY     --call---> READY            (a reply came back)
              --call---> NO_WORKER        (the worker crashed or overran: the next call starts afresh)
              --call---> FORGED
    any       --end----> FINISHED         (after "done" is sent)

Loaded only inside the sandbox process, never by the grader.
"""

from __future__ import annotations

import enum
import json
import os
import sys
import time

# Bound now, as module globals: a submission cannot reach the supervisor (it runs no learner
# code), but the worker is forked from this process and shares these objects until it runs.
from builtins import (  # noqa: A004 - deliberate shadowing with the same objects
    BrokenPipeError, ChildProcessError, Exception, ImportError, OSError, ProcessLookupError, ValueError,
    bool, dict, float, int, isinstance, len, list, range, str,
)

from .protocol import ChannelError, Msg, Status, Timeout, read_frame, write_frame
from .worker import preload, worker_main

__all__ = ["State", "Supervisor", "WorkerProcess", "main"]


class State(enum.Enum):
    NO_WORKER = "no worker"  # the next call starts one
    READY = "ready"  # a loaded worker waits for the next call
    LOAD_FAILED = "load failed"  # loading the submission failed: every remaining call reports it
    FORGED = "forged"  # the channel was written by the submission: nothing more runs
    FINISHED = "finished"


def _move_high(fd: int) -> int:
    import fcntl

    high = fcntl.fcntl(fd, fcntl.F_DUPFD, 200 + (os.getpid() % 300))
    os.close(fd)
    return high


class WorkerProcess:
    """A forked worker and the supervisor's ends of its two pipes."""

    def __init__(self, job: dict):
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        # high, unguessable-by-accident numbers for the worker's two ends
        worker_request = _move_high(request_read)
        worker_reply = _move_high(reply_write)
        self.pid = os.fork()
        if self.pid == 0:  # the worker
            try:
                os.close(request_write)
                os.close(reply_read)
            except OSError:
                pass
            worker_main(job, worker_request, worker_reply)
            os._exit(0)
        os.close(worker_request)
        os.close(worker_reply)
        self.request_fd = request_write
        self.reply_fd = reply_read
        self.status: str | None = None

    def kill(self) -> None:
        if self.pid:
            try:
                os.kill(self.pid, 9)
            except ProcessLookupError:
                pass
            self.reap()

    def reap(self, block: bool = True) -> None:
        if self.pid and self.status is None:
            try:
                _, status = os.waitpid(self.pid, 0 if block else os.WNOHANG)
            except ChildProcessError:
                status = 0
            if os.WIFSIGNALED(status):
                sig = os.WTERMSIG(status)
                self.status = f"was killed by signal {sig}" + (" (probably the CPU-time limit)" if sig == 24 else "")
            else:
                code = os.WEXITSTATUS(status)
                self.status = f"ended with exit code {code} (os._exit or a crash?)"
        for fd in (self.request_fd, self.reply_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        self.request_fd = self.reply_fd = -1


class Supervisor:
    """Runs the job's calls through workers and reports each on the result pipe."""

    def __init__(self, job: dict, result_fd: int):
        self.job = job
        self.result_fd = result_fd
        self.timeout = float(job["timeout"])
        self.state = State.NO_WORKER
        self.worker: WorkerProcess | None = None
        self.load_failure = ""

    # ----------------------------------------------------------------- messages to the grader
    def send(self, obj: dict) -> None:
        write_frame(self.result_fd, obj)

    def _result(self, k: int, status: str, **fields) -> None:
        self.send({"type": Msg.RESULT, "call": k, "status": status, **fields})

    def _forged(self, message: str) -> None:
        if self.worker is not None:
            self.worker.kill()
            self.worker = None
        self.state = State.FORGED
        self.send({"type": Msg.FORGED, "message": message})

    # ----------------------------------------------------------------- transitions
    def run(self) -> None:
        for k in range(len(self.job["calls"])):
            if self.state is State.NO_WORKER:
                self._start()
            if self.state is State.FORGED:
                break
            if self.state is State.LOAD_FAILED:
                self._result(k, Status.LOAD_FAILED, message=self.load_failure)
                continue
            self._call(k)
            if self.state is State.FORGED:
                break
        if self.state is State.READY:
            self._stop_worker()
        self.state = State.FINISHED
        self.send({"type": Msg.DONE})

    def _start(self) -> None:
        """NO_WORKER -> READY, LOAD_FAILED or FORGED."""
        candidate = WorkerProcess(self.job)
        try:
            frame = read_frame(candidate.reply_fd, time.monotonic() + self.timeout)
        except Timeout:
            candidate.kill()
            self._load_failed(f"loading the submission did not finish within {self.timeout:g} s "
                              "(an endless loop at top level?)")
            return
        except ChannelError as err:
            candidate.kill()
            self._forged(f"while loading: {err}")
            return
        if frame is None:
            candidate.reap()
            self._load_failed(f"the process {candidate.status} while loading the submission")
            return
        if not isinstance(frame, dict) or frame.get("type") != Msg.LOADED:
            candidate.kill()
            self._forged("while loading: a frame that is not the loader's")
            return
        self.send({"type": Msg.LOADED, "notes": frame.get("notes", []), "violations": frame.get("violations", [])})
        self.worker = candidate
        self.state = State.READY

    def _load_failed(self, message: str) -> None:
        self.load_failure = message
        self.state = State.LOAD_FAILED

    def _lost_worker(self, kill: bool) -> str:
        """READY -> NO_WORKER; the worker's fate in words."""
        worker = self.worker
        worker.kill() if kill else worker.reap()
        self.worker = None
        self.state = State.NO_WORKER
        return worker.status or ""

    def _call(self, k: int) -> None:
        """READY -> READY, NO_WORKER or FORGED."""
        worker = self.worker
        try:
            write_frame(worker.request_fd, {"type": Msg.CALL, "call": k})
            frame = read_frame(worker.reply_fd, time.monotonic() + self.timeout)
        except Timeout:
            self._lost_worker(kill=True)
            self._result(k, Status.TIMEOUT,
                         message=f"no answer within {self.timeout:g} s (an endless loop?); the grader stopped it")
            return
        except BrokenPipeError:
            status = self._lost_worker(kill=False)
            self._result(k, Status.CRASHED, message=f"the process {status} before this check could start")
            return
        except ChannelError as err:
            self._forged(str(err))
            return
        if frame is None:
            status = self._lost_worker(kill=False)
            self._result(k, Status.CRASHED, message=f"the process {status} during this check")
            return
        if not isinstance(frame, dict) or frame.get("type") != Msg.REPLY or frame.get("call") != k:
            self._forged(f"expected the reply to call {k}, got something else")
            return
        self._result(k, Status.DONE, reply=frame)

    def _stop_worker(self) -> None:
        """READY -> (FORGED when anything is left on the channel); the worker is gone after it."""
        worker = self.worker
        try:
            write_frame(worker.request_fd, {"type": Msg.STOP})
        except OSError:
            pass
        try:  # anything left on the channel after the last reply was not written by the grader
            extra = read_frame(worker.reply_fd, time.monotonic() + 1.0)
        except Timeout:
            extra = None
        except ChannelError:
            extra = "garbage"
        if extra is not None:
            self._forged("extra data on the result channel after the last check")
        else:
            worker.kill()
            self.worker = None


def installed_course_dirs() -> list[str]:
    """Where this interpreter would import ``recsys_course`` from (it may differ from the copy
    that started the grader, e.g. an editable install of another checkout), resolved now, while
    the supervisor can still reach every folder. The package is located, never imported."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("recsys_course")
    except (ImportError, ValueError, OSError):
        return []
    if spec is None:
        return []
    places = list(spec.submodule_search_locations or [])
    if spec.origin and not places:
        places.append(os.path.dirname(spec.origin))
    return [os.path.realpath(p) for p in places]


def main(argv: list[str]) -> int:
    """``_runner.py RESULT_FD``: read the job on stdin, run it, report on RESULT_FD."""
    result_fd = int(argv[1])
    job = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    import numpy  # noqa: F401 - loaded once, shared by every forked worker
    import scipy.sparse  # noqa: F401

    preload()
    # resolved here, before any privilege drop: the worker's own view may stop at a private folder
    job["course_dirs"] = [os.path.realpath(d) for d in job["course_dirs"]] + installed_course_dirs()
    try:
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0: /proc/<pid>/fd closed to others
    except Exception:  # noqa: BLE001
        pass
    Supervisor(job, result_fd).run()
    return 0
