# Custos — developer commands. `make help` lists them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help install run test lint format messages bench bench-audit bench-vault bench-grants bench-training bench-walls clean

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1"
	$(BIN)/python -m pip install --quiet --group dev -e .
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP) ## Create .venv and install Custos with its development tools

run: $(STAMP) ## Demo: SQLite, in-process jobs, demo firm, server on 127.0.0.1:8000
	CUSTOS_ENV=demo $(BIN)/python manage.py migrate --noinput
	CUSTOS_ENV=demo $(BIN)/python manage.py seed_demo --url http://$(HOST):$(PORT)/
	@# The periodic jobs (audit chaining, detection, expiry) run beside the server, and stop with it.
	CUSTOS_ENV=demo $(BIN)/python manage.py run_schedule & schedule=$$!; \
	trap 'kill $$schedule 2>/dev/null' EXIT; \
	CUSTOS_ENV=demo $(BIN)/python manage.py runserver $(HOST):$(PORT)

test: $(STAMP) ## Run the test suite (SQLite, or PostgreSQL when DATABASE_URL points at one)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP) ## ruff lint and format check, migrations check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	CUSTOS_ENV=test $(BIN)/python manage.py makemigrations --check --dry-run

format: $(STAMP) ## Format and auto-fix with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

messages: $(STAMP) ## Extract translatable strings into locale/ and compile them
	CUSTOS_ENV=test $(BIN)/python manage.py makemessages --locale zh_Hans --no-obsolete --ignore ".venv/*" --ignore "var/*" --ignore "bench/*" --ignore "tests/*"
	CUSTOS_ENV=test $(BIN)/python manage.py compilemessages --locale zh_Hans --ignore ".venv/*"

bench: $(STAMP) ## Benchmark the matter list on PostgreSQL (see bench/README.md)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

bench-audit: $(STAMP) ## Benchmark the audit trail on PostgreSQL (see bench/README.md, Audit)
	$(BIN)/python -m bench.audit $(BENCH_ARGS)

bench-vault: $(STAMP) ## Benchmark the vault on PostgreSQL (see bench/README.md, Vault)
	$(BIN)/python -m bench.vault $(BENCH_ARGS)

bench-grants: $(STAMP) ## Benchmark the daily grant-expiry job on PostgreSQL (see bench/README.md, Grants)
	$(BIN)/python -m bench.grants $(BENCH_ARGS)

bench-training: $(STAMP) ## Benchmark training compliance and HR's dashboard on PostgreSQL (see bench/README.md, Training)
	$(BIN)/python -m bench.training $(BENCH_ARGS)

bench-walls: $(STAMP) ## Benchmark the policy with ethical walls on PostgreSQL (see bench/README.md, Walls)
	$(BIN)/python -m bench.walls $(BENCH_ARGS)

clean: ## Remove the virtualenv and local data (var/)
	rm -rf $(VENV) var
