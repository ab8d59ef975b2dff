# LedgerBridge: `make demo` runs the product, `make test` runs the tests.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
TEST_VAR := $(CURDIR)/var/test

.PHONY: demo test install system-packages lint format bench-engine bench-ingest bench-credit bench-salesforce bench-xero screenshots clean

$(STAMP): pyproject.toml
	@$(PYTHON) scripts/check_python.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

system-packages:
	@scripts/ensure-system-packages.sh

demo: install system-packages
	$(PY) manage.py demo

test: install system-packages
	LEDGERBRIDGE_VAR_DIR=$(TEST_VAR) $(PY) -m pytest $(PYTEST_ARGS)

# PNGs of the main pages for the README, from a throwaway portal on the demo data.
screenshots: install system-packages
	$(PY) scripts/screenshots.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Benchmarks print figures (docs/benchmarks.md); e.g. BENCH_ARGS="--embedded".
bench-engine: install
	$(PY) bench/engine.py $(BENCH_ARGS)

bench-ingest: install
	$(PY) bench/ingest.py $(BENCH_ARGS)

bench-credit: install
	$(PY) bench/credit_check.py $(BENCH_ARGS)

bench-salesforce: install
	$(PY) bench/salesforce.py $(BENCH_ARGS)

bench-xero: install
	$(PY) bench/xero.py $(BENCH_ARGS)

clean:
	rm -rf var/test .pytest_cache
