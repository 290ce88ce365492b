"""The warehouse server's settings, from the environment (see warehouse.py), checked at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
SERVER_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"
HOST = "127.0.0.1"
STATE_NAME = "warehouse-server.json"
LOCK_NAME = "warehouse-server.lock"
# Logger levels added on top of the project's log4j2 config (log4j2 merges the two files).
EXTRA_LOG4J = HERE / "log4j2-warehouse.properties"
# Lines in the server log that mean "cannot start", with what to tell the user.
FATAL_LOG_LINES = {
    "Another instance of Derby may have already booted the database": (
        "the metastore {lakehouse_dir}/metastore_db is in use by another Spark process "
        "(a dbt run on the local target?): let it finish, then run make warehouse again"
    ),
    "Error starting HiveServer2": "the Thrift service could not start (see {log})",
}


class WarehouseError(Exception):
    """A failure to report as one line, exit status 1."""


class SettingError(WarehouseError):
    """A bad setting, exit status 2."""


@dataclass(frozen=True)
class Settings:
    lakehouse_dir: Path
    jars_dir: Path
    log4j: Path
    port: int
    driver_memory: str
    start_timeout: float
    stop_timeout: float

    @property
    def state_file(self) -> Path:
        return self.lakehouse_dir / STATE_NAME

    @property
    def log_file(self) -> Path:
        return self.lakehouse_dir / "logs" / "warehouse.log"

    @property
    def jdbc_url(self) -> str:
        return f"jdbc:hive2://{HOST}:{self.port}/default"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        root = HERE.parent.parent

        def path(name: str, default: Path | None = None) -> Path:
            value = env.get(name) or (str(default) if default else "")
            if not value:
                raise SettingError(f"{name} is not set: run through make, bin/dbt or `source bin/lakehouse-env`")
            return Path(value).resolve()

        def number(name: str, default: str, kind: type, low: float, high: float):
            raw = env.get(name, "") or default
            try:
                value = kind(raw)
            except ValueError:
                raise SettingError(f"{name}={raw!r} is not a number") from None
            if not low <= value <= high:
                raise SettingError(f"{name}={raw} is out of range ({low:g}..{high:g})")
            return value

        lakehouse_dir = path("LAKEHOUSE_DIR")
        jars_dir = path("LAKEHOUSE_JARS", root / ".deps" / "jars")
        log4j = path("LAKEHOUSE_LOG4J", root / "setup" / "log4j2.properties")
        if not jars_dir.is_dir():
            raise SettingError(f"LAKEHOUSE_JARS={jars_dir} is not a directory: run 'make setup'")
        if not log4j.is_file():
            raise SettingError(f"LAKEHOUSE_LOG4J={log4j} does not exist")
        memory = env.get("WAREHOUSE_DRIVER_MEMORY", "") or "1500m"
        if not memory[:-1].isdigit() or memory[-1].lower() not in "kmg":
            raise SettingError(f"WAREHOUSE_DRIVER_MEMORY={memory!r} is not a JVM size such as 1500m or 2g")
        return cls(
            lakehouse_dir=lakehouse_dir,
            jars_dir=jars_dir,
            log4j=log4j,
            port=number("WAREHOUSE_PORT", "10000", int, 1024, 65535),
            driver_memory=memory,
            start_timeout=number("WAREHOUSE_START_TIMEOUT", "180", float, 1, 3600),
            stop_timeout=number("WAREHOUSE_STOP_TIMEOUT", "30", float, 1, 600),
        )
