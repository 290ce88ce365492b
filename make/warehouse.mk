# A local SQL warehouse: Spark's Thrift JDBC/ODBC server with Delta on 127.0.0.1
# (docs/warehouse.md; `make help` lists the verbs). Variables: WAREHOUSE_PORT (default 10000),
# WAREHOUSE_DRIVER_MEMORY (1500m), WAREHOUSE_START_TIMEOUT (180 s), LAKEHOUSE_DIR.

WAREHOUSE := $(ROOT)/local_stack/warehouse/warehouse.py

.PHONY: warehouse warehouse-stop warehouse-status warehouse-build

warehouse: setup ## start the local Spark SQL server on 127.0.0.1:$WAREHOUSE_PORT (default 10000)
	@$(STEP) "warehouse: start the local Spark SQL server on 127.0.0.1:$${WAREHOUSE_PORT:-10000}" bash -c '$(ENV) python "$(WAREHOUSE)" start'

warehouse-stop: ## stop it (SIGTERM, wait, verify it is gone)
	@$(STEP) "warehouse: stop" bash -c '$(ENV) python "$(WAREHOUSE)" stop'

warehouse-status: ## is it running, on which port
	@bash -c '$(ENV) python "$(WAREHOUSE)" status'

warehouse-build: setup ## dbt seed + dbt build on the warehouse target
	@$(STEP) "dbt seed + build (warehouse)" bash -c '$(ENV) cd "$$LAKEHOUSE_DIR" && dbt seed --target warehouse && dbt build --target warehouse'
