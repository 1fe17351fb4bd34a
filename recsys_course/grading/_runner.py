"""The sandbox side of the grader: runs ONE submission, reports plain data.

Started by :mod:`recsys_course.grading.sandbox` as a separate interpreter,
``python -I -B _runner.py RESULT_FD``, in a fresh temporary working directory. It imports
only the standard library, numpy and scipy -- never ``recsys_course`` -- and reads its job
(the submission's code cells, the function name, the calls with the grader's inputs, the
limits) as JSON on stdin.

Two processes live here:

* the **supervisor** (this script's main process) holds RESULT_FD, the pipe back to the
  grader. It never runs learner code.
* the **worker**, forked by the supervisor, closes RESULT_FD before anything else, drops
  privileges (``nobody`` when started as root), sets resource limits (address space, CPU,
  file size, no new processes), moves to the working directory, installs an audit hook that
  refuses the course's own code, process creation, ctypes, sockets and writes outside the
  working directory -- and only then runs the submission. It answers one request at a time
  over its own pipe pair.

The supervisor accepts exactly one well-formed reply per request. Anything else on the
worker's pipe -- a frame nobody asked for, a reply to another call, bytes that are not a
frame -- means the submission wrote on the channel itself: the supervisor reports a forgery
and the grader scores the submission zero. Replies carry plain data only (numbers, arrays as
lists, exception names); the grader compares them against its own reference, in its own
process, on inputs drawn fresh for every run.

A worker that dies (``os._exit``, a signal, the memory limit) or overruns the time limit is
killed and reported for that call; the next call gets a fresh worker.
"""

from __future__ import annotations

import json
import os
import select
import struct
import sys
import time

# The builtins this file uses, bound as module globals now: a submission that patches the
# builtins module (builtins.isinstance = ...) cannot break the runner's own bookkeeping.
import builtins as _builtins

(isinstance, len, list, dict, str, type, callable, int, float, bool, tuple, set, any, all, min,
 getattr, enumerate, range, repr, hasattr, BaseException, Exception) = (
    _builtins.isinstance, _builtins.len, _builtins.list, _builtins.dict, _builtins.str, _builtins.type,
    _builtins.callable, _builtins.int, _builtins.float, _builtins.bool, _builtins.tuple, _builtins.set,
    _builtins.any, _builtins.all, _builtins.min, _builtins.getattr, _builtins.enumerate, _builtins.range,
    _builtins.repr, _builtins.hasattr, _builtins.BaseException, _builtins.Exception)

MAX_FRAME = 64 * 1024 * 1024  # bytes in one frame
MAX_ELEMENTS = 5_000_000  # numbers in one returned value
NOBODY = 65534
_HEADER = struct.Struct(">I")


class ChannelError(Exception):
    """A frame that is malformed, too large or not the one expected."""


class Timeout(Exception):
    pass


# --------------------------------------------------------------------------- framing
def write_frame(fd: int, obj, _write=os.write) -> None:
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
    """The next JSON frame, or None at end of stream; ChannelError for anything malformed."""
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


# --------------------------------------------------------------------------- values
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


class ReturnError(Exception):
    """The learner's return value is not plain numbers."""


def encode_result(value, _depth: int = 0):
    """A learner's return value -> plain JSON data, or ReturnError saying why not."""
    import numpy as np

    if _depth > 3:
        raise ReturnError("the returned value is nested too deeply")
    if value is None:
        return {"t": "none"}
    if type(value) is tuple:  # exactly a tuple: encode its items
        return {"t": "tuple", "items": [encode_result(item, _depth + 1) for item in value]}
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


def _exception_info(err: BaseException) -> dict:
    kind = type(err)
    try:
        message = str(err)
    except BaseException:  # noqa: BLE001
        message = "<the exception's message could not be printed>"
    if len(message) > 500:
        message = message[:500] + "..."
    mro = [c.__name__ for c in getattr(kind, "__mro__", ()) if c.__module__ == "builtins"]
    return {"error_type": getattr(kind, "__name__", "?"), "error_mro": mro, "message": message}


# --------------------------------------------------------------------------- the worker
def _resolver():
    """A realpath built on functions captured now, so learner code cannot patch it later."""
    import posix
    import stat

    lstat, readlink, getcwd, islnk = posix.lstat, posix.readlink, posix.getcwd, stat.S_ISLNK
    fsdecode = os.fsdecode

    def resolve(path) -> str:
        path = fsdecode(path)
        if not path.startswith("/"):
            path = getcwd() + "/" + path
        stack = [p for p in path.split("/") if p][::-1]
        done: list[str] = []
        hops = 0
        while stack:
            part = stack.pop()
            if part == ".":
                continue
            if part == "..":
                if done:
                    done.pop()
                continue
            candidate = "/" + "/".join(done + [part])
            try:
                mode = lstat(candidate).st_mode
            except OSError:
                done.append(part)
                continue
            if islnk(mode):
                hops += 1
                if hops > 40:
                    raise PermissionError("grader sandbox: too many symbolic links")
                target = readlink(candidate)
                if target.startswith("/"):
                    done = []
                stack.extend([p for p in target.split("/") if p][::-1])
            else:
                done.append(part)
        return "/" + "/".join(done)

    return resolve


