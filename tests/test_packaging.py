"""The set-up promises of the README: dependency lists in step, numba compiled once."""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _normalise(requirement: str) -> tuple[str, str]:
    match = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(.*)", requirement)
    name, spec = match.group(1), match.group(2)
    return name.lower().replace("_", "-"), spec.replace(" ", "")


def _environment_dependencies() -> tuple[dict[str, str], list[str]]:
    conda, pip = {}, []
    section = None
    for line in (ROOT / "environment.yml").read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("#") or not stripped:
            continue
        if stripped == "dependencies:":
            section = "conda"
            continue
        if stripped == "- pip:":
            section = "pip"
            continue
        if stripped.startswith("- ") and section:
            value = stripped[2:].strip()
            if section == "pip" and line.startswith("      "):
                pip.append(value)
            else:
                name, spec = _normalise(value)
                conda[name] = spec
    return conda, pip


def test_pyproject_and_environment_yml_agree():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = dict(_normalise(r) for r in project["dependencies"])
    conda, pip = _environment_dependencies()
    assert conda.pop("python") == project["requires-python"]
    conda.pop("pip")
    assert conda == wanted, "environment.yml and pyproject.toml list different dependencies or ranges"
    assert pip == ["-e .[dev]"]


def _package_modules():
    import recsys_course

    for info in pkgutil.walk_packages(recsys_course.__path__, "recsys_course."):
        yield info.name


def test_every_numba_kernel_is_cached():
    from numba.core.registry import CPUDispatcher

    kernels = []
    for name in _package_modules():
        if name.startswith(("recsys_course.spark", "recsys_course.grading.child")):
            continue  # optional dependency / runs learner code
        module = importlib.import_module(name)
        for attribute in vars(module).values():
            if isinstance(attribute, CPUDispatcher) and attribute.__module__ == name:
                kernels.append(attribute)
    assert kernels, "no numba kernel found"
    uncached = [k.py_func.__qualname__ for k in kernels if type(k._cache).__name__ == "NullCache"]
    assert not uncached, f"kernels without cache=True: {uncached}"


@pytest.mark.slow
def test_second_process_does_not_recompile(tmp_path):
    script = (
        "import numpy as np\n"
        "from recsys_course.models._topk import top_k, topk_rows\n"
        "top_k(np.arange(12.0).reshape(3, 4), 2)\n"
        "print(sum(topk_rows.stats.cache_hits.values()), sum(topk_rows.stats.cache_misses.values()))\n"
    )
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    first = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    second = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    hits1, misses1 = map(int, first.stdout.split())
    hits2, misses2 = map(int, second.stdout.split())
    assert misses1 >= 1 and hits1 == 0
    assert hits2 >= 1 and misses2 == 0


def test_ci_runs_the_readme_test_command_and_nothing_else():
    run = (ROOT / ".ci" / "run").read_text()
    commands = [l for l in run.splitlines() if l.strip() and not l.lstrip().startswith("#")]
    assert commands[-1].strip() == "exec make test"
    readme = (ROOT / "README.md").read_text()
    assert "make lab" in readme and "make test" in readme


def test_cli_help_lists_the_subcommands():
    out = subprocess.run(
        [sys.executable, "-m", "recsys_course.cli", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for command in ("data", "lab", "quiz", "grade", "bench"):
        assert command in out


_LEARNER_FIRST_CELLS = """
import numpy as np
from recsys_course.data import simulate, train_test_split
from recsys_course.metrics import evaluate
from recsys_course.models import BPR, ImplicitALS, ItemKNN, Popularity
from recsys_course.warmup import numba_dispatchers
counts = simulate(n_users=60, n_items=40, random_state=1).counts
train, test = train_test_split(counts, random_state=0)
models = [
    ImplicitALS(factors=8, iterations=3, random_state=0, progress=False).fit(train),
    ImplicitALS(factors=8, iterations=3, solver="cholesky", dtype=np.float64, random_state=0,
                progress=False).fit(train),
    BPR(factors=8, epochs=3, random_state=0).fit(train),
    BPR(factors=8, epochs=3, fast_math=False, dtype=np.float64, num_threads=1, random_state=0).fit(train),
    ItemKNN().fit(train),
    Popularity().fit(train),
]
for model in models:
    evaluate(model, train, test, k=10)
    model.recommend(0)
models[0].explain(0, 1)
misses = {d.py_func.__qualname__: sum(d.stats.cache_misses.values()) for d in numba_dispatchers()}
print(sum(misses.values()), sorted(name for name, n in misses.items() if n))
"""


@pytest.mark.slow
def test_after_warmup_a_learner_compiles_nothing(tmp_path):
    """`recsys-course warmup` (run by make lab / make data / postBuild) fills the numba cache
    so that a fresh process fitting and evaluating every model compiles no kernel."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    warm = subprocess.run([sys.executable, "-m", "recsys_course.cli", "warmup"], env=env,
                          capture_output=True, text=True, check=True)
    compiled = int(re.search(r"(\d+) compiled now", warm.stdout).group(1))
    assert compiled >= 20, warm.stdout  # an empty cache: warm-up itself had to compile the kernels
    after = subprocess.run([sys.executable, "-c", _LEARNER_FIRST_CELLS], env=env,
                           capture_output=True, text=True, check=True)
    assert after.stdout.split()[0] == "0", f"kernels compiled after warm-up: {after.stdout}"


def test_warmup_lists_every_module_with_numba_kernels():
    """A kernel module missing from warmup.KERNEL_MODULES would be compiled by the warm-up's fits
    but not counted, and a learner's first call could still compile it: scan the sources."""
    from recsys_course import warmup

    package = Path(warmup.__file__).resolve().parent
    with_kernels = set()
    for path in package.rglob("*.py"):
        if re.search(r"^\s*@(numba\.)?(njit|jit)\b", path.read_text(encoding="utf-8"), flags=re.MULTILINE):
            dotted = path.relative_to(package.parent).with_suffix("").as_posix().replace("/", ".")
            with_kernels.add(dotted)
    assert with_kernels, "the scan found no numba kernel at all"
    assert with_kernels == set(warmup.KERNEL_MODULES)
    listed = {d.__module__ for d in warmup.numba_dispatchers()}
    assert listed == set(warmup.KERNEL_MODULES)
