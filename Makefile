# Flock developer commands. `make dev` runs the dashboard; `make test` runs lint and the test suite.
# Everything else (PostgreSQL, Redis, Chromium, processes) is handled by scripts/devenv.py.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
DEVENV := $(PY) scripts/devenv.py
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
ARGS   ?=

.PHONY: dev test lint bench services stop clean-data

dev: $(VENV)/.installed
	$(DEVENV) dev

# Lint first: a wrong import direction or an unformatted file fails in seconds.
test: lint
	$(DEVENV) test $(ARGS)

# ruff, the import direction of the apps (import-linter) and types (mypy); see pyproject.toml.
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	DJANGO_SECRET_KEY=lint $(VENV)/bin/mypy

bench: $(VENV)/.installed
	$(DEVENV) bench

services: $(VENV)/.installed
	$(DEVENV) services

stop:
	$(PYTHON) scripts/devenv.py stop

# Also deletes the cluster devenv.py keeps outside the checkout when postgres cannot reach it.
clean-data:
	$(PYTHON) scripts/devenv.py clean-data

# The virtualenv. Debian's python3 needs the python3-venv package for ensurepip.
$(VENV)/bin/pip:
	@$(PYTHON) -m venv --clear $(VENV) || { \
	  echo "python3 -m venv failed; installing Debian's python3-venv"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv && \
	  $(PYTHON) -m venv --clear $(VENV); }

# Reinstalled only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(VENV)/bin/pip
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e '.[dev]'
	touch $@
