# The team's daily verbs: `make help` lists them all, from the `## ` comment next to each
# target (here and in make/*.mk). Every target sets itself up first (offline after the first
# time) and prints what it does and how long it took.
#
# Variables: LAKEHOUSE_DIR (default .lakehouse), EVENTS (demo volume), SEED, DIRTY, FRESH,
# PYTEST_ARGS (extra pytest arguments for make test / test-fast).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
ENV := ROOT=$(ROOT) source $(ROOT)/bin/lakehouse-env &&
STEP := $(ROOT)/bin/step
EVENTS ?= 20000
SEED ?= 42
DIRTY ?= 0.01
PYTEST_ARGS ?=
KPIS_ENGINE ?= auto
FRESH ?=
# the demo's events (make produce, make demo): deterministic for a SEED
PRODUCE_ARGS = --sink files --total $(EVENTS) --seed $(SEED) --dirty $(DIRTY) --start 2026-11-14T08:00:00Z --sim-rate 0.05 --future-days 3650

.PHONY: help setup setup-tests setup-airflow demo test test-fast test-data ingest backfill produce build seed sample kpis health lint clean clean-all

help: ## this list
	@echo "make <verb>   (variables: LAKEHOUSE_DIR, EVENTS, SEED, DIRTY, PYTEST_ARGS; see docs/running-locally.md)"
	@grep -h -E '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)$$/  \1\t\2/' | expand -t 20

setup: ## venv + pinned packages (uv) + jars, fetched at once (idempotent, offline after the first time)
	@$(STEP) setup bash $(ROOT)/setup/setup.sh

setup-tests: ## setup, plus the local Kafka broker's jars and the Spark class-data archive (make test, make bench)
	@$(STEP) setup-tests bash $(ROOT)/setup/setup.sh tests

setup-airflow: ## Airflow 3 for orchestration/dags in its own .venv-airflow (setup/airflow.lock; make test needs it)
	@$(STEP) setup-airflow bash $(ROOT)/setup/setup_airflow.sh

demo: setup ## producer → bronze → silver → gold → KPIs in one Spark JVM; a repeat rebuilds only what changed (FRESH=1: from empty)
	@$(STEP) "demo ($(EVENTS) events, seed $(SEED), dirty $(DIRTY))" bash -c '$(ENV) python -m local_stack.demo $(if $(FRESH),--fresh) -- $(PRODUCE_ARGS)'
	@echo "[demo] done. Query the tables: make kpis, or bin/dbt show --inline 'select * from gold.sales_by_day'"

produce: setup ## EVENTS events (default 20000; SEED, DIRTY) into the landing zone; what was sent in $LAKEHOUSE_DIR/produced.json
	@$(STEP) "produce $(EVENTS) events (seed $(SEED), dirty $(DIRTY)) → landing zone" bash -c '$(ENV) python -m producer events $(PRODUCE_ARGS) --summary-json "$$LAKEHOUSE_DIR/produced.json"'

ingest: setup ## landing zone → bronze (available-now)
	@$(STEP) "ingest: landing zone → bronze (available-now)" bash -c '$(ENV) python -m streaming_ingest --source files --trigger available-now'

backfill: setup ## the Event Hubs Capture archive (CAPTURE_DIR, default $LAKEHOUSE_DIR/capture) → bronze (available-now)
	@$(STEP) "backfill: Capture archive → bronze (available-now)" bash -c '$(ENV) python -m streaming_ingest --source capture --trigger available-now'

seed: setup ## dbt seed (local target)
	@$(STEP) "dbt seed (local)" bash -c '$(ENV) cd "$$LAKEHOUSE_DIR" && dbt seed'

build: setup ## dbt build on the local target (seeds, models, unit and data tests)
	@$(STEP) "dbt build (local: seeds, models, tests)" bash -c '$(ENV) cd "$$LAKEHOUSE_DIR" && dbt build'

