"""Process and port helpers of the local stack (Linux /proc; a fallback elsewhere).

Used by the warehouse server's supervisor, the Kafka broker launcher, the dbt session and the
tests, which must leave nothing running: a service starts in a process group (session) of its
own, and stopping it means SIGTERM to the whole group, then SIGKILL after a grace period.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

HOST = "127.0.0.1"


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


def free_port() -> int:
    """A TCP port nothing listens on at 127.0.0.1 right now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def processes_mentioning(text: str) -> list[int]:
    """Live (non-zombie) processes other than this one whose command line contains `text`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError):
            continue
        if state not in ("Z", "X") and text in cmdline:
            found.append(int(entry.name))
    return found


def stop_process_group(process: subprocess.Popen, grace: float = 5.0) -> None:
    """SIGTERM the group a Popen(start_new_session=True) leads, SIGKILL what is left, reap it."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=grace)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # anything left in the group (e.g. a browser child)
    process.wait(timeout=grace)
