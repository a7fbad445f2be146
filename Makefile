# Gainsight Lite — `make run` serves the demo, `make test` runs every check.
# Both create .venv when it is missing; DATABASE_URL (if set) picks PostgreSQL over SQLite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PIP := $(PY) -m pip --disable-pip-version-check --quiet
HOST_PORT := 127.0.0.1:8000
# Extra pytest options, e.g. `make test PYTEST_ARGS="-x tests/companies"`.
PYTEST_ARGS ?=
# pytest-xdist processes, one per core of a 2-core machine (measured: the suite takes about a
# third less time than in one process); PYTEST_WORKERS=0 runs in this process (for pdb).
PYTEST_WORKERS ?= 2
PYTEST := $(PY) -m pytest -n $(PYTEST_WORKERS)

.PHONY: run serve backup restore test lint pytest venv dev clean-db

# `make serve`: gunicorn on SERVE_BIND with SERVE_WORKERS processes (README "Production").
SERVE_BIND ?= 127.0.0.1:8000
SERVE_WORKERS ?= 2

$(PY):
	$(PYTHON) -m venv $(VENV)

# Stamp files: pip runs again only when a requirements file changes.
$(VENV)/.installed-runtime: requirements.txt | $(PY)
	$(PIP) install -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(PY)
	$(PIP) install -r requirements-dev.txt
	touch $@ $(VENV)/.installed-runtime

venv: $(VENV)/.installed-runtime

dev: $(VENV)/.installed-dev

# The demo: migrate, load the demo book (seed_demo only prints the demo logins when it is
# already there), then serve with debug mode on — the only place DEBUG is set.
run: venv
	$(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py seed_demo
	@echo ""
	@echo "Gainsight Lite demo: http://$(HOST_PORT)/ (Django admin at /admin/, Ctrl-C stops)"
	DEBUG=1 $(PY) manage.py runserver $(HOST_PORT)

# Production mode: DEBUG off whatever the shell says, hashed and compressed static files
# (collectstatic), gunicorn workers. `check --deploy` prints what the environment lacks.
# exec: gunicorn itself gets Ctrl-C and a supervisor's TERM, and stops gracefully.
serve: venv
	DEBUG=0 $(PY) manage.py check --deploy
	DEBUG=0 $(PY) manage.py migrate --noinput
	DEBUG=0 $(PY) manage.py collectstatic --noinput --verbosity 0
	@echo "Gainsight Lite (production mode): http://$(SERVE_BIND)/ with $(SERVE_WORKERS) workers"
	exec env DEBUG=0 $(BIN)/gunicorn gainsight_lite.wsgi --bind $(SERVE_BIND) --workers $(SERVE_WORKERS) \
		--access-logfile - --timeout 30 --graceful-timeout 20 --max-requests 2000 --max-requests-jitter 200

# A backup in backups/ (SQLite: an online copy; PostgreSQL: pg_dump custom format), and
# `make restore FILE=backups/…` to put one back (asks first; FORCE=1 does not).
backup: venv
	$(PY) manage.py backup

restore: venv
	@if [ -z "$(FILE)" ]; then echo "usage: make restore FILE=backups/<file>" >&2; exit 2; fi
	$(PY) manage.py restore "$(FILE)"$(if $(FORCE), --no-input)

test: lint pytest

lint: dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(PY) manage.py makemigrations --check --dry-run

# Browser tests need Chromium (CHROMIUM_PATH, else `chromium` on PATH). Without it they are
# skipped with one line, except under CI=true, where a missing browser is a failure.
pytest: dev
	@chromium="$${CHROMIUM_PATH:-$$(command -v chromium || true)}"; \
	if [ -n "$$chromium" ] && [ -x "$$chromium" ]; then \
		echo "$(PYTEST) $(PYTEST_ARGS)  (browser tests with $$chromium)"; \
		CHROMIUM_PATH="$$chromium" $(PYTEST) $(PYTEST_ARGS); \
	elif [ "$${CI:-}" = true ]; then \
		echo "error: CI=true but Chromium is missing$${CHROMIUM_PATH:+ at CHROMIUM_PATH=$$CHROMIUM_PATH}: apt-get install chromium, or set CHROMIUM_PATH." >&2; \
		exit 1; \
	else \
		echo "Chromium not found$${CHROMIUM_PATH:+ at CHROMIUM_PATH=$$CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH): skipping the browser tests in tests/e2e."; \
		$(PYTEST) --ignore=tests/e2e -m "not browser" $(PYTEST_ARGS); \
	fi

# The soak (.ci/soak): gunicorn on PostgreSQL (DATABASE_URL, else a throwaway cluster in /tmp)
# loaded for SOAK_SECONDS by CSMs and partner users reading and writing; it fails on any error
# or any write not found afterwards. .ci/run runs it for 30 seconds.
SOAK_SECONDS ?= 300
.PHONY: soak
soak: venv
	SOAK_SECONDS=$(SOAK_SECONDS) .ci/soak

# The benchmark (README "Performance"): the large demo book in BENCH_DATABASE_URL (default
# bench.sqlite3, git-ignored; `make bench-seed` builds it in a few minutes), DEBUG off, every
# page in process, then gunicorn (2 workers) under wrk; results in bench-results/.
BENCH_DATABASE_URL ?= sqlite:///bench.sqlite3
BENCH_ARGS ?=
.PHONY: bench bench-seed
bench: venv
	DATABASE_URL=$(BENCH_DATABASE_URL) DEBUG=0 $(PY) manage.py bench $(BENCH_ARGS)

bench-seed: venv
	DATABASE_URL=$(BENCH_DATABASE_URL) DEBUG=0 $(PY) manage.py migrate --noinput
	DATABASE_URL=$(BENCH_DATABASE_URL) DEBUG=0 $(PY) manage.py seed_demo --scale large --force

clean-db:
	rm -f db.sqlite3 db.sqlite3-wal db.sqlite3-shm
