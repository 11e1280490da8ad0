# CreditFlow: `make run` serves the app, `make test` runs the whole suite.
# Both install what is missing first and are quiet and quick on a second run.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
STAMP := .make
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk
# Debian's Chromium for the end-to-end tests (Playwright drives it by executable path).
TEST_SYSTEM_PACKAGES := chromium libzbar0 poppler-utils
PO_FILES := $(wildcard app/translations/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: run run-prod test install lint format system-packages translations assets clean

run: install
	@$(FLASK) db upgrade
	@$(FLASK) seed demo
	@$(FLASK) bpmn deploy
	@echo "CreditFlow: http://127.0.0.1:5000  (demo password: $${DEMO_PASSWORD:-demo12345})"
	@scripts/serve.sh

# Production on one host: PostgreSQL (DATABASE_URL) and Redis (BROKER_URL) must be set;
# migrates, then runs gunicorn, the Celery worker and Celery beat (README "Deploying for a city").
run-prod: install
	@scripts/run-prod.sh

test: install $(STAMP)/test-system
	@$(PY) -m pytest

install: $(STAMP)/system $(STAMP)/python translations assets $(STAMP)/fonts

# CJK fonts subset to the common character set for fast PDF rendering (full font kept as the
# fallback for rare characters); written to instance/fonts/, about a minute on first run.
$(STAMP)/fonts: $(STAMP)/python $(STAMP)/system app/pdf/fonts.py
	@$(PY) -m app.pdf.fonts
	@touch $@

$(STAMP)/test-system: scripts/ensure_system_packages.sh
	@mkdir -p $(STAMP)
	@scripts/ensure_system_packages.sh $(TEST_SYSTEM_PACKAGES)
	@touch $@

# Front-end bundle (bpmn-js viewer and studio modeler, dmn-js, bpmnlint, htmx) from the npm registry; package-lock.json is committed,
# the bundle in app/static/dist/ is not.
assets: app/static/dist/.built

app/static/dist/.built: package.json package-lock.json $(shell find assets -type f)
	@command -v npm >/dev/null || { echo "Node.js 20+ and npm are required for the front-end bundle" >&2; exit 1; }
	@npm ci --silent --no-audit --no-fund >/dev/null
	@npm run --silent build
	@touch $@

$(STAMP)/system: scripts/ensure_system_packages.sh
	@mkdir -p $(STAMP)
	@scripts/ensure_system_packages.sh $(SYSTEM_PACKAGES)
	@touch $@

$(STAMP)/python: requirements.txt constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is required" >&2; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "Installing Python packages into $(VENV) ..."
	@$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt -c constraints.txt 2>&1 \
		| grep -v "is ignored: it is neither a file nor a directory" || true
	@$(PY) -c 'import flask, SpiffWorkflow, weasyprint' >/dev/null
	@mkdir -p $(STAMP) && touch $@

translations: $(MO_FILES)

%.mo: %.po $(STAMP)/python
	@$(VENV)/bin/pybabel compile -i $< -o $@ >/dev/null

lint: $(STAMP)/python
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .

format: $(STAMP)/python
	@$(VENV)/bin/ruff format .
	@$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) $(STAMP)
