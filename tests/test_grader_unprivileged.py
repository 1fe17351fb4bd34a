"""The grader test-suite once more, as an unprivileged user (issue 12).

``make test`` usually runs as root (containers, CI), and then the grader drops the sandbox's
worker to ``nobody`` itself; the path where the *grader* is an ordinary user had never run end
to end. This test re-runs ``tests/test_grader*.py`` as ``nobody`` when the suite runs as root.

The obstacle: the course's virtual environment may be built on an interpreter that ``nobody``
cannot read (a pyenv build under ``/root``, mode 700), and the checkout itself may sit in a
private folder (``mktemp -d``). So the test builds, in a world-readable temporary folder:

* a virtual environment on a Python of the same minor version that ``nobody`` can run (the
  venv's own base interpreter when it is reachable, else the system's ``python3.X``, else a
  hard-linked copy of the base installation with ``LD_LIBRARY_PATH`` for its libpython), whose
  ``site-packages`` is a hard-link copy of the course venv's (a copy when linking fails);
* a copy of the package, the tests and ``pyproject.toml``, owned by ``nobody``;

then runs pytest there through ``setpriv`` (or ``runuser``). Building the folder takes a few
seconds; the nested run costs what the grader tests cost (about two and a half minutes on two
cores).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.grader

ROOT = Path(__file__).resolve().parent.parent
NOBODY = 65534
GRADER_TESTS = ("tests/test_grader.py", "tests/test_grader_subtle.py", "tests/test_grader_workflow.py",
                "tests/test_grader_protocol.py")


def _as_nobody(command: list[str]) -> list[str]:
    if shutil.which("setpriv"):
        return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--", *command]
    if shutil.which("runuser"):
        return ["runuser", "-u", "nobody", "--", *command]
    pytest.fail("running the grader tests as an unprivileged user needs setpriv or runuser (util-linux)")


def _runs_as_nobody(python: str, env: dict) -> bool:
    """True when the unprivileged user can start ``python`` itself and it starts again from
    there (the grader starts its sandbox from ``sys.executable``)."""
    probe = ("import subprocess, sys; subprocess.run([sys.executable, '-c', 'pass'], check=True); "
             "print(sys.version_info[:2])")
    try:
        done = subprocess.run(_as_nobody([python, "-I", "-c", probe]),
                              capture_output=True, text=True, env=env, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and done.stdout.strip() == str(tuple(sys.version_info[:2]))


def _readable_interpreter(env: dict, base: Path) -> str:
    """A Python of this minor version that the unprivileged user can start: the venv's own base
    interpreter or the system's when reachable, else a hard-linked copy of the base installation
    in ``base`` (its shared libpython found through LD_LIBRARY_PATH, set in ``env``)."""
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    candidates = [getattr(sys, "_base_executable", ""), f"/usr/bin/python{version}",
                  shutil.which(f"python{version}") or "", "/usr/bin/python3"]
    for candidate in dict.fromkeys(c for c in candidates if c):
        if os.path.exists(candidate) and _runs_as_nobody(candidate, env):
            return candidate
    copy = _linked_interpreter_copy(base / "python", env)
    if copy and _runs_as_nobody(copy, env):
        return copy
    pytest.fail(f"no Python {version} that user nobody can run: tried {candidates} and a copy of "
                f"{sys.base_prefix}; install the distribution's python{version} (Debian: apt-get install "
                "python3) or build the course venv on an interpreter outside a private folder")


def _linked_interpreter_copy(target: Path, env: dict) -> str | None:
    """The base installation (sys.base_prefix) hard-linked (else copied) to ``target``."""
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    source = Path(sys.base_prefix)
    if not (source / "bin" / f"python{version}").exists():
        return None
    linked = shutil.which("cp") and subprocess.run(["cp", "-al", str(source), str(target)], check=False,
                                                   capture_output=True).returncode == 0
    if not linked:
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target, symlinks=True, copy_function=_link_or_copy)
    if (target / "lib").is_dir():  # a pyenv build finds libpython by an absolute RUNPATH
        env["LD_LIBRARY_PATH"] = str(target / "lib")
    return str(target / "bin" / f"python{version}")


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system, or links not allowed: a real copy
        shutil.copy2(source, target)


def _share_site_packages(source: Path, target: Path, env: dict) -> str:
    """Make the course venv's packages importable by the unprivileged user: used in place when
    that user can read them (a .pth file), else hard-linked (``cp -al``), else copied."""
    probe = source / "numpy" / "__init__.py"
    readable = subprocess.run(_as_nobody(["test", "-r", str(probe)]), env=env, check=False).returncode == 0
    if readable:
        (target / "course-venv.pth").write_text(f"import site; site.addsitedir({str(source)!r})\n",
                                               encoding="utf-8")
        return "shared"
    shutil.rmtree(target, ignore_errors=True)
    if shutil.which("cp") and subprocess.run(["cp", "-al", str(source), str(target)], check=False,
                                             capture_output=True).returncode == 0:
        return "hard-linked"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, symlinks=True, copy_function=_link_or_copy)
    return "copied"


def _chown_tree(path: Path, uid: int) -> None:
    os.chown(path, uid, uid)
    for folder, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(os.path.join(folder, name), uid, uid)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="not root: this very run already exercises the grader as an ordinary user")
def test_grader_suite_passes_as_an_unprivileged_user():
    base = Path(tempfile.mkdtemp(prefix="recsys-unprivileged-"))
    try:
        base.chmod(0o755)
        home = base / "home"
        home.mkdir()
        env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", "PYTHONHASHSEED": "0",
               "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1", "NUMBA_CACHE_DIR": str(home / "numba")}
        python = _readable_interpreter(env, base)

        venv = base / "venv"
        subprocess.run([python, "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True)
        site = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
        _share_site_packages(Path(sysconfig.get_path("purelib")), site, env)

        source = base / "source"
        source.mkdir()
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
        shutil.copytree(ROOT / "recsys_course", source / "recsys_course", ignore=ignore)
        shutil.copytree(ROOT / "tests", source / "tests", ignore=ignore)
        shutil.copytree(ROOT / "exercises", source / "exercises", ignore=ignore)
        shutil.copy2(ROOT / "pyproject.toml", source / "pyproject.toml")
        _chown_tree(home, NOBODY)
        _chown_tree(source, NOBODY)

        command = _as_nobody([str(venv / "bin" / "python"), "-m", "pytest", *GRADER_TESTS, "-x", "-q",
                              "-p", "no:cacheprovider", "--timeout=900", "--tb=short"])
        # the copy, not the course venv's editable install, for the tests' own subprocesses too: that
        # install points at the checkout, which nobody may not read (a clone in a mode-700 folder)
        nested_env = dict(env, PYTHONPATH=str(source))
        done = subprocess.run(command, cwd=source, env=nested_env, capture_output=True, text=True, timeout=1800,
                              check=False)
        report = (done.stdout + done.stderr)[-6000:]
        assert done.returncode == 0, f"the grader tests failed as user nobody:\n{report}"
        assert " passed" in done.stdout, report
    finally:
        shutil.rmtree(base, ignore_errors=True)