_DENIED_EVENTS = (
    "subprocess.", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
    "os.kill", "os.killpg", "ctypes.", "socket.", "sys.addaudithook", "pty.spawn", "os.startfile",
    "webbrowser.", "resource.prlimit", "signal.pthread_kill", "_posixsubprocess.", "os.setuid",
    "sys.remote_exec",
)
_PATH_WRITE_EVENTS = (
    "os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.symlink", "os.link", "os.truncate",
    "os.chmod", "os.chown", "os.utime", "os.chflags", "os.lchflags", "os.mkfifo", "os.mknod",
    "shutil.rmtree", "shutil.copyfile", "shutil.copymode", "shutil.copystat", "shutil.move",
    "shutil.chown", "os.setxattr", "os.removexattr",
)


def install_guard(workdir: str, denied_reads: list[str], course_dirs: list[str], violations: list):
    """The audit hook of the worker (cannot be removed once added)."""
    import pathlib
    import posix
    import stat as stat_module

    resolve = _resolver()
    getpid = os.getpid
    fsdecode = os.fsdecode
    stat, isdir = posix.stat, stat_module.S_ISDIR
    trusted_paths = (pathlib.PosixPath, pathlib.PurePosixPath, pathlib.Path, pathlib.PurePath)
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
    workdir = resolve(workdir)
    course_dirs = tuple(resolve(d) for d in course_dirs)
    denied_reads = tuple(resolve(d) for d in denied_reads)
    record = violations.append

    def inside(path: str, folder: str) -> bool:
        return path == folder or path.startswith(folder + "/")

    def deny(kind: str, text: str):
        if len(violations) < 50:
            record([kind, text])
        return PermissionError("grader sandbox: " + text)

    def check_read(path: str) -> None:
        for folder in course_dirs:
            if inside(path, folder):
                raise deny("course-code", f"reading the course package ({path}) is not allowed in graded work")
        for folder in denied_reads:
            if inside(path, folder):
                raise deny("files", f"reading {path} is not allowed")
        if path.startswith("/proc/"):
            first = path[6:].split("/", 1)[0]
            if first.isdigit() and int(first) != getpid():
                raise deny("process", "looking at other processes is not allowed")

    def holds_course(path: str) -> bool:
        """True for the course package, a folder in it, or a folder that holds it: decided from
        the path alone, so it does not matter whether this user could reach the folder."""
        return any(inside(path, folder) or inside(folder, path) for folder in course_dirs)

    def check_path_list(entries, what: str) -> None:
        """An import search path (sys.path, a package's __path__) must not lead into the course."""
        try:
            entries = [e for e in entries if isinstance(e, (str, bytes))][:200]
        except BaseException:  # noqa: BLE001 - a learner object posing as a list
            return
        for entry in entries:
            resolved = resolve(entry or ".")
            if any(inside(resolved, folder) for folder in course_dirs):
                raise deny("course-code", f"importing from the course package ({resolved} on {what}) "
                                          "is not allowed in graded work")

    def check_write(path: str) -> None:
        if not inside(path, workdir):
            kind = "course-code" if any(inside(path, folder) for folder in course_dirs) else "files"
            raise deny(kind, f"writing outside the working directory is not allowed ({path})")

    def as_text(path) -> str:
        """A path argument as text; only str, bytes and the standard pathlib classes are trusted
        (a custom os.PathLike could answer differently to the hook and to the system call)."""
        if isinstance(path, (str, bytes)):
            return fsdecode(path)
        if type(path) in trusted_paths:
            return fsdecode(str(path))
        raise deny("files", f"paths must be str, bytes or pathlib paths in graded work, got {type(path).__name__}")

    def hook(event: str, args: tuple) -> None:
        if event == "open":
            path, mode, flags = (tuple(args) + (None, None, None))[:3]
            if isinstance(path, int):
                return
            resolved = resolve(as_text(path))
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & write_flags
            )
            check_read(resolved)
            if writing:
                check_write(resolved)
            elif not inside(resolved, workdir):
                # a descriptor of an outside directory would let dir_fd= reach past these checks
                if holds_course(resolved):
                    raise deny("course-code", f"opening the directory {resolved} is not allowed")
                try:
                    is_dir = isdir(stat(resolved).st_mode)
                except OSError:
                    is_dir = False
                if is_dir:
                    raise deny("files", f"opening the directory {resolved} is not allowed")
            return
        if event == "import":
            name = args[0] if args else ""
            check_module_name(name)
            if len(args) > 2 and isinstance(args[2], list):
                check_path_list(args[2], "sys.path")
            return
        if event == "os.chdir":
            path = args[0] if args else None
            if isinstance(path, int) or path is None:
                return
            resolved = resolve(as_text(path))
            if not inside(resolved, workdir):
                kind = "course-code" if holds_course(resolved) else "files"
                raise deny(kind, f"changing the working directory to {resolved} is not allowed")
            return
        if event in ("os.listdir", "os.scandir"):
            path = args[0] if args else None
            if isinstance(path, int) or path is None:
                return
            check_read(resolve(as_text(path)))
            return
        if event.startswith(_DENIED_EVENTS):
            raise deny("process", f"{event} is not allowed")
        if event in _PATH_WRITE_EVENTS:
            targets = args[1:2] if event.startswith("shutil.copy") else args  # copies: the destination
            for arg in targets:
                if isinstance(arg, (int, float, tuple)) or arg is None:
                    continue
                check_write(resolve(as_text(arg)))

    def check_module_name(name) -> None:
        if isinstance(name, str) and (name == "recsys_course" or name.startswith("recsys_course.")):
            raise deny("course-code", f"importing {name} is not allowed in graded work: write your own code")

    class CourseImportGuard:
        """First on sys.meta_path: ``importlib.import_module`` raises no "import" audit event for
        the module it is asked for, so the names and search paths are checked here as well
        (before any finder touches the file system)."""

        @staticmethod
        def find_spec(fullname, path=None, target=None):
            check_module_name(fullname)
            check_path_list(sys.path if path is None else path, "sys.path" if path is None else "a package path")
            return None

    sys.meta_path.insert(0, CourseImportGuard)
    sys.addaudithook(hook)


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


