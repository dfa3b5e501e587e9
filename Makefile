# make run  : create .venv if missing, install the pinned dependencies and the project, run it
# make test : same environment, then ruff and the whole pytest suite
# make test-pythons : the tests that start processes on every other supported Python,
#                     under spawn and forkserver (make install-pythons: their venvs alone)
# make bench: the figures of docs/performance.md (benchmarks/bench.py)
# make lock : re-resolve the dependency ranges of pyproject.toml into requirements.lock,
#             then check that it installs on every other supported Python
# make ui   : the MLflow UI of the project's tracked runs (tracking: true) on http://127.0.0.1:5000
#             (make ui PORT=5001 for another port)
# make docs : the documentation site (docs/, mkdocs.yml) on http://127.0.0.1:8000, rebuilt as a page changes
#             (make docs DOCS_PORT=8001 for another port)
# make screenshots : refresh docs/*.png (the site's kedro-viz and MLflow pictures) from the browser tests
# make certs: a CA and the certificates of a TLS Dask cluster, in certs/ (kedro dask-certs)

# The Python that makes .venv; make run PYTHON=python3.12 for another.
PYTHON ?= python3
# The supported Pythons, oldest first: the README and pyproject.toml's requires-python say
# the same. The oldest is the oldest that every pin of requirements.lock installs on (numpy,
# scipy, pandas and scikit-learn need 3.11); the one lock serves them all (make lock checks).
# make test runs the whole suite on .venv's Python, make test-pythons part of it on the others.
PYTHONS := 3.11 3.12 3.13
OLDEST := $(firstword $(PYTHONS))
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Kedro telemetry is off for this project through the committed .telemetry file;
# this makes sure no tool run from here phones home either.
export KEDRO_DISABLE_TELEMETRY := 1
# mlflow's too: its UI would otherwise fetch a telemetry configuration from the internet.
export MLFLOW_DISABLE_TELEMETRY := true
# MkDocs' Material theme prints a banner on every build about its end of life (May 2027).
export NO_MKDOCS_2_WARNING := 1

.PHONY: install install-pythons other-pythons python-check run test test-pythons lint lock clean docs screenshots bench certs ui

# make alone is make install: .venv, made once, then remade when pyproject.toml or
# requirements.lock changes. python-check runs first, every time (next).
install: $(STAMP)

# Stops make, in one line and before anything is created, when PYTHON cannot make the venv
# (it does not run, or is older than $(OLDEST)), or is not of the Python version an existing
# one was made with; a Python newer than tested goes on, with a warning (.ci/python-check).
# A dry run (make -n) checks too (+).
python-check:
	+@.ci/python-check "$(PYTHON)" "$(origin PYTHON)" "$(VENV)" "$(PYTHONS)" "$(or $(MAKECMDGOALS),run)"

# One line says what it does; pip's own output only on an error.
$(STAMP): pyproject.toml requirements.lock | python-check
	@echo "Installing the pinned dependencies (requirements.lock) and the project into $(VENV): one to two minutes, once"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo '*' > $(VENV)/.gitignore
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet --constraint requirements.lock --editable ".[dev]"
	@touch $(STAMP)

run: install
	$(BIN)/kedro run --runner=ParallelRunner

# ruff, then mypy on src/ ([tool.mypy] in pyproject.toml).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The whole suite, on two pytest-xdist workers; the tests that share a run (or a module's
# fixtures) share a worker (tests/conftest.py's xdist_groups), so that each run is made once.
# The 20 slowest steps are listed at the end: where CI's time goes.
test: lint
	$(BIN)/pytest -n 2 --dist loadgroup --durations=20

# The supported Pythons but .venv's X.Y (PYTHON's, before make install has made it; all of
# them when it does not run).
venv_python = $(or $(wildcard $(BIN)/python),$(PYTHON))
OTHER_PYTHONS = $(filter-out $(shell $(venv_python) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null),$(PYTHONS))

# On each of them, a venv of its own (.venv-3.12, ...) from the same lock, and the tests that
# start worker processes, under spawn on the first and forkserver on the next (.ci/test-pythons).
test-pythons: install
	.ci/test-pythons $(OTHER_PYTHONS)

# Their venvs alone, checked against the lock (CI makes them while it installs the rest).
install-pythons:
	.ci/test-pythons --install-only $(OTHER_PYTHONS)

# Their X.Y, on one line (.ci/run makes their venvs while it installs the rest).
other-pythons:
	@echo $(OTHER_PYTHONS)

# Performance figures, measured side by side (a few tens of minutes; not part of make test).
bench: install
	$(BIN)/python benchmarks/bench.py

# On this machine only (127.0.0.1); tests/end_to_end/test_docs.py runs this, and builds the site
# with --strict (a broken link or anchor, or a page missing from the nav, fails it).
DOCS_PORT ?= 8000
docs: install
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:$(DOCS_PORT)

screenshots: install
	mkdir -p docs
	PARALLEL_TREES_SCREENSHOTS=docs PARALLEL_TREES_REQUIRE_BROWSER=1 $(BIN)/pytest -m browser

# The project's own MLflow store, as the tracking hook writes it: runs in mlflow.db, their
# artifacts and models in mlruns/. src/parallel_trees/mlflow_ui.py runs `mlflow server` on it,
# on this machine only (127.0.0.1), with one worker and no job runner, and says in one line
# where to open it; Ctrl-C stops it without a word (that file says why it takes a module).
# tests/end_to_end/test_mlflow_ui.py runs this.
PORT ?= 5000
ui: install
	@$(BIN)/python -m parallel_trees.mlflow_ui $(PORT)

# The README's "A cluster on a shared network: TLS" (needs openssl). An existing folder is
# refused rather than overwritten: make certs CERTS=<another folder>.
CERTS ?= certs
certs: install
	$(BIN)/kedro dask-certs $(CERTS)

# Resolved on the oldest supported Python, so that no pin needs a newer one; then checked on
# every other one: it installs there, and pins every package installed.
lock:
	@.ci/find-python $(OLDEST) >/dev/null || { echo "make lock resolves on Python $(OLDEST), the oldest supported, and found none (pyenv prefix $(OLDEST), python$(OLDEST) on PATH)"; exit 1; }
	rm -rf .lock-venv build
	$$(.ci/find-python $(OLDEST)) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet ".[dev]"
	.lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^parallel.trees' > requirements.lock
	rm -rf .lock-venv build
	.ci/test-pythons --install-only $(filter-out $(OLDEST),$(PYTHONS))

clean:
	rm -rf $(VENV) $(addprefix .venv-,$(PYTHONS)) build .pytest_cache .ruff_cache
