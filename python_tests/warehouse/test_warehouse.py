"""The local SQL warehouse (make warehouse): a real Spark Thrift server on a free port in a
throw-away lakehouse, stopped by the fixture: one per test that starts, stops or breaks it, one
for the module's tests that only need one running (`started_warehouse`). dbt builds on it, two
dbt commands run at once, it listens on loopback only, stops without leftovers, and bad input
fails fast in one line.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from python_tests.conftest import REPO_ROOT
from python_tests.datasets import REASONS_A, STAGE_A, by_day
from local_stack.processes import free_port
from python_tests.warehouse.conftest import SCRIPT

pytestmark = [pytest.mark.spark, pytest.mark.dbt]

LOOPBACK = {"127.0.0.1", "::ffff:127.0.0.1"}


def as_text(rows) -> list[tuple[str, ...]]:
    return [tuple(str(value) for value in row) for row in rows]


def test_dbt_seed_and_build_on_the_warehouse_target(warehouse):
    warehouse.lakehouse.write_landing_file("sales-a.json", STAGE_A)
    warehouse.lakehouse.ingest()

    started = warehouse.start()
    assert "bronze registered as bronze.sales_events" in started.stdout
    assert f"jdbc:hive2://127.0.0.1:{warehouse.port}/default" in started.stdout
    # bronze is a table before dbt ever ran
    assert warehouse.query("select count(*) from bronze.sales_events") == [(len(STAGE_A),)]

    # seeds, models and the cross-model (singular) data tests: conservation, reconciliations.
    # The unit tests and the per-column generic tests ran on this same data, with the same SQL,
    # in stage_a's local build.
    dbt = warehouse.dbt("build", "--exclude", "resource_type:unit_test", "test_type:generic")
    output, _ = dbt.communicate(timeout=900)
    assert dbt.returncode == 0, output[-6000:]
    results = json.loads(warehouse.lakehouse.path("target", "run_results.json").read_text())["results"]
    singular = {r["unique_id"].split(".")[-1]: r["status"] for r in results if r["unique_id"].startswith("test.")}
    assert singular == {test.stem: "pass" for test in (REPO_ROOT / "tests").glob("*.sql")}

    # the same gold rows as the local target (python_tests/dbt/test_pipeline_gold.py)
    expected = [
        by_day("2026-11-10", "C01", "S001", 2, 3, "19.01", "9.51"),
        by_day("2026-11-10", "C09", "S999", 1, 4, "21.00", "21.00"),
        by_day("2026-11-11", "C01", "S001", 1, 5, "500.00", "500.00"),
        by_day("2026-11-11", "C02", "S002", 2, 2, "119.98", "59.99"),
        by_day("2026-11-12", "C01", "S001", 1, 4, "20.00", "20.00"),
    ]
    actual = warehouse.query(
        "select sales_date, channel_id, channel_name, region, transactions, units, total_amount, avg_ticket "
        "from gold.sales_by_day order by sales_date, channel_id, region"
    )
    assert as_text(actual) == as_text(expected)
    assert warehouse.query("select count(*) from silver.sales_simple") == [(7,)]
    # min()/max() of a Delta date column (Delta's statistics shortcut fails on the Thrift server)
    assert warehouse.query("select min(sales_date), max(sales_date) from silver.sales_enriched") == [
        ("2026-11-10", "2026-11-12")
    ]
    reasons = warehouse.query("select rejection_reason, count(*) from silver.sales_quarantine group by 1")
    assert dict(reasons) == REASONS_A

    # ANSI mode on, as on a Databricks SQL warehouse: for dbt's sessions (the profile's hiveconf)
    # and for any other client (Spark 4's default in the server)
    probe = warehouse.dbt("show", "--inline", "select cast(1 as tinyint) + cast(127 as tinyint) as probe")
    output, _ = probe.communicate(timeout=300)
    assert probe.returncode != 0 and "ARITHMETIC_OVERFLOW" in output, output[-3000:]
    assert warehouse.query("set spark.sql.ansi.enabled") == [("spark.sql.ansi.enabled", "true")]


def test_two_dbt_commands_at_the_same_time(started_warehouse):
    warehouse = started_warehouse
    # an empty bronze, as the on-run-start hook makes it when nothing was ingested yet
    setup = warehouse.dbt("run-operation", "register_bronze")
    output, _ = setup.communicate(timeout=300)
    assert setup.returncode == 0, output[-4000:]

    # two commands at once into different schemas, each with its own target/ and log folder
    root = warehouse.lakehouse.root
    commands = {
        "seed": warehouse.dbt("seed", "--target-path", str(root / "target-a"), DBT_LOG_PATH=str(root / "logs-a")),
        # only staging and the tests of staging alone (not the tests that also read silver)
        "build staging": warehouse.dbt(
            "build", "-s", "staging", "--indirect-selection", "cautious",
            "--target-path", str(root / "target-b"), DBT_LOG_PATH=str(root / "logs-b"),
        ),
    }
    outputs = {name: dbt.communicate(timeout=900)[0] for name, dbt in commands.items()}
    for name, dbt in commands.items():
        assert dbt.returncode == 0, f"dbt {name} failed while another dbt ran:\n{outputs[name][-6000:]}"
    assert warehouse.query("select count(*) from reference.channels") == [(4,)]
    assert warehouse.query("select count(*) from staging.stg_bronze__sales_events") == [(0,)]


def non_loopback_addresses() -> set[str]:
    """This machine's own IPv4 addresses other than 127.0.0.0/8 (from the kernel's routing trie)."""
    try:
        lines = Path("/proc/net/fib_trie").read_text().splitlines()
    except OSError:
        return set()
    found = set()
    for previous, line in zip(lines, lines[1:]):
        if "/32 host LOCAL" in line:
            address = previous.split("--")[-1].strip()
            if not address.startswith("127."):
                found.add(address)
    return found


def listening_sockets(pid: int) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket `pid` listens on, as `ss -ltnp` reports them."""
    result = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True, check=True)
    found = set()
    for line in result.stdout.splitlines():
        if f"pid={pid}," in line:
            local = line.split()[3]
            address, port = local.rsplit(":", 1)
            found.add((address.strip("[]"), int(port)))
    return found


