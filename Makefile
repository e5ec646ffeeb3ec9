# Two commands do everything on a fresh machine:
#   make run    start Tandem on SQLite with the worker and demo data
#   make test   run the whole test suite (SQLite, a throwaway PostgreSQL, Chromium)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench fuzz venv clean

venv: $(STAMP)

$(STAMP): requirements.lock requirements-codegen.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Tandem needs Python >= 3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-codegen.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

run: venv
	$(BIN)/tandem demo --if-empty
	$(BIN)/tandem serve

test: venv
	scripts/ensure-test-tools
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check tandem tests

bench: venv
	$(BIN)/tandem bench flash-sale

# The API fuzz test, long: 150 new examples per operation and kind (valid, invalid) instead of 12.
FUZZ_EXAMPLES ?= 150
fuzz: venv
	scripts/ensure-test-tools
	TANDEM_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) TANDEM_FUZZ_FRESH=1 $(BIN)/python -m pytest tests/e2e/test_fuzz.py -s --timeout=0 $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) tandem.db tandem.db-wal tandem.db-shm
