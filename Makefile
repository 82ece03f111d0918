# One command sets everything up and runs the demo (`make demo`), one runs the tests (`make test`).
# The virtual environment is rebuilt only when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DYNST := $(VENV)/bin/dynst
STAMP := $(VENV)/.installed
DEMO := demo-output

.PHONY: install demo test lint bench clean

install: $(STAMP)

# torch is installed pinned and first: the CPU build of 2.13.0 is what the project is tested on,
# and an unpinned torch would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	bash recipes/demo.sh $(DEMO)

test: $(STAMP)
	$(PY) -m pytest -n 2 -q

lint: $(STAMP)
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m ruff format --check src tests benchmarks

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache
