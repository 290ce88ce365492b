"""The project environment for one lakehouse directory, from Python: what bin/lakehouse-env
exports for the shell (the Makefile, bin/dbt), for programs that start the project's commands
(the tests, the benchmarks). A test keeps the two equal (python_tests/test_local_stack.py)."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CLASS_ARCHIVE = REPO_ROOT / ".deps" / "cds" / "spark.jsa"


def java_options() -> str:
    """The JVM options bin/lakehouse-env gives every local Spark JVM: map the class archive."""
    if not CLASS_ARCHIVE.is_file():
        return ""
    return f"-XX:SharedArchiveFile={CLASS_ARCHIVE} -Xlog:cds*=off -Xlog:class+path*=off"


def project_env(lakehouse_dir: str | Path, base: dict[str, str] | None = None, **extra: str) -> dict[str, str]:
    """`base` (default: this process's environment) with the project's settings for `lakehouse_dir`."""
    lakehouse = Path(lakehouse_dir).resolve()
    env = dict(os.environ if base is None else base)
    env.update(
        {
            "LAKEHOUSE_HOME": str(REPO_ROOT),
            "LAKEHOUSE_DIR": str(lakehouse),
            "LAKEHOUSE_JARS": str(REPO_ROOT / ".deps" / "jars"),
            "LAKEHOUSE_LOG4J": str(REPO_ROOT / "setup" / "log4j2.properties"),
            "DBT_PROJECT_DIR": str(REPO_ROOT),
            "DBT_PROFILES_DIR": str(REPO_ROOT),
            "DBT_LOG_PATH": str(lakehouse / "logs"),
            "DBT_TARGET_PATH": str(lakehouse / "target"),
            "PATH": f"{REPO_ROOT / 'bin'}:{REPO_ROOT / '.venv' / 'bin'}:{env.get('PATH', '')}",
        }
    )
    env.setdefault("MALLOC_ARENA_MAX", "2")
    if "LAKEHOUSE_JAVA_OPTS" not in env and java_options():  # as bin/lakehouse-env: unset without an archive
        env["LAKEHOUSE_JAVA_OPTS"] = java_options()
    env.pop("DBT_TARGET", None)
    env.update(extra)
    return env
