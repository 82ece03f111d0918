# One command sets everything up and runs the demo (`make demo`), one runs the tests (`make test`).
# The virtual environment is rebuilt only when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DYNST := $(VENV)/bin/dynst
STAMP := $(VENV)/.installed
DEMO := demo-output
# The report is tested in Debian's own Chromium driven by selenium (headless, no network).
CHROMIUM_STAMP := $(VENV)/.chromium

.PHONY: install demo test test-fast lint bench screenshot clean

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

test: $(STAMP) $(CHROMIUM_STAMP)
	$(PY) -m pytest -n 2 -q

# Installs chromium and chromedriver from Debian when the browser is missing (CI runs as root on
# a fresh Debian machine); the stamp keeps later runs from asking apt again.
$(CHROMIUM_STAMP): $(STAMP)
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver; \
	fi
	touch $(CHROMIUM_STAMP)

# The edit-and-check loop: everything but the tests marked slow (those that train models).
test-fast: $(STAMP)
	$(PY) -m pytest -n 2 -q -m "not slow"

lint: $(STAMP)
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m ruff format --check src tests benchmarks

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

# The README's screenshot of the METR-LA demo report (needs `make demo` first).
screenshot: $(STAMP) $(CHROMIUM_STAMP)
	$(PY) benchmarks/report_browser.py $(DEMO)/metr-la-report.html --screenshot docs/report-metr-la.png

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache
