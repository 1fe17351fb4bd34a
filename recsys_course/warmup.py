"""Compile the course's numba kernels once, at set-up, so a learner never waits for them.

numba compiles a kernel the first time it is called with a given combination of argument
types and, with ``cache=True``, stores the machine code on disk (beside the module, or in
``NUMBA_CACHE_DIR``). ``warm_up()`` calls every public path that reaches a kernel, on tiny
data, with the types the notebooks use (float32 and float64 models, both ALS solvers, both
BPR kernels and samplers, every metric), so the first real call in a fresh kernel loads the
cached code instead of compiling. ``make lab``, ``make data`` and Binder's ``postBuild`` run
it through ``recsys-course warmup``.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["numba_dispatchers", "warm_up"]


KERNEL_MODULES = (
    "recsys_course._metrics_kernels",
    "recsys_course.models._als_kernels",
    "recsys_course.models._als_prepare",
    "recsys_course.models._bpr_kernels",
    "recsys_course.models._topk",
    "recsys_course.models.baselines",
)
"""The package's modules with numba kernels (tests/test_packaging.py checks that none is missing)."""


def kernel_modules() -> list[Any]:
    """The modules of ``KERNEL_MODULES``, imported."""
    import importlib

    return [importlib.import_module(name) for name in KERNEL_MODULES]


def numba_dispatchers() -> list[Any]:
    """Every numba-compiled function of the package's kernel modules."""
    from numba.core.registry import CPUDispatcher

    found = []
    for module in kernel_modules():
        for value in vars(module).values():
            if isinstance(value, CPUDispatcher) and value.__module__ == module.__name__:
                found.append(value)
    return found


def _tiny_counts(n_users: int = 24, n_items: int = 16, seed: int = 0) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    dense = rng.poisson(0.5, size=(n_users, n_items)) * (rng.random((n_users, n_items)) < 0.5)
    dense[np.arange(n_users), np.arange(n_users) % n_items] += 1
    return sp.csr_matrix(dense.astype(np.float64))


def warm_up(verbose: bool = False) -> dict[str, float]:
    """Run every kernel path once on tiny data; return ``{"seconds": ..., "compiled": ...}``.

    ``compiled`` counts the kernel signatures compiled in this process (0 when the on-disk cache
    was already warm). Safe to run again: a warm cache makes it take about a second.
    """
    from .data.split import train_test_split
    from .metrics import METRICS, evaluate
    from .models import BPR, ExplicitALS, ImplicitALS, ItemKNN, Popularity

    start = time.perf_counter()
    counts = _tiny_counts()
    train, test = train_test_split(counts, test_fraction=0.25, random_state=0)
    steps = []
    for dtype in (np.float32, np.float64):
        for solver in ("cg", "cholesky"):
            for scheme in ("linear", "log"):
                steps.append((f"ImplicitALS {np.dtype(dtype).name} {solver} {scheme}",
                              lambda d=dtype, s=solver, c=scheme: ImplicitALS(
                                  factors=4, iterations=2, solver=s, scheme=c, alpha=2.0, regularization=0.1,
                                  dtype=d, random_state=0, progress=False).fit(train)))
        for fast_math in (True, False):
            for schedule in ("strata", "hogwild"):
                for sampler in ("uniform", "popularity"):
                    steps.append((f"BPR {np.dtype(dtype).name} fast_math={fast_math} {schedule} {sampler}",
                                  lambda d=dtype, f=fast_math, s=sampler, h=schedule: BPR(
                                      factors=4, epochs=2, sampler=s, dtype=d, fast_math=f, schedule=h,
                                      blocks=2, random_state=0).fit(train, validation=test)))
    steps.append(("ImplicitALS frequency-scaled", lambda: ImplicitALS(
        factors=4, iterations=2, regularization_scaling="frequency", dtype=np.float64, random_state=0,
        progress=False).fit(train)))
    for scaling in ("plain", "count"):
        steps.append((f"ExplicitALS {scaling}", lambda s=scaling: ExplicitALS(
            factors=4, iterations=2, regularization_scaling=s, random_state=0, progress=False).fit(train)))
    steps.append(("ItemKNN", lambda: ItemKNN(neighbors=5).fit(train)))
    steps.append(("Popularity", lambda: Popularity().fit(train)))
    before = _compiled_count()
    for name, make in steps:
        model = make()
        evaluate(model, train, test, k=5, metrics=METRICS)
        model.recommend(0, k=3)
        model.recommend_batch(np.arange(3), k=3)
        if hasattr(model, "explain"):
            model.explain(0, 1, k=2)
        if not isinstance(model, Popularity):  # popularity has no item vectors
            model.similar_items(0, k=3)
        if verbose:
            print(f"  warmed {name}", file=sys.stderr)
    compiled = _compiled_count() - before
    return {"seconds": time.perf_counter() - start, "compiled": float(compiled)}


def _compiled_count() -> int:
    """Kernel signatures compiled (not loaded from the cache) so far in this process."""
    return sum(sum(d.stats.cache_misses.values()) for d in numba_dispatchers())
