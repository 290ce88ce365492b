"""bin/dbt starts the `local` target's Spark JVM while dbt starts (lakehouse_dbt/prestart.py):

- it starts one only for commands that run SQL on a spark `session` target;
- its settings are the ones dbt itself renders from profiles.yml, in both size modes (dbt's own
  profile loading is what they are compared with);
- when they differ, dbt does not run on the pre-started session: that session and its JVM stop,
  and dbt's own session (a new JVM with dbt's settings) runs the command.
"""

from __future__ import annotations

import os
import sys

import pytest

from lakehouse_dbt import prestart
from python_tests.conftest import REPO_ROOT, project_env, run


@pytest.mark.parametrize(("argv", "starts"), [
    (["build", "-s", "sales_by_day+"], True),
    (["seed"], True),
    (["show", "--inline", "select 1"], True),
    (["docs", "generate"], True),
    (["docs", "serve"], False),
    (["parse"], False),
    (["ls"], False),
    (["debug"], False),
    (["build", "--help"], False),
    (["--quiet", "build"], False),  # a global flag first: this cannot tell the command, dbt starts Spark
    (["build", "--target", "databricks"], False),
    (["build", "-t", "warehouse"], False),
    (["build", "--target=local"], True),
    (["build", "--profile", "other"], False),
    ([], False),
])
def test_only_commands_that_run_sql_on_the_session_target_start_spark(tmp_path, argv, starts):
    environment = project_env(tmp_path)
    assert (prestart.session_parameters(argv, environment) is not None) is starts
    environment["DBT_TARGET"] = "databricks"
    assert prestart.session_parameters(["build"], environment) is None


@pytest.mark.dbt
@pytest.mark.parametrize("small_data", ["0", "1"])
def test_the_pre_started_settings_are_the_ones_dbt_renders(tmp_path, monkeypatch, small_data):
    environment = project_env(tmp_path, LAKEHOUSE_SMALL_DATA=small_data, DBT_TARGET_PATH=str(tmp_path / "target"))
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    rendered: list[dict[str, str]] = []
    monkeypatch.setattr(prestart, "check_profile_parameters", lambda parameters: rendered.append(dict(parameters)))
    from dbt.cli.main import dbtRunner

    from lakehouse_dbt import honour_profile_ansi_mode

    honour_profile_ansi_mode()
    assert dbtRunner().invoke(["--quiet", "parse"]).success
    expected = prestart.session_parameters(["build"], os.environ)
    assert rendered == [expected]
    assert expected["spark.sql.ansi.enabled"] == "true"
    assert expected["spark.sql.adaptive.enabled"] == ("false" if small_data == "1" else "true")


DIFFERING_SESSION = """
import os, sys
from lakehouse_dbt import honour_profile_ansi_mode, prestart
# the pre-start renders another driver memory than dbt will (dbt reads the real environment)
assert prestart.prestart(["show"], dict(os.environ, LAKEHOUSE_DRIVER_MEMORY="600m"))
honour_profile_ansi_mode()
from dbt.cli.main import dbtRunner
result = dbtRunner().invoke(["show", "--inline", "select 41 + 1 as answer"])
assert result.success, result.exception
from pyspark.sql import SparkSession
session = SparkSession.builder.getOrCreate()
heap = session.sparkContext._jvm.java.lang.Runtime.getRuntime().maxMemory()
print("answer", result.result.results[0].agate_table.rows[0][0])
print("memory", session.conf.get("spark.driver.memory"), "heap_mib", heap // 2**20)
"""


@pytest.mark.spark
@pytest.mark.dbt
def test_a_session_with_other_settings_is_replaced_by_dbts_own(tmp_path):
    environment = project_env(tmp_path, LAKEHOUSE_DRIVER_MEMORY="1g")
    result = run([sys.executable, "-c", DIFFERING_SESSION], env=environment, cwd=REPO_ROOT, timeout=300)
    assert "the pre-started Spark session differs from the profile in spark.driver.memory; starting dbt's own" \
        in result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines() if line.startswith(("answer", "memory")))
    assert lines["answer"] == "42"
    memory, _, heap = lines["memory"].split()
    assert memory == "1g"
    # a 1 GiB heap (the JVM reports a little less), not the pre-started JVM's 600 MiB
    assert 900 <= int(heap) <= 1024
