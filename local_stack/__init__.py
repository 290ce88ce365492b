"""The local stack: what runs the lakehouse on a laptop or a CI machine, never on Databricks.

    env.py          the project environment for a lakehouse dir (bin/lakehouse-env, from Python)
    processes.py    process groups, /proc, free ports: start services so that nothing is left running
    warehouse/      the local SQL warehouse: Spark's Thrift server (make warehouse)
    kafka/          a real single-node Kafka broker from Maven Central jars (tests, benchmarks)
    browser/        Debian's Chromium for the browser tests
    demo.py         make demo after the producer: ingest, dbt build and the KPIs in one Spark JVM
    stream.py       make stream: producer + streaming job + an incremental dbt loop
    show_kpis.py    make kpis: the gold tables, the quarantine counts, the conservation check
                    (delta-rs + DuckDB, no JVM; or Spark)

The streaming job (streaming_ingest/, the wheel) and dbt's shim (lakehouse_dbt/) import
nothing from here; the dashboard is its own package (dashboard/).
"""
