# The two commands: `make demo` and `make test`. Each bootstraps .venv from uv.lock first.
SHELL := /bin/bash
PYTHON ?= python3.11
UV_VERSION := 0.13.9
VENV := .venv
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export UV_LINK_MODE := copy
ARGS ?=

.PHONY: setup demo test test-stack test-crashes lint bench clean vendor translations

$(VENV)/.synced: pyproject.toml uv.lock
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)" 2>&1 | grep -v "^WARNING: Location" || true
	$(VENV)/bin/uv sync --locked --compile-bytecode
	@touch $@

setup: $(VENV)/.synced

# Front-end packages from the npm registry (package-lock.json): axe-core for the browser tests;
# Leaflet and uPlot, which `make vendor` copies into the web app (the app never needs npm).
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

VENDOR := hub/web/static/vendor
vendor: node_modules/.installed
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/leaflet $(VENDOR)/uplot
	cp -r node_modules/leaflet/dist/{leaflet.js,leaflet.css,images} node_modules/leaflet/LICENSE $(VENDOR)/leaflet/
	cp node_modules/uplot/dist/{uPlot.iife.min.js,uPlot.min.css} node_modules/uplot/LICENSE $(VENDOR)/uplot/
	for p in leaflet uplot; do node -p "require('./node_modules/'+'$$p'+'/package.json').version" > $(VENDOR)/$$p/VERSION; done

# The portal's words: extract them from the templates and code, then merge into each language's
# .po file (a translator fills in the new ones; tests/products/test_portal_assets.py checks).
translations: setup
	$(VENV)/bin/pybabel extract --no-location --omit-header -F babel.cfg -k N_ -k gettext:2 -o hub/web/locale/messages.pot .
	$(VENV)/bin/pybabel update --omit-header --no-fuzzy-matching -i hub/web/locale/messages.pot -d hub/web/locale

demo: setup
	$(VENV)/bin/hub demo $(ARGS)

# Two pytest workers (pytest-xdist), one per core: each starts its own SeaweedFS and PostgreSQL
# on free ports; a module's tests stay on one worker (--dist loadfile), so its fixtures start once.
TEST_WORKERS ?= 2
test: setup node_modules/.installed
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadfile $(ARGS)

# The production topology as processes (PostgreSQL, SeaweedFS, Redis, init, Airflow's
# api-server, scheduler, dag-processor, triggerer and two Celery workers), driven through
# Airflow's REST API: tests/stack. Also every feed's DAG run twice through Airflow
# (tests/dags, ~4-7 min, marked stack to keep `make test` under 15 minutes). `make test`
# leaves them out (pyproject's addopts).
test-stack: setup
	$(VENV)/bin/pytest -m "stack and not crashes" tests/stack tests/dags $(ARGS)

# Crash injection on the same topology (kill -9 of workers and tasks, S3, PostgreSQL and the
# scheduler restarted mid-run), a topology of its own: ~13 min. .ci/run runs it last.
test-crashes: setup
	$(VENV)/bin/pytest -m crashes tests/stack $(ARGS)

# ruff, the import contracts of the layers (pyproject.toml), and strict types on the ground and
# the registry.
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy hub/core hub/registry

bench: setup
	$(VENV)/bin/hub bench $(ARGS)

clean:
	-$(VENV)/bin/hub down
	rm -rf var