test-data: setup ## every data test over every row of the local lakehouse: the full sweep (a build tests only the rows it loaded)
	@$(STEP) "dbt test: every data test, every row (local)" bash -c '$(ENV) cd "$$LAKEHOUSE_DIR" && dbt test --exclude-resource-type unit_test --vars "{data_tests_scope: all}"'

sample: setup ## a small deterministic bronze, then dbt build (work on models without a stream)
	@$(STEP) "sample: 2,000 deterministic events → bronze (idempotent)" bash -c '$(ENV) \
		if [ ! -d "$$LAKEHOUSE_DIR/sample/landing" ]; then \
		  python -m producer events --sink files --quiet --total 2000 --seed 7 --dirty 0.02 \
		    --start 2026-11-14T08:00:00Z --sim-rate 0.01 --future-days 3650 \
		    --landing-dir "$$LAKEHOUSE_DIR/sample/landing.tmp" && mv "$$LAKEHOUSE_DIR/sample/landing.tmp" "$$LAKEHOUSE_DIR/sample/landing"; \
		fi; \
		python -m streaming_ingest --source files --trigger available-now \
		  --landing-dir "$$LAKEHOUSE_DIR/sample/landing" --checkpoint-dir "$$LAKEHOUSE_DIR/checkpoints/sample"'
	@$(STEP) "dbt build (local)" bash -c '$(ENV) cd "$$LAKEHOUSE_DIR" && dbt build'

kpis: setup ## print the gold tables, the quarantine counts and the conservation check (delta-rs, no JVM; KPIS_ENGINE=spark)
	@$(STEP) "gold KPIs" bash -c '$(ENV) python local_stack/show_kpis.py --engine $(KPIS_ENGINE)'

health: setup ## the pipeline's alerts over the audit tables (stale data, quarantine share, conservation, failing test, stream lag); exit 1 when one fires
	@$(STEP) "pipeline health" bash -c '$(ENV) python local_stack/health.py $(HEALTH_ARGS)'

lint: setup ## sqlfluff lint of models/, tests/ and analyses/ (and ruff, below)
	@$(STEP) "sqlfluff lint" bash -c '$(ENV) sqlfluff lint models tests analyses'

test: setup-tests setup-airflow ## everything CI runs: ruff, sqlfluff, then pytest (real Spark, Delta, Kafka, dbt, Chromium)
	@$(STEP) "ruff check" bash -c '$(ENV) cd "$(ROOT)" && ruff check .'
	@$(STEP) "sqlfluff lint" bash -c '$(ENV) sqlfluff lint models tests analyses'
	@$(STEP) "pytest" bash -c '$(ENV) python -m pytest $(PYTEST_ARGS)'

test-fast: setup ## the inner loop: ruff, sqlfluff and the tests that start no JVM (no Spark, Kafka or dbt)
	@$(STEP) "ruff check" bash -c '$(ENV) cd "$(ROOT)" && ruff check .'
	@$(STEP) "sqlfluff lint" bash -c '$(ENV) sqlfluff lint models tests analyses'
	@$(STEP) "pytest (no JVM)" bash -c '$(ENV) python -m pytest -m "not spark and not kafka and not dbt and not airflow" $(PYTEST_ARGS)'

# Feature areas add their verbs in make/*.mk (warehouse, docs, dashboard, stream, bench, ...).
-include $(ROOT)/make/*.mk

clean: ## drop local state (.lakehouse/, target/) but keep the installs
	@$(STEP) clean bash -c 'rm -rf "$(ROOT)/.lakehouse" "$(ROOT)/target" "$(ROOT)/logs" "$(ROOT)/derby.log" "$(ROOT)/metastore_db"'

clean-all: clean ## also drop the installs (.venv/, .deps/)
	@$(STEP) "clean installs" bash -c 'rm -rf "$(ROOT)/.venv" "$(ROOT)/.deps"'
