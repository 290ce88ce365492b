"""Fixtures for the local SQL warehouse tests: a throw-away lakehouse, a free port, and the real
start/stop script, with a teardown that stops the server and fails if anything is left running."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from local_stack.processes import free_port, processes_mentioning
from python_tests.conftest import REPO_ROOT, Lakehouse

SCRIPT = REPO_ROOT / "local_stack" / "warehouse" / "warehouse.py"
SERVER_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"


class Warehouse:
    """The warehouse server of one throw-away lakehouse, driven by local_stack/warehouse/warehouse.py."""

    def __init__(self, lakehouse: Lakehouse, port: int) -> None:
        self.lakehouse = lakehouse
        self.port = port
        self.env = dict(lakehouse.env, WAREHOUSE_PORT=str(port), DBT_TARGET="warehouse")

    def script(self, command: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(SCRIPT), command], env=dict(self.env, **env), cwd=self.lakehouse.root,
            capture_output=True, text=True, timeout=timeout,
        )

    def start(self) -> subprocess.CompletedProcess:
        result = self.script("start")
        assert result.returncode == 0, f"start failed: {result.stderr}\n{result.stdout}\n{self.log_tail()}"
        return result

    def stop(self) -> subprocess.CompletedProcess:
        return self.script("stop", timeout=120)

    @property
    def state_file(self) -> Path:
        return self.lakehouse.root / "warehouse-server.json"

    @property
    def pid(self) -> int:
        return json.loads(self.state_file.read_text())["pid"]

    def log_tail(self, chars: int = 3000) -> str:
        log = self.lakehouse.root / "logs" / "warehouse.log"
        return log.read_text(errors="replace")[-chars:] if log.exists() else "(no warehouse log)"

    def query(self, sql: str) -> list[tuple]:
        from pyhive import hive

        with contextlib.closing(hive.connect(host="127.0.0.1", port=self.port, username="pytest")) as conn:
            cursor = conn.cursor()
            cursor.execute(sql)
            return cursor.fetchall()

    def dbt(self, *args: str, **env: str) -> subprocess.Popen:
        """Start a dbt command against the warehouse target (not waiting for it)."""
        return subprocess.Popen(
            [str(REPO_ROOT / ".venv" / "bin" / "dbt"), *args, "--target", "warehouse"],
            env=dict(self.env, **env), cwd=self.lakehouse.root,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )

    def leftovers(self) -> list[int]:
        return processes_mentioning(str(self.lakehouse.root))


def stop_leaving_nothing(wh: Warehouse) -> None:
    """Stop the server; fail if any process of its lakehouse is left (killed first, even on failure)."""
    wh.stop()
    left = wh.leftovers()
    for pid in left:  # never leave a JVM behind for the next engineer
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    time.sleep(0.2 if left else 0)
    assert not left, f"processes left running after stop: {left}"


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[Warehouse]:
    """A not-yet-started warehouse on a free port in its own lakehouse; always stopped after."""
    wh = Warehouse(Lakehouse(tmp_path / "lakehouse"), free_port())
    try:
        yield wh
    finally:
        stop_leaving_nothing(wh)


@pytest.fixture(scope="module")
def started_warehouse(tmp_path_factory) -> Iterator[Warehouse]:
    """One running server for the module's tests that only need one up (nothing ingested yet):
    started once, stopped after the module's last test. A test that starts, stops or breaks a
    server, or needs bronze before the start, takes `warehouse` instead."""
    wh = Warehouse(Lakehouse(tmp_path_factory.mktemp("warehouse") / "lakehouse"), free_port())
    try:
        wh.start()
        yield wh
    finally:
        stop_leaving_nothing(wh)
