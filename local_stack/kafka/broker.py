"""A real single-node Apache Kafka broker (KRaft, combined broker + controller) for local tests.

The jars come from Maven Central (``local_stack/kafka/pom.xml``), resolved once into
``<repo>/.deps/kafka/``. Each broker gets its own temp dir (config, data, logs, ``broker.json``
state file) and two free ports on 127.0.0.1, so several brokers can run at once.

From Python (tests)::

    from local_stack.kafka.broker import KafkaBroker

    with KafkaBroker() as broker:
        producer = confluent_kafka.Producer({"bootstrap.servers": broker.bootstrap})

From a shell: ``local_stack/kafka/broker.sh start|stop|status [--name NAME]`` (``start`` prints
``bootstrap=127.0.0.1:<port>``). Standard library only (and local_stack.processes).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from local_stack.processes import free_port, is_running

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
DEFAULT_DEPS_DIR = REPO_ROOT / ".deps" / "kafka"
MAVEN_SETTINGS = REPO_ROOT / "setup" / "maven-settings.xml"
LOG4J_CONFIG = HERE / "log4j.properties"
STATE_FILE = "broker.json"
MAIN_CLASS = "kafka.Kafka"
STORAGE_TOOL = "kafka.tools.StorageTool"


class BrokerError(RuntimeError):
    """The broker could not be set up, started or stopped; the message is one line."""


def ensure_jars(deps_dir: Path = DEFAULT_DEPS_DIR) -> Path:
    """Resolve the broker's jars into ``deps_dir`` once (cached; safe under concurrency)."""
    if any(deps_dir.glob("kafka_2.13-*.jar")):
        return deps_dir
    deps_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(deps_dir.parent / ".kafka-deps.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if any(deps_dir.glob("kafka_2.13-*.jar")):
            return deps_dir
        staging = Path(tempfile.mkdtemp(prefix=".kafka-", dir=deps_dir.parent))
        command = ["mvn", "-q", "-B", "-s", str(MAVEN_SETTINGS), "-f", str(HERE / "pom.xml"),
                   "dependency:copy-dependencies", f"-DoutputDirectory={staging}",
                   "-DincludeScope=runtime"]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=900)
        except (OSError, subprocess.TimeoutExpired) as error:
            shutil.rmtree(staging, ignore_errors=True)
            raise BrokerError(f"resolving Kafka jars with Maven failed: {error}") from None
        if result.returncode != 0 or not any(staging.glob("kafka_2.13-*.jar")):
            shutil.rmtree(staging, ignore_errors=True)
            last = (result.stdout + result.stderr).strip().splitlines()[-1:] or ["no output"]
            raise BrokerError(f"resolving Kafka jars with Maven failed: {last[0]}")
        if deps_dir.exists():
            shutil.rmtree(deps_dir)
        staging.rename(deps_dir)
    return deps_dir


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("connection closed")
        data += chunk
    return data


def answers_api_versions(host: str, port: int, timeout: float = 2.0) -> bool:
    """True when a Kafka broker at host:port answers an ApiVersions (v0) request without error.

    The broker only serves requests once it has started (registered, metadata caught up), so
    this is a readiness check, not just a TCP connect.
    """
    client_id = b"broker-probe"
    body = struct.pack(">hhih", 18, 0, 7, len(client_id)) + client_id
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(struct.pack(">i", len(body)) + body)
            (size,) = struct.unpack(">i", _recv_exact(sock, 4))
            correlation_id, error_code = struct.unpack(">ih", _recv_exact(sock, size)[:6])
    except (OSError, ConnectionError, struct.error):
        return False
    return correlation_id == 7 and error_code == 0


