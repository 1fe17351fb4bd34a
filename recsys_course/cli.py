"""The ``recsys-course`` command: ``data``, ``lab``, ``warmup``, ``quiz``, ``grade``, ``autograder``,
``bench``."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _data(args: argparse.Namespace) -> int:
    from .data import datasets

    if args.action == "path":
        print(datasets.data_home())
        return 0
    names = args.names or list(datasets.DATASETS)
    for name in names:
        if name not in datasets.DATASETS:
            print(f"unknown data set {name!r}; known: {', '.join(datasets.DATASETS)}", file=sys.stderr)
            return 2
    for name in names:
        path = datasets.fetch(name, force=args.force)
        spec = datasets.DATASETS[name]
        print(f"{name}: {path} (sha256 {spec.sha256[:12]}... verified)")
    return 0


def _lab(args: argparse.Namespace) -> int:
    command = [
        sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={REPO_ROOT}",
        "--LabApp.default_url=/lab/tree/notebooks/01_explicit_vs_implicit.ipynb",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers and CI machines run as root
    return subprocess.call([*command, *args.lab_args])


def _warmup(args: argparse.Namespace) -> int:
    from .warmup import warm_up

    result = warm_up(verbose=args.verbose)
    print(f"numba kernels ready: {int(result['compiled'])} compiled now, the rest loaded from the cache "
          f"({result['seconds']:.1f} s)")
    return 0


def _quiz(args: argparse.Namespace) -> int:
    from .quiz.cli import main as quiz_main

    return quiz_main(args.rest)


def _grade(args: argparse.Namespace) -> int:
    from .grading.cli import main as grade_main

    return grade_main(args.rest)


def _autograder(args: argparse.Namespace) -> int:
    from .grading.autograder import main as autograder_main

    return autograder_main(args.rest)


def _bench(args: argparse.Namespace) -> int:
    """Every benchmark, then one table of issue 11's targets (benchmarks/results/summary.json)."""
    script = REPO_ROOT / "benchmarks" / "run_all.py"
    if not script.exists():
        print(f"the benchmarks live in the course repository ({script} not found)", file=sys.stderr)
        return 2
    env = dict(os.environ)
    return subprocess.call([sys.executable, str(script), *args.rest], env=env)


# Subcommands with parsers of their own: every argument after the name, --help included, goes to them.
_PASS_THROUGH = {
    "quiz": (_quiz, "take the quiz in the terminal"),
    "grade": (_grade, "grade exercise submissions"),
    "autograder": (_autograder, "write a Gradescope autograder zip for one exercise"),
    "bench": (_bench, "run the benchmarks against the implicit library and print one table of targets"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="recsys-course", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    data = sub.add_parser("data", help="fetch or locate the real data sets")
    data.add_argument("action", choices=["fetch", "path"])
    data.add_argument("names", nargs="*", help="data sets (default: all)")
    data.add_argument("--force", action="store_true", help="fetch again even when cached")
    data.set_defaults(func=_data)

    lab = sub.add_parser("lab", help="start JupyterLab on the course")
    lab.add_argument("lab_args", nargs=argparse.REMAINDER)
    lab.set_defaults(func=_lab)

    warmup = sub.add_parser("warmup", help="compile the numba kernels once, so the notebooks never wait")
    warmup.add_argument("--verbose", action="store_true", help="name each model as it is warmed")
    warmup.set_defaults(func=_warmup)

    for name, (_, text) in _PASS_THROUGH.items():
        sub.add_parser(name, help=text, add_help=False)  # listed here; main() hands them their arguments
    return parser




def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in _PASS_THROUGH:
        run, _ = _PASS_THROUGH[argv[0]]
        return int(run(argparse.Namespace(rest=argv[1:])) or 0)
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
