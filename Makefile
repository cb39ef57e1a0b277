# Two commands matter: `make demo` and `make test`. Each installs what it needs itself.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit cli fuzz bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The pinned claude CLI, from the npm registry, into the per-user cache (a no-op when present).
cli: $(STAMP)
	$(PY) -m trio_claude install-cli

demo: cli
	$(PY) -m trio_claude demo

lint: $(STAMP)
	$(VENV)/bin/ruff check trio_claude tests benchmarks $(wildcard examples)

typecheck: $(STAMP)
	$(VENV)/bin/mypy trio_claude

unit: $(STAMP)
	$(VENV)/bin/pytest -q

test: cli lint typecheck
	$(VENV)/bin/pytest -q

# Long-running property-based fuzzing (100x the examples of `make test`; docs/fuzzing.md).
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(VENV)/bin/pytest -q --timeout=0 tests/fuzz $(FUZZ_ARGS)

bench: cli
	$(PY) benchmarks/throughput.py
	$(PY) benchmarks/cancel_leave.py --rounds 5

clean:
	rm -rf $(VENV) build *.egg-info
