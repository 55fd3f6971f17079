# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck install system bytecode

$(STAMP): pyproject.toml requirements.lock scripts/install-system.sh
	./scripts/install-system.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# The package's bytecode, written before the runs: with PYTHONDONTWRITEBYTECODE set (as on our CI
# machines) nothing writes it, and every process compiled the sources again: each sandbox (which
# binds them read-only), each CLI run, each test worker (0.1-0.5 s of CPU each).
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q -j 0 src

demo: bytecode
	$(BIN)/cohortbench demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples

typecheck: $(STAMP)
	$(BIN)/mypy

# Every test, in parallel: one pytest-xdist worker per CPU, whole files per worker (--dist loadfile)
# so that a module's shared fixture (the demo run, the web deployment) is built once.
test: lint typecheck bytecode
	$(BIN)/pytest -n auto --dist loadfile --durations=15