def _prepare_worker(job: dict, keep: set[int]) -> None:
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
            info = _exception_info(err)
            notes.append({"cell": number, "error_type": info["error_type"], "message": info["message"]})
    return notes


def worker_main(job: dict, request_fd: int, reply_fd: int) -> None:
    """Runs in the forked worker; never returns."""
    try:
        violations: list = []
        _prepare_worker(job, {request_fd, reply_fd})
        install_guard(job["workdir"], job["denied_reads"], job["course_dirs"], violations)
        write = write_frame
        namespace = {"__name__": "__submission__", "__builtins__": _builtins}
        saved = _snapshot()
        notes = _exec_cells(job["cells"], namespace)
        _restore(saved)
        _flush()
        write(reply_fd, {"type": "loaded", "notes": notes[:20], "violations": list(violations)[:20]})
        function_name = job["function"]
        calls = job["calls"]
        while True:
            request = read_frame(request_fd)
            if request is None or request.get("type") != "call":
                os._exit(0)
            k = request["call"]
            call = calls[k]
            reply = {"type": "reply", "call": k}
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
                    reply.update(ok=False, **_exception_info(err))
                else:
                    try:
                        reply.update(ok=True, value=encode_result(value))
                    except ReturnError as err:
                        reply.update(ok=False, error_type="ReturnError", error_mro=[],
                                     message=str(err))
                    except BaseException as err:  # noqa: BLE001
                        reply.update(ok=False, error_type="ReturnError", error_mro=[],
                                     message=f"reading the returned value failed: {type(err).__name__}")
                after = {}
                for index in call.get("report_args", []):
                    try:
                        after[str(index)] = encode_result(args[index])
                    except BaseException:  # noqa: BLE001
                        after[str(index)] = None
                reply["args_after"] = after
            reply["violations"] = list(violations)[:20]
            _flush()
            try:
                write(reply_fd, reply)
            except ChannelError:
                write(reply_fd, {"type": "reply", "call": k, "ok": False, "error_type": "ReturnError",
                                 "error_mro": [], "message": "the returned value is too large to send back",
                                 "violations": reply["violations"]})
    except BaseException:  # noqa: BLE001 - a broken worker just ends; the supervisor reports it
        pass
    _flush()
    os._exit(0)


def _snapshot() -> list:
    """The namespaces the runner itself relies on, as they are before learner code runs."""
    import numpy

    modules = [_builtins, numpy, json, os, struct, select]
    return [(module.__dict__, dict(module.__dict__)) for module in modules]


def _restore(snapshot: list) -> None:
    """Undo a submission's monkey-patching of builtins, numpy, json, os (not its additions)."""
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


# --------------------------------------------------------------------------- the supervisor
class Worker:
    def __init__(self, job: dict):
        self.job = job
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


def _move_high(fd: int) -> int:
    import fcntl

    high = fcntl.fcntl(fd, fcntl.F_DUPFD, 200 + (os.getpid() % 300))
    os.close(fd)
    return high


