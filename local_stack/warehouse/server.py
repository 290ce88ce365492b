"""Start, stop and watch the warehouse server (Spark's Thrift server) of one lakehouse.

One start or stop at a time per lakehouse (a lock file); the running server is recorded in
$LAKEHOUSE_DIR/warehouse-server.json and recognised by its command line; it leads a process
group of its own, which stopping ends (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from local_stack.processes import command_line, is_running, listening_ports, port_is_free, terminate
from local_stack.warehouse.settings import (
    EXTRA_LOG4J, FATAL_LOG_LINES, HERE, HOST, LOCK_NAME, SERVER_CLASS, Settings, WarehouseError,
)
from streaming_ingest.spark_session import LOCAL_SPARK_SETTINGS, java_options, size_settings


def is_our_server(pid: int, settings: Settings) -> bool:
    cmd = command_line(pid)
    return SERVER_CLASS in cmd and str(settings.lakehouse_dir) in cmd


def port_answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1):
        return True
    return False


# --- state -----------------------------------------------------------------------------------


@contextlib.contextmanager
def locked(settings: Settings):
    """One start/stop at a time per lakehouse."""
    settings.lakehouse_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.lakehouse_dir / LOCK_NAME, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def read_state(settings: Settings) -> dict | None:
    try:
        return json.loads(settings.state_file.read_text())
    except FileNotFoundError:
        return None
    except (ValueError, OSError):
        return {}


def write_state(settings: Settings, state: dict) -> None:
    tmp = settings.state_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    os.replace(tmp, settings.state_file)


def running_server(settings: Settings) -> dict | None:
    """The state of this lakehouse's server if it runs; removes a stale state file."""
    state = read_state(settings)
    if state is None:
        return None
    pid = state.get("pid")
    if isinstance(pid, int) and is_running(pid) and is_our_server(pid, settings):
        return state
    settings.state_file.unlink(missing_ok=True)
    return None


# --- start -----------------------------------------------------------------------------------


