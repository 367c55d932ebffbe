# Two commands on a fresh machine (Python 3.11+):
#   make demo   installs the hub alone into .venv and runs it end to end on sample complaints
#   make test   installs the hub with its test tools into .venv and runs the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test install
install: $(VENV)/.installed

# The demo needs the hub only, not the test tools (Playwright alone is 165 MB).
$(VENV)/.demo: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.demo

demo: $(VENV)/.demo
	$(BIN)/laporhub demo

test: install
	$(BIN)/python -m pytest --durations=30
