"""A local SQL warehouse: Spark's Thrift JDBC/ODBC server (from the pyspark wheel) with Delta,
the project's metastore and warehouse directory, bound to 127.0.0.1 only.

    python local_stack/warehouse/warehouse.py start     # = make warehouse
    python local_stack/warehouse/warehouse.py stop      # = make warehouse-stop
    python local_stack/warehouse/warehouse.py status    # = make warehouse-status

Settings (environment; bin/lakehouse-env sets the first four):
    LAKEHOUSE_DIR               the local lakehouse: metastore_db/, warehouse/, bronze/, logs/
    LAKEHOUSE_JARS              Delta jars, put on the driver class path
    LAKEHOUSE_LOG4J             the project's log4j2 config (setup/log4j2.properties)
    LAKEHOUSE_JAVA_OPTS         extra JVM options: the class-data archive of `make setup-tests`
    WAREHOUSE_PORT              Thrift port on 127.0.0.1 (default 10000)
    WAREHOUSE_DRIVER_MEMORY     driver heap (default 1500m)
    WAREHOUSE_START_TIMEOUT     seconds to wait for the port to answer (default 180)
    WAREHOUSE_STOP_TIMEOUT      seconds to wait after SIGTERM before SIGKILL (default 30)

State: $LAKEHOUSE_DIR/warehouse-server.json (pid, port, log); log: $LAKEHOUSE_DIR/logs/warehouse.log
(the previous one is kept as warehouse.log.1). Exit status: 0 done, 1 failed (one line on
stderr saying why), 2 bad setting.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

if not __package__:  # run as a file (make warehouse): the repo root onto the path
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from local_stack.warehouse.server import start, status, stop  # noqa: E402
from local_stack.warehouse.settings import SettingError, Settings, WarehouseError  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["start", "stop", "status"])
    args = parser.parse_args(argv)
    # A SIGTERM/SIGHUP (make interrupted, terminal closed) unwinds like Ctrl-C: a server still
    # starting is stopped again, never left behind.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.default_int_handler)
    try:
        settings = Settings.from_env()
        return {"start": start, "stop": stop, "status": status}[args.command](settings)
    except SettingError as exc:
        print(f"warehouse: bad setting: {exc}", file=sys.stderr)
        return 2
    except WarehouseError as exc:
        print(f"warehouse: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("warehouse: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
