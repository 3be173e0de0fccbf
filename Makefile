# Resonanz — the two commands that matter:
#   make up     start Resonanz on the embedded default (SQLite, one process tree, http://127.0.0.1:8000)
#   make test   run the whole test suite (installs what it needs first)
SHELL := /bin/bash
# Python 3.13: on PATH, else pyenv's 3.13.0 (.python-version), else whatever python3 is (checked below).
PYTHON ?= $(shell command -v python3.13 2>/dev/null || ls $(HOME)/.pyenv/versions/3.13.0/bin/python3.13 2>/dev/null || command -v python3)
VENV := .venv
export UV_PYTHON_DOWNLOADS := never

.PHONY: up test system-packages install install-dev requirements lint bench clean

$(VENV)/bin/uv:
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 13), "Resonanz needs Python 3.13"'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --require-hashes -r requirements/bootstrap.txt

install: $(VENV)/bin/uv
	$(VENV)/bin/uv pip sync --quiet --python $(VENV)/bin/python --require-hashes requirements/base.txt
	$(VENV)/bin/uv pip install --quiet --python $(VENV)/bin/python --no-deps --no-build-isolation -e .

install-dev: $(VENV)/bin/uv
	$(VENV)/bin/uv pip sync --quiet --python $(VENV)/bin/python --require-hashes requirements/dev.txt
	$(VENV)/bin/uv pip install --quiet --python $(VENV)/bin/python --no-deps --no-build-isolation -e .

up: install
	$(VENV)/bin/resonanz up

# The system packages first (as root it installs them; otherwise it prints the apt-get line and stops).
system-packages:
	bash scripts/system-packages

test: system-packages install-dev
	bash scripts/test

lint: install-dev
	$(VENV)/bin/ruff check src bench testsupport
	$(VENV)/bin/mypy

bench: install-dev
	bash scripts/bench

# Re-pin every dependency with hashes (no download addresses are recorded).
requirements: $(VENV)/bin/uv
	$(VENV)/bin/uv pip compile -q --generate-hashes --universal --python-version 3.13 requirements/bootstrap.in -o requirements/bootstrap.txt
	$(VENV)/bin/uv pip compile -q --generate-hashes --universal --python-version 3.13 pyproject.toml -o requirements/base.txt
	$(VENV)/bin/uv pip compile -q --generate-hashes --universal --python-version 3.13 pyproject.toml --group dev -o requirements/dev.txt

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache
