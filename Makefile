# The README's two commands: `make demo` and `make test`. Everything else is set up on the way.
# uv comes from the PATH, or is installed once into .tools/ (a plain venv) when the machine lacks it.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
PY ?= python3

.PHONY: setup demo test lint format bench

$(UV):
	$(PY) -m venv .tools && .tools/bin/pip install --quiet uv

setup: $(UV)
	$(UV) sync --frozen

demo: setup
	$(UV) run fundguard demo

test: setup
	$(UV) run ruff check fundguard tests bench tools
	$(UV) run ruff format --check fundguard tests bench tools
	$(UV) run pytest -q -n auto --dist loadfile

format: setup
	$(UV) run ruff format fundguard tests bench tools
	$(UV) run ruff check --fix fundguard tests bench tools

bench: setup
	$(UV) run python bench/bench_generate.py --lines 1000000
	$(UV) run python bench/bench_ingest.py --lines 1000000
	$(UV) run python bench/bench_audit.py --lines 1000000 --workdir bench/out/city
	$(UV) run python bench/bench_handwritten.py --workdir bench/out/city
	$(UV) run python bench/bench_realtime.py --lines 200000 --claims 200