def find_java() -> str:
    """The java spark-class will run: $JAVA_HOME/bin/java, else java on PATH."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        java = Path(java_home) / "bin" / "java"
        if not os.access(java, os.X_OK):
            raise WarehouseError(f"Java not found: JAVA_HOME={java_home} has no bin/java; set JAVA_HOME to a JDK 17")
        return str(java)
    java = shutil.which("java")
    if not java:
        raise WarehouseError(
            "Java not found: install a JDK 17 (e.g. apt-get install openjdk-17-jdk-headless) and put java on PATH"
        )
    return java


def spark_home() -> Path:
    spec = importlib.util.find_spec("pyspark")
    if spec is None or not spec.submodule_search_locations:
        raise WarehouseError("pyspark is not installed in this Python: run 'make setup'")
    return Path(list(spec.submodule_search_locations)[0])


def server_command(settings: Settings, home: Path) -> list[str]:
    d = settings.lakehouse_dir
    jvm_options = (
        f"-Dderby.system.home={d} -Dlog4j2.configurationFile={settings.log4j},{EXTRA_LOG4J} -Duser.timezone=UTC "
        # the class-data archive of `make setup-tests` (bin/lakehouse-env), as for every local Spark JVM
        + java_options()
    ).strip()
    conf = {
        **LOCAL_SPARK_SETTINGS,
        **size_settings(),
        "spark.app.name": "lakehouse-warehouse",
        "spark.driver.extraClassPath": f"{settings.jars_dir}/*",
        "spark.driver.extraJavaOptions": jvm_options,
        "spark.sql.warehouse.dir": str(d / "warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={d}/metastore_db;create=true",
        # The Thrift server turns on spark.sql.datetime.java8API.enabled for its sessions, and
        # Delta's answer-from-statistics shortcut for min()/max() then fails on date columns
        # (ClassCastException: LocalDate cannot be cast to java.sql.Date). Read the data instead.
        "spark.databricks.delta.optimizeMetadataQuery.enabled": "false",
    }
    hiveconf = {
        "hive.server2.thrift.bind.host": HOST,
        "hive.server2.thrift.port": str(settings.port),
        "hive.server2.transport.mode": "binary",
    }
    cmd = [str(home / "bin" / "spark-submit"), "--class", SERVER_CLASS, "--master", "local[2]",
           "--driver-memory", settings.driver_memory]
    for key, value in conf.items():
        cmd += ["--conf", f"{key}={value}"]
    for key, value in hiveconf.items():
        cmd += ["--hiveconf", f"{key}={value}"]
    return [*cmd, "spark-internal"]


def rotate_log(log: Path) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    if log.exists() and log.stat().st_size > 0:
        os.replace(log, log.with_name(log.name + ".1"))


def fatal_log_line(settings: Settings) -> str | None:
    """A reason to give up found in the server log."""
    try:
        text = settings.log_file.read_text(errors="replace")
    except FileNotFoundError:
        return None
    for needle, message in FATAL_LOG_LINES.items():
        if needle in text:
            return message.format(lakehouse_dir=settings.lakehouse_dir, log=settings.log_file)
    return None


def last_error_line(log: Path) -> str:
    try:
        lines = log.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return "no log"
    for line in reversed(lines):
        if " ERROR " in line or "Exception" in line or "Error:" in line:
            return line.strip()[:300]
    return lines[-1].strip()[:300] if lines else "empty log"


def wait_until_up(settings: Settings, server: subprocess.Popen, deadline: float) -> None:
    while True:
        code = server.poll()
        if code is not None:
            reason = fatal_log_line(settings) or last_error_line(settings.log_file)
            raise WarehouseError(
                f"the server exited during start-up (exit {code}): {reason} (log: {settings.log_file})"
            )
        reason = fatal_log_line(settings)
        if reason:
            raise WarehouseError(reason)
        listening = listening_ports(server.pid)
        if listening is None:  # no /proc: trust the port (it was free before the start)
            if port_answers(settings.port):
                return
        elif any(port == settings.port for _, port in listening) and port_answers(settings.port):
            return
        if time.monotonic() > deadline:
            raise WarehouseError(
                f"the server did not answer on {HOST}:{settings.port} within {settings.start_timeout:g} s "
                f"(WAREHOUSE_START_TIMEOUT); stopped it (log: {settings.log_file})"
            )
        time.sleep(0.25)


def bronze_location(settings: Settings) -> str | None:
    path = os.environ.get("BRONZE_PATH") or str(settings.lakehouse_dir / "bronze" / "sales_events")
    return path if (Path(path) / "_delta_log").is_dir() else None


def register_bronze(settings: Settings, location: str) -> str:
    """What the dbt on-run-start hook does (macros/register_bronze.sql), for an existing bronze."""
    from pyhive import hive

    schema = os.environ.get("BRONZE_SCHEMA", "bronze")
    table = os.environ.get("BRONZE_TABLE", "sales_events")
    with contextlib.closing(hive.connect(host=HOST, port=settings.port, username="lakehouse")) as conn:
        cursor = conn.cursor()
        cursor.execute(f"create schema if not exists {schema}")
        cursor.execute(f"create table if not exists {schema}.{table} using delta location '{location}'")
    return f"{schema}.{table}"


def start(settings: Settings) -> int:
    with locked(settings):
        state = running_server(settings)
        if state:
            print(f"warehouse: already running on {HOST}:{state['port']} (pid {state['pid']})")
            print_connect_help(settings, state["port"])
            return 0
        find_java()
        if not port_is_free(settings.port):
            raise WarehouseError(
                f"port {settings.port} on {HOST} is already in use: stop what listens there "
                f"or choose another port, e.g. WAREHOUSE_PORT={settings.port + 1} make warehouse"
            )
        rotate_log(settings.log_file)
        env = dict(os.environ, SPARK_HOME=str(spark_home()), SPARK_LOCAL_IP=HOST)
        env.pop("SPARK_CONF_DIR", None)
        env.pop("PYSPARK_SUBMIT_ARGS", None)
        began = time.monotonic()
        with open(settings.log_file, "ab") as log:
            server = subprocess.Popen(
                server_command(settings, Path(env["SPARK_HOME"])),
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=settings.lakehouse_dir, env=env, start_new_session=True,
            )
        state = {"pid": server.pid, "port": settings.port, "host": HOST, "log": str(settings.log_file),
                 "lakehouse_dir": str(settings.lakehouse_dir), "started_at": time.time()}
        write_state(settings, state)
        up = False
        try:
            wait_until_up(settings, server, began + settings.start_timeout)
            up = True
        finally:
            if not up:  # also on Ctrl-C: leave nothing running
                terminate(server.pid, 10)
                settings.state_file.unlink(missing_ok=True)
        print(f"warehouse: up on {HOST}:{settings.port} in {time.monotonic() - began:.0f} s "
              f"(pid {server.pid}); log: {settings.log_file}")
        location = bronze_location(settings)
        if location:
            try:
                print(f"warehouse: bronze registered as {register_bronze(settings, location)} ({location})")
            except Exception as exc:  # noqa: BLE001 - the server is fine; dbt's hook will register it
                first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
                print(f"warehouse: could not register bronze ({first}); the first dbt command will", file=sys.stderr)
        else:
            print("warehouse: no bronze yet; the first dbt command on the warehouse target registers it")
        print_connect_help(settings, settings.port)
        return 0


def print_connect_help(settings: Settings, port: int) -> None:
    repo = HERE.parent.parent
    lakehouse = "" if settings.lakehouse_dir == repo / ".lakehouse" else f"LAKEHOUSE_DIR={settings.lakehouse_dir} "
    both = lakehouse + ("" if port == 10000 else f"WAREHOUSE_PORT={port} ")
    print(f"""  dbt       {both}bin/dbt build --target warehouse   (or export DBT_TARGET=warehouse)
  JDBC      jdbc:hive2://{HOST}:{port}/default   (any user name, no password)
  Beeline   {repo}/.venv/bin/beeline -u jdbc:hive2://{HOST}:{port}/default -n $USER
  stop      {lakehouse}make warehouse-stop""")


# --- stop / status ---------------------------------------------------------------------------


def stop(settings: Settings) -> int:
    with locked(settings):
        state = read_state(settings)
        if state is None:
            print(f"warehouse: not running (no {settings.state_file})")
            return 0
        pid = state.get("pid")
        if not isinstance(pid, int) or not is_running(pid) or not is_our_server(pid, settings):
            settings.state_file.unlink(missing_ok=True)
            print(f"warehouse: not running (removed the stale {settings.state_file.name})")
            return 0
        began = time.monotonic()
        if not terminate(pid, settings.stop_timeout):
            raise WarehouseError(f"the server (pid {pid}) is still running after SIGTERM and SIGKILL")
        settings.state_file.unlink(missing_ok=True)
        print(f"warehouse: stopped (pid {pid}, port {state.get('port')}) in {time.monotonic() - began:.1f} s")
        return 0


def status(settings: Settings) -> int:
    state = running_server(settings)
    if not state:
        print("warehouse: not running")
        return 3
    answers = "answering" if port_answers(state["port"]) else "NOT answering"
    print(f"warehouse: running on {HOST}:{state['port']} (pid {state['pid']}, {answers}); log: {state['log']}")
    return 0
