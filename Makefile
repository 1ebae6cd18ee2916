# Two commands on a fresh machine with only Python 3.11: `make up` and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: up demo test lint typecheck bench clean-state

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or: make PYTHON=python3 ...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Set up and run the system: embedded Postgres (unless DATABASE_URL), Dagster UI on :3000, dashboards on :8501.
up: $(STAMP)
	$(BIN)/pm-intel up $(UP_ARGS)

## The same, fully offline: pm_sim serves the Polymarket APIs on 127.0.0.1 and every client points at it.
demo: $(STAMP)
	$(BIN)/pm-intel up --sim $(UP_ARGS)

## Set up and run every test (unit, contract, integration, browser). Installs Debian's chromium if missing.
test: $(STAMP)
	bash tests/browser/ensure_chromium.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/pm-intel bench $(BENCH_ARGS)

clean-state:
	-$(BIN)/pm-intel db stop
	rm -rf .pm-intel
