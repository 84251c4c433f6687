# Two entry points, each doing its own setup: `make demo` and `make test`.
# The demo needs the core and pyarrow only; the tests add pytest, playwright and pyspark (~0.5 GB),
# installed once into the same .venv whichever target comes first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CORE := $(VENV)/.installed-core
TEST_EXTRAS := $(VENV)/.installed-test

.PHONY: install demo test clean

$(CORE): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[parquet]'
	touch $(CORE)

$(TEST_EXTRAS): $(CORE)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(TEST_EXTRAS)

install: $(TEST_EXTRAS)

## Scan the bundled demo corpus and write its report to reports/demo/.
demo: $(CORE)
	$(BIN)/dedup scan demo/articles --metadata demo/metadata.csv --out reports/demo

## Lint and type-check the code, then run the test suite.
test: $(TEST_EXTRAS)
	$(BIN)/ruff check dedup tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) build *.egg-info
