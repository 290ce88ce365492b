# The team's daily verbs. Every target sets itself up first (offline after the first time)
# and prints what it does and how long it took.
#
#   make demo     producer → bronze → silver → gold on the local default, then the KPIs
#   make test     everything CI checks (pytest: producer, streaming, dbt; sqlfluff)
#   make ingest   landing zone → bronze (available-now)
#   make build    dbt build (local target: seeds, models, tests)
#   make sample   a small deterministic bronze for analysts (no stream needed)
#   make kpis     print the gold tables and the quarantine counts
#   make lint     sqlfluff lint of models/ and macros/
#   make clean    drop local state (.lakehouse/, target/) but keep the installs
#
# Variables: LAKEHOUSE_DIR (default .lakehouse), EVENTS (demo volume), SEED, DIRTY.

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

.PHONY: help setup demo test ingest produce build seed sample kpis lint clean clean-all

help:
	@sed -n '1,14p' $(ROOT)/Makefile | sed 's/^# \{0,1\}//'

setup:
	@$(STEP) setup bash $(ROOT)/setup/setup.sh

demo: setup
	@$(STEP) "demo: reset local lakehouse" bash -c '$(ENV) rm -rf "$$LAKEHOUSE_DIR/landing" "$$LAKEHOUSE_DIR/bronze" "$$LAKEHOUSE_DIR/checkpoints" "$$LAKEHOUSE_DIR/warehouse" "$$LAKEHOUSE_DIR/metastore_db"'
	@$(MAKE) --no-print-directory produce ingest build kpis
	@echo "[demo] done. Query the tables: make kpis, or bin/dbt show --inline 'select * from gold.sales_by_day'"

produce: setup
	@$(STEP) "produce $(EVENTS) events (seed $(SEED), dirty $(DIRTY)) → landing zone" bash -c '$(ENV) python -m producer events --sink files --total $(EVENTS) --seed $(SEED) --dirty $(DIRTY) --start 2026-11-14T08:00:00Z --sim-rate 0.05 --future-days 3650'

ingest: setup
	@$(STEP) "ingest: landing zone → bronze (available-now)" bash -c '$(ENV) python -m streaming_ingest --source files --trigger available-now'

seed: setup
	@$(STEP) "dbt seed (local)" bash -c '$(ENV) cd "$$LAKEHOUSE_DIR" && dbt seed'

build: setup
	@$(STEP) "dbt build (local: seeds, models, tests)" bash -c '$(ENV) cd "$$LAKEHOUSE_DIR" && dbt build'

sample: setup
	@$(STEP) "sample: 2,000 deterministic events → bronze (idempotent)" bash -c '$(ENV) \
		if [ ! -d "$$LAKEHOUSE_DIR/sample/landing" ]; then \
		  python -m producer events --sink files --quiet --total 2000 --seed 7 --dirty 0.02 \
		    --start 2026-11-14T08:00:00Z --sim-rate 0.01 --future-days 3650 \
		    --landing-dir "$$LAKEHOUSE_DIR/sample/landing.tmp" && mv "$$LAKEHOUSE_DIR/sample/landing.tmp" "$$LAKEHOUSE_DIR/sample/landing"; \
		fi; \
		python -m streaming_ingest --source files --trigger available-now \
		  --landing-dir "$$LAKEHOUSE_DIR/sample/landing" --checkpoint-dir "$$LAKEHOUSE_DIR/checkpoints/sample"'
	@$(STEP) "dbt build (local)" bash -c '$(ENV) cd "$$LAKEHOUSE_DIR" && dbt build'

kpis: setup
	@$(STEP) "gold KPIs" bash -c '$(ENV) python scripts/show_kpis.py'

lint: setup
	@$(STEP) "sqlfluff lint" bash -c '$(ENV) sqlfluff lint models tests analyses'

test: setup
	@$(STEP) "sqlfluff lint" bash -c '$(ENV) sqlfluff lint models tests analyses'
	@$(STEP) "pytest" bash -c '$(ENV) python -m pytest $(PYTEST_ARGS)'

# Feature areas add their verbs in make/*.mk (warehouse, docs, dashboard, stream, bench, ...).
-include $(ROOT)/make/*.mk

clean:
	@$(STEP) clean bash -c 'rm -rf "$(ROOT)/.lakehouse" "$(ROOT)/target" "$(ROOT)/logs" "$(ROOT)/derby.log" "$(ROOT)/metastore_db"'

clean-all: clean
	@$(STEP) "clean installs" bash -c 'rm -rf "$(ROOT)/.venv" "$(ROOT)/.deps"'
