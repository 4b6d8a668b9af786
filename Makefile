# v6gap: `make audit` audits this machine; `make test` runs lint and every test (lab tests included).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: audit test lint unit lab system-deps bench clean

$(BIN)/v6gap: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.test-deps: $(BIN)/v6gap
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

# Exit 1 means "findings at or above --fail-on": the audit ran, so make does not fail on it.
audit: $(BIN)/v6gap
	$(BIN)/v6gap audit || test $$? -eq 1

system-deps:
	scripts/install-system-deps.sh

lint: $(VENV)/.test-deps
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy

unit: $(VENV)/.test-deps
	$(BIN)/pytest -m "not lab" -q

lab: system-deps $(VENV)/.test-deps
	$(BIN)/pytest -m lab -q

test: system-deps $(VENV)/.test-deps lint
	$(BIN)/pytest -q

bench: system-deps $(VENV)/.test-deps
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build src/*.egg-info
