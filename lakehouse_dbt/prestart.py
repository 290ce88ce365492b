"""Start the `local` target's Spark JVM while dbt itself starts (bin/dbt).

A `bin/dbt build` on the `local` target spends its first seconds in Python (importing dbt,
reading the project) and only then, at its first statement, starts the Spark JVM and opens the
Derby metastore (~4-5 s more). Both are mostly CPU on their own core, so bin/dbt starts the
session in a background thread first, with the settings dbt-spark will ask for (the profile's
`server_side_parameters`, rendered here as dbt renders them: Jinja with `env_var`). dbt-spark's
session method calls `SparkSession.builder...getOrCreate()` before every statement, which then
waits for this session (the builder's lock) and uses it.

dbt's own rendering stays the authority: when it loads the profile, `check_profile_parameters`
compares its parameters with these; if they differ (a profile this renderer does not follow),
the pre-started session and its JVM are stopped before dbt's first statement and dbt starts its
own, as it would without this module, with a note on stderr naming the settings.

Measured on the 2,000-event sample (`bin/dbt build -s sales_by_day+`, alternating runs): 21.1-21.7 s
without, 18.9-19.7 s with.

Only for commands that open a connection, on a `session` spark target; anything this module
cannot read (another profile, a flag it does not know) leaves dbt to start Spark itself.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

# dbt commands that run SQL on the target (`docs` only as `docs generate`)
CONNECTING_COMMANDS = frozenset({"build", "run", "test", "seed", "snapshot", "show", "run-operation", "compile",
                                 "docs", "retry", "clone"})
PROFILE_NAME = "lakehouse"  # dbt_project.yml's profile

_started: dict[str, str] | None = None
_thread: threading.Thread | None = None
_session: object | None = None  # the SparkSession, once started


def _option(argv: Sequence[str], *names: str) -> str | None:
    for i, arg in enumerate(argv):
        for name in names:
            if arg == name and i + 1 < len(argv):
                return argv[i + 1]
            if arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return None


def render_profile_value(template: object, environ: Mapping[str, str]) -> str:
    """A profiles.yml value as dbt renders it (Jinja with env_var; a missing variable without a
    default is an error, as in dbt)."""
    import jinja2

    def env_var(name: str, default: str | None = None) -> str:
        if name in environ:
            return environ[name]
        if default is None:
            raise KeyError(name)
        return default

    return jinja2.Environment().from_string(str(template)).render(env_var=env_var)


def session_parameters(argv: Sequence[str], environ: Mapping[str, str]) -> dict[str, str] | None:
    """The `server_side_parameters` dbt-spark will open its session with for `dbt ARGV`, or None
    when the command opens no Spark session in this process (or this cannot tell)."""
    words = [arg for arg in argv if not arg.startswith("-")]
    if not argv or argv[0].startswith("-") or argv[0] not in CONNECTING_COMMANDS:
        return None  # global flags before the command, --help, parse, ls, debug, ...
    if argv[0] == "docs" and words[1:2] != ["generate"]:
        return None
    if any(arg in ("-h", "--help") for arg in argv) or _option(argv, "--profile") not in (None, PROFILE_NAME):
        return None
    profiles_dir = _option(argv, "--profiles-dir") or environ.get("DBT_PROFILES_DIR") or os.getcwd()
    try:
        import yaml

        profile = yaml.safe_load((Path(profiles_dir) / "profiles.yml").read_text())[PROFILE_NAME]
        target = _option(argv, "--target", "-t") or render_profile_value(profile["target"], environ)
        output = profile["outputs"][target]
        if output.get("type") != "spark" or output.get("method") != "session":
            return None
        return {str(key): render_profile_value(value, environ) for key, value in (output.get("server_side_parameters") or {}).items()}
    except Exception:  # noqa: BLE001 - dbt reports a broken profile itself, naming it
        return None


def _start(parameters: dict[str, str]) -> None:
    global _session
    try:
        from pyspark.sql import SparkSession

        builder = SparkSession.builder.enableHiveSupport()  # as dbt-spark's session method builds it
        for key, value in parameters.items():
            builder = builder.config(key, value)
        _session = builder.getOrCreate()
        # the metastore opens at the first catalog call: open it now too, while dbt parses
        _session.sql("show databases").collect()
    except Exception:  # noqa: BLE001 - dbt's first statement starts (and reports) Spark itself
        pass


def prestart(argv: Sequence[str], environ: Mapping[str, str] | None = None) -> bool:
    """Start the session `dbt ARGV` will use in a background thread; True when one is starting."""
    global _started, _thread
    parameters = session_parameters(argv, os.environ if environ is None else environ)
    if parameters is None:
        return False
    _started = parameters
    _thread = threading.Thread(target=_start, args=(parameters,), name="lakehouse-spark-prestart", daemon=True)
    _thread.start()
    return True


def differences(profile: Mapping[str, str], started: Mapping[str, str]) -> list[str]:
    """The settings whose values differ between dbt's parameters and the pre-started session's."""
    return sorted(key for key in set(profile) | set(started) if str(profile.get(key)) != str(started.get(key)))


def check_profile_parameters(parameters: Mapping[str, str]) -> None:
    """Called with dbt's own rendered `server_side_parameters`: a pre-started session with other
    settings is stopped, so dbt's first statement starts one with dbt's."""
    global _started
    if _started is None:
        return
    differing = differences(parameters, _started)
    _started = None
    if not differing:
        return
    print(f"lakehouse: the pre-started Spark session differs from the profile in {', '.join(differing)}; "
          "starting dbt's own", file=sys.stderr)
    if _thread is not None:
        _thread.join()
    if _session is not None:
        _session.stop()
    # the JVM too: its heap, class path and options were fixed when it was launched
    from pyspark import SparkContext

    gateway = SparkContext._gateway  # noqa: SLF001 - pyspark's own handle on the JVM it launched
    if gateway is not None:
        gateway.shutdown()
        process = getattr(gateway, "proc", None)
        if process is not None:
            process.terminate()
            process.wait(timeout=60)
        SparkContext._gateway = None  # noqa: SLF001 - the next session launches a new JVM
        SparkContext._jvm = None  # noqa: SLF001
