# Two commands on a fresh machine: `make run` and `make test`. Everything else is a step.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export DJANGO_SETTINGS_MODULE := registry.settings

# The first Python 3.12+ on this machine: python3.13, python3.12, python3, then pyenv's.
FIND_PYTHON = for c in python3.13 python3.12 python3 $$(ls -d $$HOME/.pyenv/versions/3.1[2-9]*/bin/python3 2>/dev/null); do \
	  if command -v $$c >/dev/null 2>&1 && $$c -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
	    command -v $$c; exit 0; fi; done; exit 1

.PHONY: help run test setup browser messages lint format check clean

help:
	@echo "make run    set up, load reference and demo data, serve on http://127.0.0.1:$(PORT)/"
	@echo "make test   set up and run the whole test suite"

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@python=$$($(FIND_PYTHON)) || { echo "Python 3.12 or newer is needed and was not found (tried python3.13, python3.12, python3, ~/.pyenv). Install it, e.g. 'apt-get install python3.12' or 'pyenv install 3.12'." >&2; exit 1; }; \
	echo "Using $$python ($$($$python --version))"; \
	$$python -m venv $(VENV) || { echo "Could not create a virtual environment: install the venv module (apt-get install python3-venv)." >&2; exit 1; }
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	@touch $@

setup: $(VENV)/.installed messages

# Compiles the committed .po catalogues with Babel, so no system gettext is needed.
messages: $(VENV)/.installed
	@$(PY) -m registry.i18n compile

run: setup
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py load_reference
	DEBUG=1 $(PY) manage.py demo_users
	DEBUG=1 $(PY) manage.py load_demo
	@echo "Serving on http://127.0.0.1:$(PORT)/admin/ (staff) and http://127.0.0.1:$(PORT)/portal/ (partners: demo-partner), with one background worker  (Ctrl-C stops both)"
	@# One recipe line, one shell: the worker runs beside the web server and is stopped with it.
	DEBUG=1 $(PY) manage.py db_worker --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	DEBUG=1 $(PY) manage.py runserver 127.0.0.1:$(PORT)

# The browser test drives Debian's Chromium; installed here when missing and possible.
browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "noto sans cjk"; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's chromium and a CJK font (fonts-noto-cjk) for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	  else echo "Note: /usr/bin/chromium is missing; the browser test will be skipped (apt-get install chromium)."; fi; \
	fi

test: setup browser
	$(VENV)/bin/pytest $(PYTEST_ARGS)
	@if ls test-output/*.png >/dev/null 2>&1; then echo "Screenshots of the browser tests:"; ls -1 test-output/*.png; fi

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check: setup
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) staticfiles test-output