def _check_reply(frame, k: int) -> dict:
    if not isinstance(frame, dict) or frame.get("type") != "reply" or frame.get("call") != k:
        raise ChannelError(f"expected the reply to call {k}, got something else")
    return frame


def supervise(job: dict, result_fd: int) -> None:
    timeout = float(job["timeout"])
    calls = job["calls"]
    worker: Worker | None = None
    load_failure: str | None = None
    forged = False

    def send(obj) -> None:
        write_frame(result_fd, obj)

    def start() -> Worker | None:
        nonlocal load_failure, forged
        candidate = Worker(job)
        try:
            frame = read_frame(candidate.reply_fd, time.monotonic() + timeout)
        except Timeout:
            candidate.kill()
            load_failure = f"loading the submission did not finish within {timeout:g} s (an endless loop at top level?)"
            return None
        except ChannelError as err:
            candidate.kill()
            forged = True
            send({"type": "forged", "message": f"while loading: {err}"})
            return None
        if frame is None:
            candidate.reap()
            load_failure = f"the process {candidate.status} while loading the submission"
            return None
        if not isinstance(frame, dict) or frame.get("type") != "loaded":
            candidate.kill()
            forged = True
            send({"type": "forged", "message": "while loading: a frame that is not the loader's"})
            return None
        send({"type": "loaded", "notes": frame.get("notes", []), "violations": frame.get("violations", [])})
        return candidate

    for k in range(len(calls)):
        if forged:
            break
        if load_failure is not None:
            send({"type": "result", "call": k, "status": "load_failed", "message": load_failure})
            continue
        if worker is None:
            worker = start()
            if worker is None:
                if forged:
                    break
                send({"type": "result", "call": k, "status": "load_failed", "message": load_failure})
                continue
        try:
            write_frame(worker.request_fd, {"type": "call", "call": k})
            frame = read_frame(worker.reply_fd, time.monotonic() + timeout)
            if frame is None:
                worker.reap()
                send({"type": "result", "call": k, "status": "crashed",
                      "message": f"the process {worker.status} during this check"})
                worker = None
                continue
            reply = _check_reply(frame, k)
            send({"type": "result", "call": k, "status": "done", "reply": reply})
        except Timeout:
            worker.kill()
            worker = None
            send({"type": "result", "call": k, "status": "timeout",
                  "message": f"no answer within {timeout:g} s (an endless loop?); the grader stopped it"})
        except BrokenPipeError:
            worker.reap()
            send({"type": "result", "call": k, "status": "crashed",
                  "message": f"the process {worker.status} before this check could start"})
            worker = None
        except ChannelError as err:
            worker.kill()
            worker = None
            forged = True
            send({"type": "forged", "message": str(err)})
    if worker is not None:
        try:
            write_frame(worker.request_fd, {"type": "stop"})
        except OSError:
            pass
        try:  # anything left on the channel after the last reply was not written by the grader
            extra = read_frame(worker.reply_fd, time.monotonic() + 1.0)
        except Timeout:
            extra = None
        except ChannelError:
            extra = "garbage"
        if extra is not None:
            send({"type": "forged", "message": "extra data on the result channel after the last check"})
        worker.kill()
    send({"type": "done"})


# Loaded before the worker drops privileges: the unprivileged user may not be able to read the
# Python installation (e.g. a pyenv interpreter under /root), and a submission may reasonably use these.
PRELOAD = (
    "abc", "array", "base64", "bisect", "cmath", "collections", "collections.abc", "contextlib", "copy",
    "csv", "dataclasses", "datetime", "decimal", "enum", "fnmatch", "fractions", "functools", "glob",
    "hashlib", "heapq", "inspect", "itertools", "json", "math", "numbers", "operator", "pathlib",
    "pickle", "pprint", "queue", "random", "re", "secrets", "statistics", "string", "struct",
    "textwrap", "time", "timeit", "traceback", "types", "typing", "warnings", "weakref", "zlib",
    "numpy.linalg", "numpy.random", "numpy.fft", "numpy.polynomial",
    "scipy.linalg", "scipy.sparse.linalg", "scipy.special",
)


def _preload() -> None:
    import importlib

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - an optional convenience
            pass


def _installed_course_dirs() -> list[str]:
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
    result_fd = int(argv[1])
    job = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    import numpy  # noqa: F401 - loaded once, shared by every forked worker
    import scipy.sparse  # noqa: F401

    _preload()
    # resolved here, before any privilege drop: the worker's own view may stop at a private folder
    job["course_dirs"] = [os.path.realpath(d) for d in job["course_dirs"]] + _installed_course_dirs()

    try:
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0: /proc/<pid>/fd closed to others
    except Exception:  # noqa: BLE001
        pass
    supervise(job, result_fd)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
