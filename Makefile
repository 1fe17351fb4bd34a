# recsys-course: every target installs what it needs, so a fresh clone needs only
#   make lab    -> .venv, install, fetch data, JupyterLab on the course
#   make test   -> .venv, install (dev + spark extras, chromium), fetch data, every test and notebook
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
LAB_ARGS ?=
PYTEST_ARGS ?=
SUBMISSIONS ?=
GRADE_ARGS ?=
export PYTHONHASHSEED ?= 0

.PHONY: help venv install install-test data warmup lab test test-fast bench book grade quiz exercises browser java unprivileged clean

help:
	@echo "make lab    - set everything up and open the course in JupyterLab (LAB_ARGS=... passes through)"
	@echo "make test   - set everything up and run every test, executing every notebook"
	@echo "make data   - fetch and verify the real data sets, and compile the numba kernels once"
	@echo "make bench  - run the benchmarks against the implicit library"
	@echo "make book   - build the course website (executed notebooks, quiz, exercises) into _build/html"
	@echo "make grade SUBMISSIONS='path/ex01_*.ipynb' - grade exercise submissions"

$(PY):
	$(PYTHON) -m venv $(VENV)

# Re-installs only when pyproject.toml changes.
$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PIP) install -e '.[dev]'
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed-dev
	$(PIP) install -e '.[dev,spark,bench,book]'
	@touch $@

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed-dev
	$(PIP) install -e '.[dev,bench,spark]'
	@touch $@

$(VENV)/.installed-book: pyproject.toml | $(PY)
	$(PIP) install -e '.[book]'
	@touch $@

venv: $(PY)
install: $(VENV)/.installed-dev
install-test: $(VENV)/.installed-test

# Debian's chromium for the browser test (no browser download); needs root or sudo.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# Java 17 for Spark, when the machine has none.
java:
	@command -v java >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq openjdk-17-jre-headless >/dev/null; }

# As root, make test re-runs the grader tests as user nobody (tests/test_grader_unprivileged.py):
# that needs setpriv (util-linux) and a python3 of the venv's minor version that nobody can run
# (a pyenv interpreter under /root is not; Debian's /usr/bin/python3 is).
unprivileged:
	@[ "$$(id -u)" != 0 ] || { command -v setpriv >/dev/null 2>&1 && [ -x /usr/bin/python3 ]; } || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq util-linux python3 >/dev/null; }

data: $(VENV)/.installed-dev
	$(PY) -m recsys_course.cli data fetch
	$(PY) -m recsys_course.cli warmup

# Compile the numba kernels into their on-disk cache (about a second when already warm).
warmup: $(VENV)/.installed-dev
	$(PY) -m recsys_course.cli warmup

# JupyterLab refuses to run as root without --allow-root (containers, CI machines).
ROOT_FLAG := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

lab: $(VENV)/.installed-dev data
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=$(CURDIR) \
	  --LabApp.default_url=/lab/tree/notebooks/01_explicit_vs_implicit.ipynb $(ROOT_FLAG) $(LAB_ARGS)

test: $(VENV)/.installed-test browser java unprivileged data
	$(PY) -m pytest tests notebooks --nbval --nbval-current-env \
	  --nbval-sanitize-with tests/nbval_sanitize.cfg --timeout=1800 $(PYTEST_ARGS)

# Unit tests only: the quick loop while developing.
test-fast: $(VENV)/.installed-dev
	$(PY) -m pytest tests -m "not slow and not data and not spark and not ui and not grader and not book" $(PYTEST_ARGS)

bench: $(VENV)/.installed-bench java data
	$(PY) -m recsys_course.cli bench $(BENCH_ARGS)

# The course as a static website in $(BOOK_DIR)/html, from the committed executed notebooks
# (nothing is executed); offline by design (MathJax 3 and every script bundled). docs/conf.py says how.
BOOK_DIR ?= _build
book: $(VENV)/.installed-book
	rm -rf $(BOOK_DIR)/html  # every page rewritten, none left over from an older build
	$(PY) -m sphinx -b html -E -c docs -d $(BOOK_DIR)/doctrees -q . $(BOOK_DIR)/html
	@echo "website: $(BOOK_DIR)/html/index.html"

grade: $(VENV)/.installed-dev
	$(PY) -m recsys_course.cli grade $(SUBMISSIONS) $(GRADE_ARGS)

quiz: $(VENV)/.installed-dev
	$(PY) -m recsys_course.cli quiz

exercises: $(VENV)/.installed-dev
	$(PY) -m recsys_course.exercises.build

clean:
	rm -rf $(VENV) .pytest_cache build _build *.egg-info
