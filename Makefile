# civic_app — the two README commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app civic_app
STAMP := $(VENV)/.installed
# The suite starts many Python processes (test workers, the bot, CLI runs, servers): each
# would compile the app and the tests from source again when bytecode writing is switched off
# in the environment, so it is switched back on here (__pycache__/ is ignored by git).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run test test-sqlite test-postgres lint format bench install translations db-upgrade seed clean \
	system-packages

$(VENV)/bin/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

install: $(STAMP) translations

# Debian packages the suite needs (chromium, fonts-noto-cjk, postgresql-client); a no-op when present.
system-packages:
	@bash tools/install_system_packages.sh test

translations: $(STAMP)
	$(PY) tools/i18n.py compile

db-upgrade: install
	$(FLASK) db upgrade

seed: db-upgrade
	$(FLASK) seed-demo --if-empty

run: seed
	$(FLASK) run --host 127.0.0.1 --port 5000

# The whole suite on SQLite, then again on PostgreSQL when TEST_DATABASE_URL is set. With both,
# the tests marked `once` (browsers, fuzzing, the OpenAPI contract: the HTTP surface, not the
# database) run only on PostgreSQL, the production database.
PYTEST := $(PY) -m pytest -n 2 --dist loadgroup
test: install system-packages
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  TEST_DATABASE_URL= $(PYTEST) -m "not once" tests && \
	  echo "== again on PostgreSQL ($$TEST_DATABASE_URL) ==" && \
	  $(PYTEST) tests; \
	else \
	  $(PYTEST) tests; \
	fi

test-sqlite: install system-packages
	TEST_DATABASE_URL= $(PYTEST) tests

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) tools/i18n.py check

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install
	@bash tools/install_system_packages.sh bench
	$(PY) -m bench.run

clean:
	rm -rf $(VENV) instance/*.sqlite3*

# Screenshots of the main citizen pages at 390 and 1280 px into screenshots/ (not committed).
.PHONY: screenshots
screenshots: install
	$(PY) tools/screenshots.py --out screenshots
