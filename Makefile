# Two entry points, each doing its own setup: `make demo` and `make test`.
# The demo needs the core, pyarrow and the web extra; the tests add pytest, playwright and pyspark (~0.5 GB),
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
	$(BIN)/python -m pip install --quiet -e '.[parquet,web]'
	touch $(CORE)

$(TEST_EXTRAS): $(CORE)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(TEST_EXTRAS)

install: $(TEST_EXTRAS)

## Scan the bundled demo corpus and write its report to reports/demo/; build the same articles as a
## crawl (demo/web/crawl.warc.gz: pages with their chrome, requests, an image, a redirect, a re-capture)
## and write its report to reports/demo-web/.
demo: $(CORE)
	$(BIN)/dedup scan demo/articles --metadata demo/metadata.csv --out reports/demo
	$(BIN)/python demo/web/build.py
	$(BIN)/dedup scan demo/web/crawl.warc.gz --out reports/demo-web

## Lint and type-check the code, then run the test suite.
test: $(TEST_EXTRAS)
	$(BIN)/ruff check dedup tests bench demo
	$(BIN)/mypy
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) build *.egg-info
