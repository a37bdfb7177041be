# One command to run the coop, one to test it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := wsgi
COOP_TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
COVERAGE_FLOOR ?= 90
# Test processes: one per core (each gets its own SQLite file or PostgreSQL database).
TEST_WORKERS ?= auto

.PHONY: run test check lint typecheck test-sqlite test-postgres install bench clean translations

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/flask db upgrade
	$(BIN)/flask coop init
	$(BIN)/flask coop seed-demo
	$(BIN)/flask run --host 127.0.0.1 --port 5000

# The README's test command: lint, types, then the suite on SQLite and on PostgreSQL with coverage.
test: check

check: lint typecheck test-sqlite test-postgres

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# The SQLite run ignores any PostgreSQL URL in the environment, so both backends are always tested.
# Coverage of both runs is added up; the PostgreSQL run (or this one alone, without PostgreSQL) checks the floor.
test-sqlite: $(STAMP)
	env -u COOP_TEST_DATABASE_URL $(BIN)/python -m pytest -n $(TEST_WORKERS) --cov --cov-report=

# Runs only when PostgreSQL answers, so a laptop without it still gets the SQLite run.
test-postgres: $(STAMP)
	@if $(BIN)/python -c "import sqlalchemy as sa, sys; sa.create_engine(sys.argv[1]).connect().close()" "$(COOP_TEST_DATABASE_URL)" 2>/dev/null; then \
		echo "== PostgreSQL: $(COOP_TEST_DATABASE_URL)"; \
		COOP_TEST_DATABASE_URL="$(COOP_TEST_DATABASE_URL)" $(BIN)/python -m pytest -n $(TEST_WORKERS) --cov --cov-append \
			--cov-report=term:skip-covered --cov-fail-under=$(COVERAGE_FLOOR); \
	else \
		echo "== PostgreSQL not reachable at $(COOP_TEST_DATABASE_URL); skipped"; \
		$(BIN)/coverage report --skip-covered --fail-under=$(COVERAGE_FLOOR); \
	fi

# Extract every message, update the shared catalogue and each domain's (coop/<domain>/translations),
# carry French across catalogues when a message moves, compile every .mo, and list what still needs French.
translations: $(STAMP)
	$(BIN)/python -m coop.catalogues

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) instance
