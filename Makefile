# The two commands: `make run` and `make test`. Everything else is a helper for them.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DEMO_MEMBERS ?= 2000

.PHONY: run test install install-test lint messages clean lock

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Installs come from the lock files (exact versions, hashes checked); the project itself on top, with no
# dependencies of its own resolved. `make lock` rewrites the lock files after pyproject.toml changes.
$(VENV)/.installed: $(BIN)/python pyproject.toml requirements.txt
	$(BIN)/pip install --quiet --require-hashes -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements-test.txt
	$(BIN)/pip install --quiet --require-hashes -r requirements-test.txt
	@touch $@

LOCK := --quiet --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links
lock: $(BIN)/python
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile $(LOCK) -o requirements.txt pyproject.toml
	$(BIN)/pip-compile $(LOCK) --extra test -o requirements-test.txt pyproject.toml

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(BIN)/tillit migrate --no-input
	$(BIN)/tillit demo --if-empty --members $(DEMO_MEMBERS) --seed 1
	$(BIN)/tillit serve --host 127.0.0.1 --port 8000 --with-worker --demo-logins

lint: install-test
	$(BIN)/ruff check .

# The suite on SQLite, then on PostgreSQL. TILLIT_REQUIRE_POSTGRES=1 (CI) makes a missing
# PostgreSQL a failure instead of a skip.
test: lint
	$(BIN)/python scripts/run_tests.py

messages: install
	cd tillit && ../$(BIN)/django-admin makemessages -l nb -l sv --no-obsolete && ../$(BIN)/django-admin compilemessages

clean:
	rm -rf $(VENV) var
