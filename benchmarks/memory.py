"""Peak resident memory of process trees, sampled from /proc (Linux)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        except (OSError, ValueError):
            continue
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _cmdline(pid: int) -> bytes | None:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None


def is_unexeced_fork(pid: int, parent: int) -> bool:
    """A child that has not exec'd yet: the JVM starts a helper command (Hadoop's `Shell`)
    with posix_spawn, whose child shares the parent's memory (vfork) until it execs, and /proc
    shows it with the parent's command line and the parent's whole RSS. Counting it would
    double the JVM for that instant; it holds no memory of its own."""
    own = _cmdline(pid)
    return own is not None and own == _cmdline(parent)


def tree_rss(pid: int, tree: dict[int, list[int]] | None = None) -> int:
    """RSS in bytes of a process and all its descendants (JVMs included), not counting
    children that have not exec'd yet (is_unexeced_fork)."""
    tree = tree if tree is not None else _children()
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            total += int(Path(f"/proc/{current}/statm").read_text().split()[1]) * PAGE
        except (OSError, ValueError, IndexError):
            pass
        stack.extend(child for child in tree.get(current, []) if not is_unexeced_fork(child, current))
    return total


class PeakSampler(threading.Thread):
    """Samples named process trees every `interval` s; `.peaks` maps name → peak bytes,
    `.total_peak` is the peak of their sum (what the machine had to hold at once)."""

    def __init__(self, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.pids: dict[str, int] = {}
        self.peaks: dict[str, int] = {}
        self.total_peak = 0
        self._stopping = threading.Event()  # not _stop: threading.Thread uses that name
        self.exclude_children: dict[str, set[int]] = {}

    def watch(self, name: str, pid: int) -> None:
        self.pids[name] = pid

    def run(self) -> None:
        while not self._stopping.is_set():
            tree = _children()
            values = {}
            claimed: set[int] = set(self.pids.values())
            for name, pid in list(self.pids.items()):
                # a watched child of another watched process counts only for itself
                sub = {k: [c for c in v if c not in claimed or c == pid] for k, v in tree.items()}
                values[name] = tree_rss(pid, sub)
            for name, value in values.items():
                self.peaks[name] = max(self.peaks.get(name, 0), value)
            self.total_peak = max(self.total_peak, sum(values.values()))
            time.sleep(self.interval)

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=5)


def gib(value: int) -> str:
    return f"{value / 2**30:.2f} GiB"


def sample_group(pgid: int) -> tuple[int, dict[int, float]]:
    """(resident bytes, {pid: CPU seconds so far}) of every live process in a process group.
    A child that has not exec'd yet shares its parent's memory and is not counted (see
    is_unexeced_fork)."""
    rss = 0
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[2]) != pgid:
                continue
            cpu[int(entry)] = (int(stat[11]) + int(stat[12])) / CLOCK_TICKS
            if is_unexeced_fork(int(entry), int(stat[1])):
                continue
            for line in Path(f"/proc/{entry}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss += int(line.split()[1]) * 1024
        except (OSError, IndexError, ValueError):
            continue
    return rss, cpu
