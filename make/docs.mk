# Docs site, KPI dashboard, Python lint and the browser for the browser tests (included by the
# Makefile; ROOT, ENV and STEP come from there; `make help` lists the verbs).
#
# Variables: DOCS_PORT (default: a free port), DOCS_HOST (default 127.0.0.1),
# LAKEHOUSE_BROWSER_TESTS=0 (skip installing Chromium and the browser tests).
# docs-generate and dashboard open the local metastore: not while another dbt command runs
# on the same LAKEHOUSE_DIR.

DOCS_PORT ?=
DOCS_HOST ?= 127.0.0.1
LAKEHOUSE_BROWSER_TESTS ?= 1
export LAKEHOUSE_BROWSER_TESTS

.PHONY: docs docs-generate docs-serve dashboard browser lint-python

docs: docs-generate ## dbt docs generate, then serve the lineage site on 127.0.0.1:$DOCS_PORT (Ctrl-C stops)
	@$(MAKE) --no-print-directory docs-serve

docs-generate: setup ## generate only (target/index.html, static_index.html, manifest, catalog)
	@$(STEP) "dbt docs generate (+ single file static_index.html)" bash -c '$(ENV) cd "$$LAKEHOUSE_DIR" && dbt docs generate --static && echo "[docs] $$DBT_TARGET_PATH/static_index.html: the whole site in one file (open it directly, or share it)"'

docs-serve: setup ## serve what was generated last
	@bash -c '$(ENV) cd "$$LAKEHOUSE_DIR"; \
		[ -f "$$DBT_TARGET_PATH/manifest.json" ] || { echo "[docs] nothing generated yet: run make docs" >&2; exit 1; }; \
		port="$(DOCS_PORT)"; \
		[ -n "$$port" ] || port="$$(python -c "import socket; s = socket.socket(); s.bind((\"$(DOCS_HOST)\", 0)); print(s.getsockname()[1])")"; \
		echo "[docs] serving the lineage docs on http://$(DOCS_HOST):$$port (Ctrl-C stops)"; \
		exec dbt docs serve --host "$(DOCS_HOST)" --port "$$port" --no-browser'

dashboard: setup ## the self-contained KPI dashboard: $LAKEHOUSE_DIR/dashboard/index.html
	@$(STEP) "KPI dashboard from the gold tables" bash -c '$(ENV) python -m dashboard'

browser: ## headless Chromium + chromedriver for the browser tests (Debian packages, once)
	@if [ "$(LAKEHOUSE_BROWSER_TESTS)" = "0" ]; then echo "[browser] LAKEHOUSE_BROWSER_TESTS=0: not installing Chromium"; \
	else $(STEP) "headless Chromium for the browser tests" bash "$(ROOT)/local_stack/browser/ensure_chromium.sh"; fi

# `make test` installs the browser first (a no-op once installed); `make lint` adds ruff.
test: browser
lint: lint-python

lint-python: setup ## ruff check of the Python code (ruff.toml)
	@$(STEP) "ruff check" bash -c '$(ENV) cd "$(ROOT)" && ruff check .'