class KafkaBroker:
    """Context manager running one broker; ``bootstrap`` is ``127.0.0.1:<port>``."""

    def __init__(self, *, partitions: int = 3, heap: str = "512m", startup_timeout: float = 120.0,
                 deps_dir: Path = DEFAULT_DEPS_DIR, java: str | None = None) -> None:
        self.partitions = partitions
        self.heap = heap
        self.startup_timeout = startup_timeout
        self.deps_dir = deps_dir
        self.java = java or (str(Path(os.environ["JAVA_HOME"]) / "bin" / "java")
                             if os.environ.get("JAVA_HOME") else "java")
        self.dir: Path | None = None
        self.port: int | None = None
        self.controller_port: int | None = None
        self.pid: int | None = None
        self._process: subprocess.Popen | None = None

    @property
    def bootstrap(self) -> str:
        if self.port is None:
            raise BrokerError("broker not started")
        return f"127.0.0.1:{self.port}"

    # -- lifecycle ----------------------------------------------------------------------------

    def __enter__(self) -> "KafkaBroker":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> "KafkaBroker":
        deps = ensure_jars(self.deps_dir)
        self.dir = Path(tempfile.mkdtemp(prefix="lakehouse-kafka-"))
        try:
            for attempt in range(3):
                self.port, self.controller_port = free_port(), free_port()
                self._write_config()
                self._format(deps)
                self._launch(deps)
                if self._wait_ready(last_attempt=attempt == 2):
                    break
            self._write_state()
        except BaseException:
            self.stop()
            raise
        return self

    def _classpath(self, deps: Path) -> str:
        return str(deps / "*")

    def _write_config(self) -> None:
        assert self.dir is not None
        data = self.dir / "data"
        shutil.rmtree(data, ignore_errors=True)
        (self.dir / "logs").mkdir(exist_ok=True)
        properties = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(data),
            "num.partitions": str(self.partitions),
            "auto.create.topics.enable": "true",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "3",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "num.network.threads": "2",
            "num.io.threads": "4",
            "log.flush.interval.messages": str(2**62),
            "delete.topic.enable": "true",
        }
        text = "".join(f"{key}={value}\n" for key, value in properties.items())
        (self.dir / "server.properties").write_text(text)

    def _java(self, deps: Path, main_class: str, *args: str) -> list[str]:
        assert self.dir is not None
        return [
            self.java, f"-Xmx{self.heap}", "-Xms128m", "-XX:+UseG1GC", "-Djava.awt.headless=true",
            f"-Dlog4j.configuration=file:{LOG4J_CONFIG}", f"-Dkafka.logs.dir={self.dir / 'logs'}",
            "-cp", self._classpath(deps), main_class, *args,
        ]

    def _format(self, deps: Path) -> None:
        assert self.dir is not None
        # Kafka's cluster ids are url-safe base64 of 16 bytes; one starting with '-' would be
        # read as an option by the storage tool, so draw until it does not.
        cluster_id = "-"
        while cluster_id.startswith("-"):
            cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        command = self._java(deps, STORAGE_TOOL, "format", "-t", cluster_id,
                             "-c", str(self.dir / "server.properties"), "--ignore-formatted")
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise BrokerError(f"formatting Kafka storage failed: {error}") from None
        if result.returncode != 0:
            last = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
            raise BrokerError(f"formatting Kafka storage failed: {last[0]}")

    def _launch(self, deps: Path) -> None:
        assert self.dir is not None
        command = self._java(deps, MAIN_CLASS, str(self.dir / "server.properties"))
        with open(self.dir / "logs" / "console.log", "ab") as console:
            self._process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT,
                cwd=self.dir, start_new_session=True)
        self.pid = self._process.pid

    def _log_tail(self) -> str:
        assert self.dir is not None
        lines: list[str] = []
        for name in ("server.log", "console.log"):
            path = self.dir / "logs" / name
            if path.exists():
                lines += [line for line in path.read_text(errors="replace").splitlines()
                          if "ERROR" in line or "Exception" in line]
        return lines[-1].strip() if lines else "no error in the broker log"

    def _wait_ready(self, last_attempt: bool) -> bool:
        """True when ready; False to retry on new ports (port taken); raises on timeout."""
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if answers_api_versions("127.0.0.1", self.port or 0, timeout=1.0):
                return True
            code = self._process.poll()
            if code is not None:
                tail = self._log_tail()
                if not last_attempt and ("BindException" in tail or "Address already in use" in tail):
                    return False
                raise BrokerError(f"kafka broker exited with status {code} during start-up: {tail}")
            time.sleep(0.25)
        tail = self._log_tail()
        raise BrokerError(f"kafka broker did not accept connections on {self.bootstrap} within "
                          f"{self.startup_timeout:g}s: {tail}")

    def _write_state(self) -> None:
        assert self.dir is not None
        state = {"pid": self.pid, "port": self.port, "controller_port": self.controller_port,
                 "bootstrap": self.bootstrap, "dir": str(self.dir)}
        (self.dir / STATE_FILE).write_text(json.dumps(state) + "\n")

    @classmethod
    def attach(cls, state_dir: Path) -> "KafkaBroker":
        """A handle on a broker started by another process (from its ``broker.json``)."""
        state = json.loads((state_dir / STATE_FILE).read_text())
        broker = cls()
        broker.dir = Path(state["dir"])
        broker.port = state["port"]
        broker.controller_port = state["controller_port"]
        broker.pid = state["pid"]
        return broker

    def is_running(self) -> bool:
        if self.pid is None or not is_running(self.pid):
            return False
        try:  # the pid is ours only if its command line names our temp dir
            cmdline = Path(f"/proc/{self.pid}/cmdline").read_bytes()
        except OSError:
            return False
        return self.dir is not None and str(self.dir).encode() in cmdline

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the broker (SIGTERM, then SIGKILL), wait until it is gone, remove its temp dir."""
        if self.pid is not None and self.is_running():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while self._alive() and time.monotonic() < deadline:
                time.sleep(0.1)
            if self._alive():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pid, signal.SIGKILL)
                deadline = time.monotonic() + 10
                while self._alive() and time.monotonic() < deadline:
                    time.sleep(0.1)
            if self._alive():
                raise BrokerError(f"kafka broker pid {self.pid} did not exit")
        if self._process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout=1)
            self._process = None
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
        self.pid = None

    def _alive(self) -> bool:
        if self._process is not None:
            return self._process.poll() is None
        return self.pid is not None and is_running(self.pid)
