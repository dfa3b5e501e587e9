# make run  : create .venv if missing, install the pinned dependencies and the project, run it
# make test : same environment, then ruff and the whole pytest suite
# make bench: the performance table of the README (benchmarks/bench.py)
# make lock : re-resolve the dependency ranges of pyproject.toml into requirements.lock
# make screenshots : refresh docs/*.png (the README's kedro-viz pictures) from the browser test

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Kedro telemetry is off for this project through the committed .telemetry file;
# this makes sure no tool run from here phones home either.
export KEDRO_DISABLE_TELEMETRY := 1

.PHONY: install run test lint lock clean screenshots bench

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10) and "Python 3.10+ is needed; set PYTHON=python3.x")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --constraint requirements.lock --editable ".[dev]"
	touch $(STAMP)

run: install
	$(BIN)/kedro run --runner=ParallelRunner

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/pytest

# Performance figures, measured side by side (a few tens of minutes; not part of make test).
bench: install
	$(BIN)/python benchmarks/bench.py

screenshots: install
	mkdir -p docs
	PARALLEL_TREES_SCREENSHOTS=docs PARALLEL_TREES_REQUIRE_BROWSER=1 \
		$(BIN)/pytest tests/test_viz.py -k "browser and run"

lock:
	rm -rf .lock-venv build
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet ".[dev]"
	.lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^parallel.trees' > requirements.lock
	rm -rf .lock-venv build

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache
