# One-command workflows for a fresh machine. See README.md.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
PGBOUNCER_URL ?= postgres://postgres@127.0.0.1:6432/test
# The demo runs with DEBUG on and no other configuration: SQLite, embedded index, offline answers.
DEMO_ENV := DEBUG=true
# The server options we ship (docs/operations.md, "Serving"): slow clients are dropped
# (request headers within SERVER_HEADER_TIMEOUT s, body within SERVER_BODY_TIMEOUT s),
# idle keep-alive connections after 5 s, request heads over 16 KB refused.
UVICORN_OPTS := --http chatsite.server:GuardedHTTPProtocol --timeout-keep-alive 5 --h11-max-incomplete-event-size 16384

.PHONY: run test venv dev-deps setup-demo check clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed requirements-dev.txt requirements-chatkit.txt
	$(PIP) install -q -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

dev-deps: $(VENV)/.dev-installed

setup-demo: venv
	$(DEMO_ENV) $(PY) manage.py migrate --no-input -v 0
	$(DEMO_ENV) $(PY) manage.py collectstatic --no-input -v 0
	$(DEMO_ENV) $(PY) manage.py ingest_docs docs --base-url http://$(HOST):$(PORT)

## make run: set up, migrate, ingest the bundled docs, serve the demo at http://127.0.0.1:8000/
run: setup-demo
	@echo "Demo: http://$(HOST):$(PORT)/   API: http://$(HOST):$(PORT)/chat   Admin: http://$(HOST):$(PORT)/admin/"
	$(DEMO_ENV) $(PY) -m uvicorn chatsite.asgi:application --host $(HOST) --port $(PORT) --lifespan off $(UVICORN_OPTS)

## make test: set up and run every suite (SQLite; PostgreSQL and PgBouncer when reachable)
test: dev-deps
	@bash .ci/test-suites
