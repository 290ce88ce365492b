"""Files sink: whole files only (temp name + rename), rolled by events/bytes, sortable names."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from python_tests.producer.producer_contract import REPO_ROOT, landing_lines, produce_to_files

from producer.config import FilesSinkConfig
from producer.sinks.files import FilesSink

START = "2026-11-20T00:00:00Z"


def visible_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if not p.name.startswith((".", "_")))


def check_whole(path: Path) -> int:
    """A visible file parses line by line and ends with a newline; returns its line count."""
    data = path.read_bytes()
    assert data.endswith(b"\n"), path
    lines = data.decode("utf-8")[:-1].split("\n")
    for line in lines:
        json.loads(line)
    return len(lines)


def test_files_are_hidden_until_whole(tmp_path: Path) -> None:
    sink = FilesSink(FilesSinkConfig(tmp_path, max_events=250, max_seconds=0))
    sent_lines = [json.dumps({"n": n}) for n in range(1000)]
    for start in range(0, 1000, 100):
        sink.send(sent_lines[start:start + 100], [None] * 100)
        published = visible_files(tmp_path)
        assert len(published) == (start + 100) // 250
        assert [check_whole(p) for p in published] == [250] * len(published)
        hidden = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
        assert len(hidden) == (1 if (start + 100) % 250 else 0)
        assert sink.sent == len(published) * 250
    sink.close()
    assert [p.name.startswith(".") for p in tmp_path.iterdir()].count(True) == 0
    assert landing_lines(tmp_path) == sent_lines
    assert sink.sent == 1000 and sink.failed == 0


def test_roll_by_bytes(tmp_path: Path) -> None:
    sink = FilesSink(FilesSinkConfig(tmp_path, max_events=10_000, max_bytes=1000, max_seconds=0))
    lines = ["x" * 99] * 25  # 100 bytes per line with its newline
    sink.send(lines[:7], [None] * 7)
    sink.send(lines[7:], [None] * 18)
    sink.close()
    assert [p.stat().st_size for p in visible_files(tmp_path)] == [1000, 1000, 500]
    # a line bigger than the limit still gets a file of its own
    big = FilesSink(FilesSinkConfig(tmp_path / "big", max_bytes=10, max_seconds=0))
    big.send(["y" * 30, "z"], [None, None])
    big.close()
    assert [p.read_text() for p in visible_files(tmp_path / "big")] == ["y" * 30 + "\n", "z\n"]


def test_roll_by_time(tmp_path: Path) -> None:
    sink = FilesSink(FilesSinkConfig(tmp_path, max_events=1000, max_seconds=0.2))
    sink.send(['{"a":1}'], [None])
    assert visible_files(tmp_path) == []
    time.sleep(0.25)
    sink.poll()
    assert [p.read_text() for p in visible_files(tmp_path)] == ['{"a":1}\n']
    sink.close()
    assert len(visible_files(tmp_path)) == 1


def test_names_sort_in_write_order(tmp_path: Path) -> None:
    lines, summary = produce_to_files(tmp_path, "--total", "25000", "--start", START,
                                      "--file-max-events", "3000")
    names = [p.name for p in visible_files(tmp_path / "landing")]
    assert len(names) == 9
    assert [name[-12:] for name in names] == [f"-{seq:06d}.json" for seq in range(1, 10)]
    assert len({name[:-12] for name in names}) == 1  # one run: sales-<run start>
    assert len(lines) == summary["sent"] == 25000
    assert [check_whole(tmp_path / "landing" / name) for name in names] == [3000] * 8 + [1000]


def test_concurrent_reader_never_sees_a_partial_file(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    stop = threading.Event()
    seen: dict[str, int] = {}
    errors: list[str] = []

    def reader() -> None:
        while not stop.is_set():
            for path in visible_files(landing):
                try:
                    count = check_whole(path)
                except FileNotFoundError:
                    continue
                except (AssertionError, ValueError, UnicodeDecodeError) as error:
                    errors.append(f"{path.name}: {error!r}")
                    continue
                if seen.setdefault(path.name, count) != count:
                    errors.append(f"{path.name} changed after it appeared")

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "producer", "events", "--total", "200000", "--start", START,
             "--landing-dir", str(landing), "--file-max-events", "4000", "--quiet"],
            capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    finally:
        stop.set()
        thread.join()
    assert result.returncode == 0, result.stderr
    assert errors == []
    seen_while_writing = len(seen)
    assert seen_while_writing >= 1  # the reader did poll during the write
    final = {path.name: check_whole(path) for path in visible_files(landing)}
    assert {name: final[name] for name in seen} == seen  # nothing changed after it appeared
    assert len(final) == 50 and sum(final.values()) == 200000
