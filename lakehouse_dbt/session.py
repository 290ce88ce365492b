"""Several dbt commands in one process: one Spark JVM, started once and warm for the next command.

Every `bin/dbt` command on the `local` target starts a Spark JVM (~10-15 s) whose code then runs
cold (interpreted until the JIT compiles it). dbt-spark's session method takes the SparkSession
of its own process when there is one, so dbt commands invoked one after another in one Python
process (`dbtRunner`) share one JVM: the second command skips the start and runs warm.

    with DbtSession(env=..., cwd=...) as dbt:      # starts `python -m lakehouse_dbt.session`
        dbt.run("seed")
        result = dbt.run("build", "--select", "sales_by_day+")
        result.returncode, result.stdout             # like subprocess.run(..., capture_output=True)

The server reads one JSON request per line on stdin (`{"args": [...]}`) and answers each with
one JSON line on the file descriptor it was given (`--answers FD`): the exit code dbt's own CLI
would give (0 ok, 1 failed nodes, 2 error) and what dbt printed. It holds the lakehouse's Derby
metastore while it lives, like any dbt command: close it before another Spark process needs it.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass
class DbtResult:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str = ""


class DbtSessionError(RuntimeError):
    pass


class DbtSession:
    """A `python -m lakehouse_dbt.session` server; `run()` sends it one dbt command and waits."""

    def __init__(self, env: dict[str, str], cwd: str | Path, python: str = sys.executable,
                 stderr_path: str | Path | None = None) -> None:
        self.env, self.cwd, self.python = env, Path(cwd), python
        self.stderr_path = Path(stderr_path) if stderr_path else self.cwd / "logs" / "dbt-session.err"
        self.process: subprocess.Popen | None = None
        self._answers: io.TextIOWrapper | None = None

    def __enter__(self) -> DbtSession:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> DbtSession:
        read_fd, write_fd = os.pipe()
        self.stderr_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.stderr_path, "ab") as err:
            self.process = subprocess.Popen(
                [self.python, "-m", "lakehouse_dbt.session", "--answers", str(write_fd)],
                env=self.env, cwd=self.cwd, stdin=subprocess.PIPE, stdout=err, stderr=err,
                pass_fds=(write_fd,), text=True, start_new_session=True,
            )
        os.close(write_fd)
        self._answers = os.fdopen(read_fd, "r", encoding="utf-8")
        return self

    def run(self, *args: str) -> DbtResult:
        if self.process is None or self.process.poll() is not None or self.process.stdin is None:
            raise DbtSessionError(f"the dbt session is not running (see {self.stderr_path})")
        self.process.stdin.write(json.dumps({"args": list(args)}) + "\n")
        self.process.stdin.flush()
        line = self._answers.readline() if self._answers else ""
        if not line:
            code = self.process.wait(timeout=30)
            tail = self.stderr_path.read_text(errors="replace")[-4000:]
            raise DbtSessionError(f"the dbt session exited ({code}) during `dbt {' '.join(args)}`:\n{tail}")
        answer = json.loads(line)
        return DbtResult(list(args), answer["returncode"], answer["stdout"])

    def close(self, grace: float = 60.0) -> None:
        """End the server (it stops its SparkSession); kill its process group if it hangs."""
        process, self.process = self.process, None
        if process is None:
            return
        try:
            if process.poll() is None and process.stdin is not None:
                with contextlib.suppress(BrokenPipeError, OSError):
                    process.stdin.close()
                process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        finally:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)  # the JVM child too, if anything is left
            process.wait(timeout=grace)
            if self._answers is not None:
                self._answers.close()
                self._answers = None


def serve(answers_fd: int) -> int:
    """Run dbt commands read from stdin until it closes, answering on `answers_fd`."""
    from lakehouse_dbt import honour_profile_ansi_mode

    honour_profile_ansi_mode()
    from dbt.cli.main import dbtRunner

    answers = os.fdopen(answers_fd, "w", encoding="utf-8")
    for line in sys.stdin:
        if not line.strip():
            continue
        args = json.loads(line)["args"]
        output = io.StringIO()
        with contextlib.redirect_stdout(output):  # dbt's console log writes to sys.stdout
            try:
                result = dbtRunner().invoke(args)
                code = 0 if result.success else (2 if result.exception is not None else 1)
                if result.exception is not None:
                    print(f"{type(result.exception).__name__}: {result.exception}")
            except Exception as error:  # noqa: BLE001 - answer it, keep serving
                code = 2
                print(f"{type(error).__name__}: {error}")
        answers.write(json.dumps({"returncode": code, "stdout": output.getvalue()}) + "\n")
        answers.flush()
    _stop_spark()
    return 0


def _stop_spark() -> None:
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    if SparkContext._active_spark_context is not None:  # noqa: SLF001 - a command started Spark
        SparkSession.builder.getOrCreate().stop()


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "--answers":
        sys.exit("usage: python -m lakehouse_dbt.session --answers FD (see lakehouse_dbt/session.py)")
    sys.exit(serve(int(sys.argv[2])))
