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

.PHONY: demo test lint typecheck unit cli postgres sshd ray fuzz bench clean versions tiers rest dist docs parity

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
	$(VENV)/bin/ruff check trio_claude tests tools benchmarks $(wildcard examples)
	$(VENV)/bin/ruff format --check trio_claude tests tools benchmarks $(wildcard examples)

typecheck: $(STAMP)
	$(VENV)/bin/mypy trio_claude tests tools

unit: $(STAMP)
	$(VENV)/bin/pytest -q

# The PostgreSQL server the store tests start privately (Debian's package, when it is missing).
postgres: $(STAMP)
	$(PY) tests/_postgres.py install

# The OpenSSH server the cluster tier (tests/cluster) starts in a network namespace (Debian's
# package, when it is missing; no system sshd is started).
sshd: $(STAMP)
	$(PY) tests/_sshd.py install

# Ray for the cluster tier's Ray cluster (tests/cluster/test_ray_transport.py), pip-installed
# into $(VENV) when missing (the `ray` extra; not in dev: it is large).
ray: $(STAMP)
	$(PY) tests/_ray.py install

# The documentation site, docs/_build/html (docs/conf.py): warnings are errors, and every internal
# link must resolve. Installs the docs extra, and Debian's graphviz (the diagrams) and chromium
# (tests/docs opens the site in it), when missing. -E: every page is read again, so a warning
# of an unchanged page is not forgotten by the next build.
docs: $(STAMP)
	$(PY) -c 'import sphinx, furo, myst_parser' 2>/dev/null || $(PY) -m pip install --quiet -e '.[dev,docs]'
	$(PY) docs/_tools/ensure_tools.py
	$(PY) -m sphinx -E -W --keep-going -n -q -b html docs docs/_build/html
	$(PY) docs/_tools/check_links.py docs/_build/html

# The whole suite as jobs, $(VERSION_JOBS) at a time (.ci/versions): this Python's tests beyond
# $(TIERS) (e2e, cluster, docs, packaging: `make rest`) and its $(TIERS), then $(TIERS) under
# every other version of $(PYTHONS). One more job than the cores, as each pytest also waits on the
# processes its tests start (2 cores: ~25 minutes, against ~36 with this Python's whole suite
# first and the other versions after it). Every job runs, then the summary; it fails if a job's
# tests failed, not if a version is missing.
test: cli postgres sshd ray lint typecheck docs
	@MAKE="$(MAKE)" PYTHONS="$(PYTHONS)" TIERS="$(TIERS)" VENV="$(VENV)" JOBS="$(VERSION_JOBS)" REST=1 \
		bash .ci/versions "$$($(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])')"

# $(TIERS) under every version of $(PYTHONS) but $(VENV)'s own, $(VERSION_JOBS) at a time.
VERSION_JOBS ?= $(shell echo $$(( $$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1) + 1 )))
versions: $(STAMP)
	@MAKE="$(MAKE)" PYTHONS="$(PYTHONS)" TIERS="$(TIERS)" VENV="$(VENV)" JOBS="$(VERSION_JOBS)" \
		bash .ci/versions "$$($(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])')"

# Every test beyond $(TIERS), in $(VENV): the e2e, cluster, docs and packaging tiers.
rest: $(STAMP)
	$(VENV)/bin/pytest -q $(addprefix --ignore=,$(TIERS))

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

# What the newest official SDKs (PyPI claude-agent-sdk, npm @anthropic-ai/claude-agent-sdk) have
# and trio-claude lacks, minus docs/migration.md's "Known differences"; then the official Python
# SDK's own examples, renamed to trio_claude, run against the fake model next to the official SDK
# running them unchanged. Needs the registries, so not in CI. PARITY_ARGS="--python-version X
# --ts-version Y" pins the versions.
parity: $(STAMP)
	$(PY) tools/parity.py $(PARITY_ARGS)
	$(PY) tools/official_examples.py --compare
