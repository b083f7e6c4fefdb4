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

.PHONY: install run test lint lock system-packages test-system-packages compilemessages clean bench

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

# The database and every stored file in one archive, var/backups/labqms-<time>.tar.gz
# (manage.py backup --to DIR for another folder); restore checks it before changing anything.
.PHONY: backup restore
backup:
	$(BIN)/python manage.py backup

restore:
	@test -n "$(ARCHIVE)" || { echo "Usage: make restore ARCHIVE=var/backups/labqms-YYYYMMDD-HHMMSS.tar.gz" >&2; exit 2; }
	$(BIN)/python manage.py restore "$(ARCHIVE)"

# Figures of issue 9 on PostgreSQL (measurements, not pass/fail): (a) issuing a certificate
# vs the bare WeasyPrint render, (b) list pages and dashboards, (c) the daily jobs, (d) a
# 2-minute load run against gunicorn.  The first run generates 1 M certificates (minutes);
# BENCH_CERTIFICATES=20000 for a quick run.  Figures also land in var/bench/.
BENCH_CERTIFICATES ?= 1000000
BENCH_EQUIPMENT ?= 100000
BENCH_COMPLAINTS ?= 100000
bench:
	@case "$$DATABASE_URL" in postgres://* | postgresql://*) ;; \
	  *) echo "make bench needs PostgreSQL: set DATABASE_URL=postgres://USER@HOST:PORT/DB (figures on SQLite mean nothing)." >&2; exit 2 ;; esac
	@$(MAKE) --no-print-directory install
	@mkdir -p var/bench
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py scale_data --certificates $(BENCH_CERTIFICATES) \
		--equipment $(BENCH_EQUIPMENT) --complaints $(BENCH_COMPLAINTS) --if-missing
	@echo "== (a) issuing one certificate vs the bare render"
	$(BIN)/python manage.py bench_issue
	@echo "== (b) list pages and dashboards"
	$(BIN)/python manage.py bench_pages --json var/bench/pages.json
	@echo "== (c) daily jobs"
	$(BIN)/python manage.py bench_jobs
	@echo "== (d) load run"
	LOAD_OUT=var/bench/load scripts/bench-load

# Regenerate the lock files after changing pyproject.toml (keeps shared pins equal).
lock: $(BIN)/.installed
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links \
		-o requirements.lock pyproject.toml
	cp requirements.lock requirements-dev.lock
	$(BIN)/pip-compile --quiet --extra dev --strip-extras --no-emit-index-url \
		--no-emit-find-links -o requirements-dev.lock pyproject.toml

clean:
	rm -rf $(VENV) node_modules var .pytest_cache
