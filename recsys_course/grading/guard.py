"""The worker's audit hook and import guard: refuse the course's code, other files, processes.

Installed by :mod:`.worker` after the privilege drop and before any learner code runs. Every
decision about the course package is taken from the path alone (resolved without following
what the worker may not see), so whether an attempt is caught does not depend on where the
course is installed or whether this user could reach it. This layer is a deterrent: CPython's
audit hooks are not a sandbox (the guarantees come from the operating system and from
comparing results in the grader's process; see exercises/README.md).

Loaded only inside the sandbox process, never by the grader.
"""

from __future__ import annotations

import os
import sys

# Bound now, as module globals: a submission that patches the builtins module later
# (builtins.isinstance = ...) cannot change what the hook sees.
from builtins import (  # noqa: A004 - deliberate shadowing with the same objects
    BaseException, OSError, PermissionError, any, bool, bytes, float, int, isinstance, len, list, staticmethod, str,
    tuple, type,
)

__all__ = ["install_guard"]


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
