# labqms — `make run` serves the app with demo data; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

# What the app needs from the system: WeasyPrint's libraries, CJK fonts with the
# metrology symbols (℃ ± µ Ω …), harfbuzz-subset (CJK PDFs ~8x slower without it),
# gettext for the translations.
RUN_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk fonts-wqy-zenhei gettext
# Only the test suite needs these: Debian's Chromium for the browser tests, poppler
# to read PDFs back.
TEST_PACKAGES := chromium poppler-utils

.PHONY: install run test lint lock system-packages test-system-packages compilemessages clean

install: system-packages $(BIN)/.installed node_modules/.installed compilemessages

system-packages:
	@PACKAGES="$(RUN_PACKAGES)" ./scripts/apt-ensure

test-system-packages:
	@PACKAGES="$(TEST_PACKAGES)" ./scripts/apt-ensure

# requirements.lock: what production runs (the Docker image installs only this);
# requirements-dev.lock: the same pins plus the test and lint tools.
$(BIN)/.installed: requirements-dev.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	@touch $@

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js (apt-get install nodejs npm) to fetch Bootstrap and htmx."; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

compilemessages: $(BIN)/.installed
	@$(BIN)/python manage.py compilemessages --ignore=.venv --ignore=node_modules -v0

run: install
	@mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo ""
	@echo "labqms is serving at http://$(HOST):$(PORT)/  (Celery worker + beat log: var/celery.log)"
	@echo "Sign in as counter, tech1, tech2, techlead, techdeputy, qualitylead, head or hospital1 — password labqms-demo"
	@echo ""
	@trap 'kill $$(jobs -p) 2>/dev/null' EXIT INT TERM; \
	$(BIN)/celery -A labqms worker --beat --concurrency 1 --loglevel INFO \
		--schedule var/celerybeat-schedule > var/celery.log 2>&1 & \
	$(BIN)/python manage.py runserver --noreload $(HOST):$(PORT)

test: install test-system-packages
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(BIN)/.installed
	$(BIN)/ruff check .

# Regenerate the lock files after changing pyproject.toml (keeps shared pins equal).
lock: $(BIN)/.installed
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links \
		-o requirements.lock pyproject.toml
	cp requirements.lock requirements-dev.lock
	$(BIN)/pip-compile --quiet --extra dev --strip-extras --no-emit-index-url \
		--no-emit-find-links -o requirements-dev.lock pyproject.toml

clean:
	rm -rf $(VENV) node_modules var .pytest_cache
