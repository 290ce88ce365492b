"""The local stack's one-source rules: each shared Spark setting is written once and the three
local Spark JVMs (the job, dbt's `local` target, the warehouse server) get the same value; the
Python project environment is bin/lakehouse-env's; nothing imports the old `scripts` folder."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from lakehouse_dbt.prestart import render_profile_value
from local_stack.env import project_env
from local_stack.warehouse.server import server_command
from local_stack.warehouse.settings import Settings
from python_tests.conftest import REPO_ROOT
from streaming_ingest.spark_session import (
    LOCAL_SPARK_SETTINGS, SMALL_DATA_JAVA_OPTIONS, SMALL_DATA_SPARK_SETTINGS, local_spark_conf, small_data,
)


def test_dbt_local_target_has_the_shared_spark_settings():
    profile = yaml.safe_load((REPO_ROOT / "profiles.yml").read_text())
    params = profile["lakehouse"]["outputs"]["local"]["server_side_parameters"]
    assert {key: params.get(key) for key in LOCAL_SPARK_SETTINGS} == LOCAL_SPARK_SETTINGS


def test_the_job_and_the_warehouse_server_have_the_shared_spark_settings(tmp_path):
    job = local_spark_conf("probe")
    assert {key: job[key] for key in LOCAL_SPARK_SETTINGS} == LOCAL_SPARK_SETTINGS
    settings = Settings(lakehouse_dir=tmp_path, jars_dir=tmp_path, log4j=tmp_path / "log4j2.properties", port=10000,
                        driver_memory="1g", start_timeout=1, stop_timeout=1)
    command = server_command(settings, Path("/spark"))
    conf = dict(command[i + 1].split("=", 1) for i, arg in enumerate(command) if arg == "--conf")
    assert {key: conf[key] for key in LOCAL_SPARK_SETTINGS} == LOCAL_SPARK_SETTINGS


@pytest.mark.parametrize("mode", ["1", "0", None])
def test_small_data_mode_gives_the_three_jvms_the_same_settings(tmp_path, monkeypatch, mode):
    monkeypatch.delenv("LAKEHOUSE_SMALL_DATA", raising=False)
    if mode is not None:
        monkeypatch.setenv("LAKEHOUSE_SMALL_DATA", mode)
    expected = {key: values[0 if mode == "1" else 1] for key, values in SMALL_DATA_SPARK_SETTINGS.items()}
    environment = {"LAKEHOUSE_DIR": "/l", "LAKEHOUSE_LOG4J": "/l4j", "LAKEHOUSE_JAVA_OPTS": "-Xshare:auto",
                   **({"LAKEHOUSE_SMALL_DATA": mode} if mode is not None else {})}
    monkeypatch.setenv("LAKEHOUSE_JAVA_OPTS", "-Xshare:auto")
    profile = yaml.safe_load((REPO_ROOT / "profiles.yml").read_text())
    params = profile["lakehouse"]["outputs"]["local"]["server_side_parameters"]
    dbt = {key: render_profile_value(params[key], environment) for key in SMALL_DATA_SPARK_SETTINGS}
    job = local_spark_conf("probe")
    settings = Settings(lakehouse_dir=tmp_path, jars_dir=tmp_path, log4j=tmp_path / "log4j2.properties", port=10000,
                        driver_memory="1g", start_timeout=1, stop_timeout=1)
    command = server_command(settings, Path("/spark"))
    server = dict(command[i + 1].split("=", 1) for i, arg in enumerate(command) if arg == "--conf")
    for conf in (dbt, job, server):
        assert {key: conf[key] for key in SMALL_DATA_SPARK_SETTINGS} == expected
    java = [render_profile_value(params["spark.driver.extraJavaOptions"], environment),
            job["spark.driver.extraJavaOptions"], server["spark.driver.extraJavaOptions"]]
    for options in java:
        for option in SMALL_DATA_JAVA_OPTIONS.split():
            assert options.split().count(option) == (1 if mode == "1" else 0), options
        assert "-Xshare:auto" in options.split()


def test_dbt_picks_small_data_mode_from_bronzes_size_unless_told(tmp_path, monkeypatch):
    """Unset, dbt's mode follows bronze's data files (the log and other files do not count);
    an explicit 0 or 1 wins whatever the size."""
    from streaming_ingest.spark_session import SMALL_DATA_AUTO_MAX_BYTES, bronze_data_bytes, settle_small_data

    bronze = tmp_path / "bronze"
    (bronze / "_delta_log").mkdir(parents=True)
    (bronze / "_delta_log" / "00000000000000000000.json").write_bytes(b"x" * (SMALL_DATA_AUTO_MAX_BYTES + 1))
    (bronze / "ingest_date=2026-11-14").mkdir()
    data = bronze / "ingest_date=2026-11-14" / "part-00000.snappy.parquet"
    data.write_bytes(b"x" * SMALL_DATA_AUTO_MAX_BYTES)
    assert bronze_data_bytes(bronze) == SMALL_DATA_AUTO_MAX_BYTES
    cases = [("", bronze, True), ("", tmp_path / "none-yet", True), ("0", bronze, False)]
    for value, path, expected in cases:
        monkeypatch.setenv("LAKEHOUSE_SMALL_DATA", value)
        assert settle_small_data(path) is expected
        assert os.environ["LAKEHOUSE_SMALL_DATA"] == ("1" if expected else "0")
    (bronze / "part-00001.snappy.parquet").write_bytes(b"x")  # one byte over the limit
    for value, expected in [("", False), ("1", True)]:
        monkeypatch.setenv("LAKEHOUSE_SMALL_DATA", value)
        assert settle_small_data(bronze) is expected


def test_a_bad_small_data_value_stops_naming_the_setting(monkeypatch):
    monkeypatch.setenv("LAKEHOUSE_SMALL_DATA", "yes")
    with pytest.raises(SystemExit, match="LAKEHOUSE_SMALL_DATA='yes': use 1"):
        small_data()
    result = subprocess.run([str(REPO_ROOT / "bin" / "dbt"), "--version"], capture_output=True, text=True,
                            env={**project_env(REPO_ROOT / ".lakehouse"), "LAKEHOUSE_SMALL_DATA": "yes"}, timeout=120)
    assert result.returncode == 1
    assert "LAKEHOUSE_SMALL_DATA='yes': use 1 (small-data mode) or 0 (off)" in result.stderr


def test_the_python_project_environment_is_bin_lakehouse_env(tmp_path):
    lakehouse = tmp_path / "lakehouse"
    shell = subprocess.run(
        ["bash", "-c", f'export LAKEHOUSE_DIR="{lakehouse}" && source bin/lakehouse-env && env -0'],
        cwd=REPO_ROOT, capture_output=True, check=True, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    ).stdout.decode()
    from_shell = dict(item.split("=", 1) for item in shell.split("\0") if "=" in item)
    from_python = project_env(lakehouse, base={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    # the one difference on purpose: each test lakehouse keeps its own dbt target/ folder
    assert from_shell.pop("DBT_TARGET_PATH") == str(REPO_ROOT / "target")
    assert from_python.pop("DBT_TARGET_PATH") == str(lakehouse / "target")
    keys = {k for k in from_python if k.startswith(("LAKEHOUSE_", "DBT_", "MALLOC_")) or k == "PATH"}
    assert {k: from_shell.get(k) for k in keys} == {k: from_python[k] for k in keys}


def test_nothing_imports_the_scripts_folder():
    assert not (REPO_ROOT / "scripts").exists()
    tracked = subprocess.run(["git", "grep", "-l", "-E", r"(from|import) scripts\b|scripts/", "--", "*.py", "*.sh",
                              "*.mk", "Makefile", "*.yml", "*.md", ":!python_tests/test_local_stack.py"], cwd=REPO_ROOT, capture_output=True, text=True)
    assert tracked.stdout == ""
