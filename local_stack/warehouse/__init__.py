"""The local SQL warehouse (Spark's Thrift server): settings.py, server.py, warehouse.py (the CLI)."""
