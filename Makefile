# Two entry points, both self-installing on a machine with only Python 3.11+ and make:
#   make qa    - set up, then run the QA checklist of the Custompms <-> Customerp flows
#   make test  - set up, then run every test
PY ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
HYPOTHESIS_PROFILE ?= ci

.PHONY: setup qa test bench check nightly clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

qa: setup
	$(BIN)/dtlpy qa

test: setup
	HYPOTHESIS_PROFILE=$(HYPOTHESIS_PROFILE) $(BIN)/python -m pytest

nightly: setup
	HYPOTHESIS_PROFILE=nightly $(BIN)/python -m pytest

bench: setup
	$(BIN)/python -m pip install -q -e '.[bench]'
	$(BIN)/python bench/benchmark.py

check: setup
	$(BIN)/dtlpy check dtl/

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info src/*.egg-info
