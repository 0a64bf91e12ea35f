# FireSafe. `make run` sets up everything and serves; `make test` sets up everything and tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PG_URL ?= postgres://postgres@127.0.0.1:5432/firesafe
BENCH_DB ?= postgres://postgres@127.0.0.1:5432/firesafe_bench
export PYTHONDONTWRITEBYTECODE := 1
# Parallel pytest-xdist workers for `make test` and `make test-pg` (one per core here); PYTEST_WORKERS=0
# runs the suite in a single process (e.g. with --pdb). Tests marked xdist_group stay on one worker.
PYTEST_WORKERS ?= 2
XDIST = -n $(PYTEST_WORKERS) --dist loadgroup

.PHONY: setup lane run serve migrate demo test test-pg test-services test-e2e test-prod lint check bench clean worker beat ingest i18n-check browser office test-fuzz

$(BIN)/.installed: pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

static/vendor/.copied: node_modules/.installed scripts/vendor_assets.py $(BIN)/.installed
	$(PY) scripts/vendor_assets.py
	touch $@

translations: $(BIN)/.installed
	$(PY) scripts/compile_translations.py

# The monitoring ingest's express lane compiled with Cython (scripts/build_lane.py): rebuilt when lane.py
# changes; without a C compiler lane.py runs as plain Python.
lane: $(BIN)/.installed
	$(PY) scripts/build_lane.py

setup: $(BIN)/.installed static/vendor/.copied translations lane

migrate: setup
	DEBUG=1 $(PY) manage.py migrate --noinput -v0

demo: migrate
	DEBUG=1 $(PY) manage.py seed_demo

run: demo
	@echo "FireSafe on http://127.0.0.1:8000  (accounts above, password demo-pass-2026)"
	DEBUG=1 $(PY) manage.py runserver 127.0.0.1:8000

# LibreOffice Writer (no GUI) for the PDF of official documents and its tests, the CJK fonts and poppler
# (pdftotext/pdftoppm) the tests read the PDF with; installed with apt if missing.
office:
	@command -v soffice >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 && dpkg -s libreoffice-calc-nogui >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libreoffice-writer-nogui libreoffice-calc-nogui fonts-noto-cjk poppler-utils >/dev/null; } || echo "LibreOffice could not be installed: the document-rendering tests are skipped outside CI"

# The whole suite on the embedded SQLite database (the browser and service tests have their own targets).
test: setup office
	$(PY) -m pytest -m "not e2e and not services" $(XDIST) $(PYTEST_ARGS)

# The same suite on PostgreSQL.
test-pg: setup office
	DATABASE_URL=$(PG_URL) $(PY) -m pytest -m "not e2e and not services" $(XDIST) $(PYTEST_ARGS)

# Tests against the real Mosquitto, Redis (Celery worker) and PostgreSQL.
test-services: setup
	DATABASE_URL=$(PG_URL) $(PY) -m pytest -m services $(PYTEST_ARGS)

# Headless Chromium (Debian's package) driven by Playwright, and poppler's pdftotext for the print test;
# installed with apt if missing.
browser:
	@command -v chromium >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk poppler-utils >/dev/null; }

test-e2e: setup browser
	$(PY) -m pytest -m e2e $(PYTEST_ARGS)

# The product as deployed: PostgreSQL, DEBUG=0, collectstatic, gunicorn; a crawl as every demo role,
# file downloads and refusals, check --deploy, backup and restore (scripts/production_check.py).
test-prod: setup
	$(PY) scripts/production_check.py

# schemathesis against a live throw-away instance (fresh SQLite, demo data, gunicorn) as an office role,
# an institution role and a device; fails on any 5xx or response outside the published schema.
# FUZZ_EXAMPLES (per operation, default 8) bounds the run; see scripts/fuzz_api.py.
test-fuzz: setup
	$(PY) scripts/fuzz_api.py

lint: setup
	$(BIN)/ruff check .
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

i18n-check: setup
	@command -v msgfmt >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null; }
	DEBUG=1 $(PY) scripts/check_translations.py

# All benchmarks on a fresh PostgreSQL database (dropped and re-created), DEBUG=0; `make bench BENCH=ledger`
# for one, BENCH_SCALE=1000,100000,1000000 for the sizes of the hazard bench (docs/performance.md).
bench: setup
	DATABASE_URL=$(BENCH_DB) BENCH_FRESH=$${BENCH_FRESH:-1} DEBUG=0 $(PY) -m benchmarks $(BENCH)

worker: setup
	$(BIN)/celery -A firesafe worker -l info

beat: setup
	$(BIN)/celery -A firesafe beat -l info

clean:
	rm -rf var/test static/vendor node_modules/.installed
