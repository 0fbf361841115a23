# Developer shortcuts; the README's two commands need only Python and pip.
PY ?= python

.PHONY: install test style check bench ci

install:
	$(PY) -m pip install -e ".[test]"

test:
	$(PY) -m pytest

style:
	ruff format alvh_dsl tests benchmarks
	ruff check --fix alvh_dsl tests benchmarks

check:
	ruff check alvh_dsl tests benchmarks
	mypy alvh_dsl
	alvh check --strict rulebooks
	alvh fmt --check rulebooks
	alvh test rulebooks --coverage --fail-under 100

bench:
	$(PY) benchmarks/bench_language.py
	$(PY) benchmarks/bench_market.py
	$(PY) benchmarks/bench_dryrun.py

ci:
	bash .ci/run
