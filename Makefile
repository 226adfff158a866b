# make run: install, migrate, seed the demo, serve. make test: the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run install upgrade migrate seed serve stop test faults lint typecheck check schema bench clean
LOCK := requirements.lock
COMPILE = $(BIN)/pip-compile --quiet --extra dev --strip-extras --allow-unsafe \
	--no-emit-index-url --no-emit-find-links pyproject.toml

# What make run and CI install: the versions in the lock, which the suite passed on.
$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r $(LOCK)
	touch $(STAMP)

# The newest versions pyproject.toml's ranges allow, locked only once the suite passes on
# them; otherwise the lock's versions are installed again and the lock is left as it was.
upgrade: install
	$(BIN)/pip install --quiet 'pip-tools>=7.6,<8'
	$(COMPILE) --upgrade -o $(LOCK).new
	$(BIN)/pip install --quiet -r $(LOCK).new
	if $(BIN)/pytest -n $${TEST_WORKERS:-2}; then mv $(LOCK).new $(LOCK); touch $(STAMP); \
	else $(BIN)/pip install --quiet -r $(LOCK); rm $(LOCK).new; exit 1; fi

install: $(STAMP)

migrate: install
	$(BIN)/python -m core migrate

seed: migrate
	$(BIN)/python -m core seed-demo

serve: install
	$(BIN)/python -m core serve

run: seed serve

# Stops the embedded PostgreSQL that make run and make test leave running (DATABASE_URL unset).
stop: install
	$(BIN)/python -m core stop-db

# The suite in TEST_WORKERS processes (pytest-xdist), each on a database of its own.
test: install
	$(BIN)/pytest -n $${TEST_WORKERS:-2}

# Fault runs (kill -9, PostgreSQL restart, LISTEN cut) on a PostgreSQL cluster of their own.
faults: install
	$(BIN)/pytest faults

schema: install
	$(BIN)/python -m schema > schema.graphql

# The load benchmark (not part of make test): BENCH_SIZE one or more of S M L (default M),
# BENCH_SECONDS per operation. RESULTS.md shows every size measured so far.
bench: install
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/pip install --quiet matplotlib
	for size in $${BENCH_SIZE:-M}; do $(BIN)/python -m bench.run --size $$size || exit 1; done

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy .

check: lint typecheck test

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
