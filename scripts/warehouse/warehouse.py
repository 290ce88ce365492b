"""A local SQL warehouse: Spark's Thrift JDBC/ODBC server (from the pyspark wheel) with Delta,
the project's metastore and warehouse directory, bound to 127.0.0.1 only.

    python scripts/warehouse/warehouse.py start     # = make warehouse
    python scripts/warehouse/warehouse.py stop      # = make warehouse-stop
    python scripts/warehouse/warehouse.py status    # = make warehouse-status

Settings (environment; bin/lakehouse-env sets the first four):
    LAKEHOUSE_DIR               the local lakehouse: metastore_db/, warehouse/, bronze/, logs/
    LAKEHOUSE_JARS              Delta jars, put on the driver class path
    LAKEHOUSE_LOG4J             the project's log4j2 config (setup/log4j2.properties)
    LAKEHOUSE_JAVA_OPTS         extra JVM options: the class-data archive of `make setup`
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
import contextlib
import fcntl
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
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


# --- processes -------------------------------------------------------------------------------


def process_state(pid: int) -> str | None:
    """'alive', 'zombie' or None (gone). A zombie has exited; only its exit status is left."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return "alive"
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return "alive" if not Path("/proc/self").exists() else None
    return "zombie" if stat.rsplit(")", 1)[1].split()[0] in ("Z", "X") else "alive"


def is_running(pid: int) -> bool:
    return process_state(pid) == "alive"


def group_members(pgid: int) -> list[int]:
    """Live processes of a process group (Linux /proc; elsewhere just the leader)."""
    if not Path("/proc/self").exists():
        return [pgid] if is_running(pgid) else []
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if fields[0] not in ("Z", "X") and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        result = subprocess.run(["ps", "-o", "command=", "-p", str(pid)], capture_output=True, text=True)
        return result.stdout


def is_our_server(pid: int, settings: Settings) -> bool:
    cmd = command_line(pid)
    return SERVER_CLASS in cmd and str(settings.lakehouse_dir) in cmd


def listening_ports(pid: int) -> set[tuple[str, int]] | None:
    """(address, port) of the TCP sockets `pid` listens on, from /proc; None where /proc is missing."""
    fd_dir = Path(f"/proc/{pid}/fd")
    if not fd_dir.exists():
        return None
    inodes = set()
    for fd in fd_dir.iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError):
            for line in Path(table).read_text().splitlines()[1:]:
                cols = line.split()
                if cols[3] == "0A" and cols[9] in inodes:  # 0A = LISTEN
                    address, port = cols[1].split(":")
                    found.add((decode_address(address), int(port, 16)))
    return found


def decode_address(hex_address: str) -> str:
    """An address of /proc/net/tcp{,6} (little-endian 32-bit words) as text."""
    raw = bytes.fromhex(hex_address)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    if len(words) == 4:
        return socket.inet_ntop(socket.AF_INET, words)
    text = socket.inet_ntop(socket.AF_INET6, words)
    return text[7:] if text.startswith("::ffff:") and "." in text else text


def port_is_free(port: int) -> bool:
    """Whether a server could listen on 127.0.0.1:port (also false when 0.0.0.0:port is taken)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


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
    java_options = (
        f"-Dderby.system.home={d} -Dlog4j2.configurationFile={settings.log4j},{EXTRA_LOG4J} -Duser.timezone=UTC "
        # the class-data archive of `make setup` (bin/lakehouse-env), as for every local Spark JVM
        + os.environ.get("LAKEHOUSE_JAVA_OPTS", "")
    ).strip()
    conf = {
        "spark.app.name": "lakehouse-warehouse",
        "spark.driver.bindAddress": HOST,
        "spark.driver.host": HOST,
        "spark.driver.extraClassPath": f"{settings.jars_dir}/*",
        "spark.driver.extraJavaOptions": java_options,
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.warehouse.dir": str(d / "warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={d}/metastore_db;create=true",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": "4",
        "spark.databricks.delta.snapshotPartitions": "2",
        "spark.sql.sources.parallelPartitionDiscovery.parallelism": "2",
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


def terminate(pid: int, timeout: float) -> bool:
    """SIGTERM the process group of `pid` (the server leads its own), SIGKILL after `timeout`.
    True when nothing of it is left."""
    try:
        pgid = pid if os.getpgid(pid) == pid else None
    except ProcessLookupError:
        return True

    def send(sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig) if pgid else os.kill(pid, sig)

    def gone() -> bool:
        return not group_members(pgid) if pgid else not is_running(pid)

    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
        send(sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if gone():
                return True
            time.sleep(0.1)
    return gone()


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
