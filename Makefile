# Two commands matter: `make demo` and `make test`. Each installs what it needs itself.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# The Python versions CI tests (pyproject's classifiers list the same ones). `make test` runs the
# whole suite in $(VENV) (made with $(PYTHON)), then $(TIERS) under each other version in its own
# .venv-X.Y. .ci/find-python finds the interpreters (pyenv's, else pythonX.Y on PATH); a version
# with none is skipped with a message, never failed.
PYTHONS ?= 3.10 3.11 3.12 3.13
TIERS ?= tests/unit tests/integration tests/faults tests/fuzz

.PHONY: demo test lint typecheck unit cli postgres fuzz bench clean versions tiers dist

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
	$(VENV)/bin/mypy trio_claude tests

unit: $(STAMP)
	$(VENV)/bin/pytest -q

# The PostgreSQL server the store tests start privately (Debian's package, when it is missing).
postgres: $(STAMP)
	$(PY) tests/_postgres.py install

test: cli postgres lint typecheck
	$(VENV)/bin/pytest -q
	@$(MAKE) --no-print-directory versions

# $(TIERS) under every version of $(PYTHONS) but $(VENV)'s own (the full suite ran there). Every
# version runs, then the summary; it fails if a version's tests failed, not if one is missing.
versions: $(STAMP)
	@main=$$($(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	summary=""; failed=0; \
	for v in $(PYTHONS); do \
		if [ "$$v" = "$$main" ]; then summary="$$summary\n  Python $$v: the full suite, in $(VENV)"; continue; fi; \
		if ! py=$$(sh .ci/find-python $$v 2>&1); then \
			echo "SKIPPED Python $$v: $$py"; summary="$$summary\n  Python $$v: SKIPPED ($$py)"; continue; \
		fi; \
		echo "== Python $$v ($$py): $(TIERS)"; \
		if $(MAKE) --no-print-directory VENV=.venv-$$v PYTHON="$$py" tiers; then \
			summary="$$summary\n  Python $$v: passed ($(TIERS))"; \
		else \
			failed=1; summary="$$summary\n  Python $$v: FAILED ($(TIERS))"; \
		fi; \
	done; \
	printf "Python versions:$$summary\n"; \
	exit $$failed

# $(TIERS) in $(VENV) alone: `make tiers VENV=.venv-3.12 PYTHON=python3.12`.
tiers: $(STAMP)
	$(VENV)/bin/pytest -q $(TIERS)

# The wheel and the sdist, checked; tests/packaging builds its own in a temporary directory.
dist: $(STAMP)
	rm -rf dist
	$(PY) -m build --outdir dist .
	$(VENV)/bin/twine check --strict dist/*

# Long-running property-based fuzzing (100x the examples of `make test`; docs/fuzzing.md).
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(VENV)/bin/pytest -q --timeout=0 tests/fuzz $(FUZZ_ARGS)

# Every DESIGN section 6 workload against its ceiling; one table, also in benchmarks/results.md.
bench: cli
	$(PY) benchmarks/run_all.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .venv-[0-9]* build dist *.egg-info
