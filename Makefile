# LedgerLens: the two commands. Both bootstrap .venv from requirements.txt first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed

.PHONY: demo test lint bench clean

$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "LedgerLens needs Python 3.11 or newer; found " + sys.version.split()[0])'
	@$(PYTHON) -m venv $(VENV) || { \
	  echo "python3 -m venv failed; installing Debian's python3-venv"; \
	  apt-get install -y python3-venv >/dev/null || sudo apt-get install -y python3-venv >/dev/null; \
	  $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

# simulator (2 days of history, then live), ingest and dashboard; Ctrl-C stops all three
demo: $(STAMP)
	$(PY) -m dashboard.demo $(DEMO_ARGS)

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy domain ingest dashboard

bench: $(STAMP)
	$(PY) -m pip install --quiet eventsourcing==9.5.6
	$(PY) -m bench.append $(BENCH_APPEND_ARGS)
	$(PY) -m bench.ingest $(BENCH_INGEST_ARGS)

clean:
	rm -rf $(VENV) data
