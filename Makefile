# Two entry points, each doing its own setup: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install demo test clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(INSTALLED)

install: $(INSTALLED)

## Scan the bundled demo corpus and write its report to reports/demo/.
demo: $(INSTALLED)
	$(BIN)/dedup scan demo/articles --metadata demo/metadata.csv --out reports/demo

## Run the test suite.
test: $(INSTALLED)
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) build *.egg-info