@pytest.mark.skipif(shutil.which("ss") is None, reason="needs ss (iproute2)")
def test_the_server_listens_only_on_loopback(started_warehouse):
    warehouse = started_warehouse
    sockets = listening_sockets(warehouse.pid)
    assert (warehouse.port in {port for _, port in sockets}), sockets
    assert {address for address, _ in sockets} <= LOOPBACK, f"listening beyond loopback: {sockets}"
    assert warehouse.query("select 1") == [(1,)]
    for address in non_loopback_addresses():
        for _, port in sockets:
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection((address, port), timeout=5).close()


def test_make_warehouse_and_make_warehouse_stop_leave_nothing_behind(warehouse):
    make = ["make", "--no-print-directory", "-C", str(REPO_ROOT)]
    env = dict(warehouse.env)
    started = subprocess.run([*make, "warehouse"], env=env, capture_output=True, text=True, timeout=600)
    assert started.returncode == 0, started.stdout + started.stderr + warehouse.log_tail()
    assert f"up on 127.0.0.1:{warehouse.port}" in started.stdout
    assert "no bronze yet" in started.stdout
    pid = warehouse.pid

    again = subprocess.run([*make, "warehouse"], env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and f"already running on 127.0.0.1:{warehouse.port} (pid {pid})" in again.stdout
    status = subprocess.run([*make, "warehouse-status"], env=env, capture_output=True, text=True, timeout=60)
    assert status.returncode == 0 and "answering" in status.stdout

    stopped = subprocess.run([*make, "warehouse-stop"], env=env, capture_output=True, text=True, timeout=120)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert f"stopped (pid {pid}" in stopped.stdout
    assert not os.path.exists(f"/proc/{pid}/cmdline") or not Path(f"/proc/{pid}/cmdline").read_bytes()
    assert warehouse.leftovers() == []
    assert not warehouse.state_file.exists()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", warehouse.port), timeout=5).close()

    status = subprocess.run([*make, "warehouse-status"], env=env, capture_output=True, text=True, timeout=60)
    assert status.returncode != 0 and "not running" in status.stdout


def one_line_failure(result: subprocess.CompletedProcess, expected: str, status: int = 1) -> None:
    assert result.returncode == status, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("warehouse: ") and expected in lines[0], result.stderr


def test_a_taken_port_fails_at_once_in_one_line(warehouse):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", warehouse.port))
        squatter.listen()
        began = time.monotonic()
        result = warehouse.script("start", timeout=60)
        elapsed = time.monotonic() - began
    one_line_failure(result, f"port {warehouse.port} on 127.0.0.1 is already in use")
    assert elapsed < 10
    assert warehouse.leftovers() == [] and not warehouse.state_file.exists()


@pytest.mark.parametrize("java_home", [None, "/nonexistent/jdk"])
def test_a_missing_java_fails_at_once_in_one_line(warehouse, java_home):
    env = {"PATH": str(Path(sys.executable).parent)}  # the venv only: no java on PATH
    if java_home:
        env["JAVA_HOME"] = java_home
    warehouse.env.pop("JAVA_HOME", None)
    result = warehouse.script("start", timeout=60, **env)
    one_line_failure(result, "Java not found")
    assert warehouse.leftovers() == [] and not warehouse.state_file.exists()


def test_no_answer_within_the_timeout_fails_in_one_line_and_stops_the_server(warehouse):
    began = time.monotonic()
    result = warehouse.script("start", timeout=120, WAREHOUSE_START_TIMEOUT="2")
    one_line_failure(result, f"did not answer on 127.0.0.1:{warehouse.port} within 2 s")
    assert time.monotonic() - began < 30
    assert warehouse.leftovers() == [] and not warehouse.state_file.exists()
    assert (warehouse.lakehouse.root / "logs" / "warehouse.log").exists()


@pytest.mark.parametrize(
    ("name", "value"), [("WAREHOUSE_PORT", "ten"), ("WAREHOUSE_PORT", "80"), ("WAREHOUSE_DRIVER_MEMORY", "lots")]
)
def test_a_bad_setting_is_named(warehouse, name, value):
    result = warehouse.script("start", timeout=60, **{name: value})
    one_line_failure(result, f"bad setting: {name}=", status=2)


def test_stop_when_nothing_runs_is_fine(tmp_path):
    from python_tests.conftest import project_env

    result = subprocess.run(
        [sys.executable, str(SCRIPT), "stop"], env=project_env(tmp_path, WAREHOUSE_PORT=str(free_port())),
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0 and "not running" in result.stdout
