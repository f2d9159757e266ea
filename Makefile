# Everyday tasks; .ci/run is what CI runs (it installs everything first, then runs
# lint, types, the compose check and every test).
PYTHON ?= python3
FAST = not postgres and not browser and not slow and not integration

.PHONY: help lint format types unit test all bench ci

help:
	@echo "make lint    ruff check and ruff format --check"
	@echo "make format  ruff format and ruff check --fix"
	@echo "make types   mypy, strict, on monitor/, benchmarks/ and testbed/"
	@echo "make unit    the fast tests: no PostgreSQL, browser, daemon processes or slow runs"
	@echo "make all     every test (PostgreSQL ones need NEWS_MONITOR_TEST_POSTGRES)"
	@echo "make bench   the benchmarks' table (python -m benchmarks)"
	@echo "make ci      what CI runs, in a fresh venv (.ci/run)"

lint:
	ruff check .
	ruff format --check .

format:
	ruff format .
	ruff check --fix .

types:
	mypy

unit:
	$(PYTHON) -m pytest -m "$(FAST)"

test all:
	$(PYTHON) -m pytest

bench:
	$(PYTHON) -m benchmarks

ci:
	.ci/run
