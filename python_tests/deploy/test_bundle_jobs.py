"""The bundle's two jobs, checked without a workspace (helpers: bundle_model.py): the streaming
job runs the wheel on a dedicated cluster with its secret, checkpoint and alerts; the dbt job
runs the locked dbt on the databricks target with the environment the profile reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from python_tests.conftest import REPO_ROOT
from python_tests.deploy.bundle_model import (
    BUNDLE, BUNDLE_FILE, ENV_VAR, PYPROJECT, RESOURCES, job, load, lock_pins, prod_override, repo_path,
    resolve, strings, target_resource,
)


# --- the streaming ingest job ---------------------------------------------------------------


def test_streaming_job_is_continuous_on_a_dedicated_job_cluster_with_the_connection_string_from_a_secret():
    spec = job("streaming_ingest_job")
    assert spec["continuous"]["pause_status"] == "PAUSED"
    assert prod_override("streaming_ingest_job") == {"continuous": {"pause_status": "UNPAUSED"}}
    assert "schedule" not in spec and "trigger" not in spec and "timeout_seconds" not in spec
    assert spec["max_concurrent_runs"] == 1
    clusters = {c["job_cluster_key"]: c["new_cluster"] for c in spec["job_clusters"]}
    (task,) = spec["tasks"]
    cluster = clusters[task["job_cluster_key"]]
    assert cluster["spark_version"] == "${var.spark_version}"
    assert cluster["node_type_id"] == "${var.node_type_id}"
    # foreachBatch + Kafka: dedicated (single user) access mode on Unity Catalog
    assert cluster["data_security_mode"] == "SINGLE_USER"
    assert cluster["spark_env_vars"] == {
        "EVENTHUB_CONNECTION_STRING": "{{secrets/${var.secret_scope}/eventhub-connection-string}}"
    }
    assert resolve(cluster["spark_version"]).startswith("17."), "a Spark 4 runtime, like the local pyspark"


# The Apache Spark version of each Databricks Runtime the bundle may select, from Databricks'
# "Databricks Runtime release notes versions and compatibility" page.
RUNTIME_SPARK = {"17.3": "4.0"}


def test_the_local_twin_runs_the_spark_of_the_bundles_runtime_and_no_newer():
    """Code that uses what the runtime's Spark lacks must fail here, not only in production: the
    pinned pyspark, the installed one and the jars (Delta's build, the Kafka connector) are all
    of the runtime's Spark line."""
    import pyspark

    runtime = ".".join(resolve("${var.spark_version}").split(".")[:2])
    spark_line = RUNTIME_SPARK[runtime]
    assert lock_pins()["pyspark"].startswith(spark_line + "."), lock_pins()["pyspark"]
    assert pyspark.__version__.startswith(spark_line + "."), pyspark.__version__
    pom = (REPO_ROOT / "setup" / "jars.pom.xml").read_text()
    assert f"<spark.version>{spark_line}." in pom
    assert f"<artifactId>delta-spark_{spark_line}_2.13</artifactId>" in pom
    jars = sorted(path.name for path in (REPO_ROOT / ".deps" / "jars").glob("*.jar"))
    assert [j for j in jars if j.startswith("delta-spark_")] == [j for j in jars if j.startswith(
        f"delta-spark_{spark_line}_2.13-")], jars
    kafka = [j for j in jars if j.startswith("spark-sql-kafka-0-10_2.13-")]
    assert len(kafka) == 1 and kafka[0].startswith(f"spark-sql-kafka-0-10_2.13-{spark_line}."), jars


def test_streaming_job_alerts_on_backlog_and_failure():
    spec = job("streaming_ingest_job")
    assert spec["health"] == {"rules": [{"metric": "STREAMING_BACKLOG_SECONDS", "op": "GREATER_THAN",
                                         "value": "${var.ingest_backlog_alert_seconds}"}]}
    assert spec["email_notifications"] == {"on_failure": "${var.failure_emails}",
                                           "on_streaming_backlog_exceeded": "${var.failure_emails}"}
    assert int(resolve(spec["health"]["rules"][0]["value"])) == 600


def test_streaming_job_runs_the_wheel_the_bundle_builds_by_its_console_script():
    path, spec = RESOURCES["jobs"]["streaming_ingest_job"]
    (task,) = spec["tasks"]
    wheel_task = task["python_wheel_task"]
    # Databricks finds the entry point in the installed distribution's metadata by name
    assert wheel_task["package_name"] == PYPROJECT["project"]["name"]
    scripts = PYPROJECT["project"]["scripts"]
    assert scripts[wheel_task["entry_point"]] == "streaming_ingest.__main__:main"
    # the library is the artifact's output: <artifact path>/dist/*.whl, built from pyproject.toml
    (artifact,) = BUNDLE["artifacts"].values()
    assert artifact["type"] == "whl"
    assert set(artifact) <= {"build", "dynamic_version", "executable", "files", "path", "type"}  # CLI schema
    artifact_dir = (BUNDLE_FILE.parent / artifact["path"]).resolve()
    assert (artifact_dir / "pyproject.toml").is_file()
    assert artifact["build"] == "rm -rf dist && python3 -m pip wheel --no-deps --wheel-dir dist ."
    (library,) = task["libraries"]
    assert repo_path(path, library["whl"]) == artifact_dir / "dist" / "*.whl"
    assert "spark_python_task" not in task


@pytest.mark.parametrize("target", ["dev", "prod"])
def test_streaming_job_parameters_are_accepted_by_the_job(target, monkeypatch):
    from streaming_ingest import config

    (task,) = target_resource(target, "jobs", "streaming_ingest_job")["tasks"]
    args = [resolve(p, target) for p in task["python_wheel_task"]["parameters"]]
    checked: list[str] = []
    monkeypatch.setattr(config, "_check_writable", lambda setting, location: checked.append(location))
    for name in ("KAFKA_BOOTSTRAP_SERVERS", "BRONZE_PATH", "CHECKPOINT_DIR", "INGEST_BRONZE_TABLE", "BRONZE_TABLE_NAME", "INGEST_SOURCE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "17.3")
    monkeypatch.setenv(
        "EVENTHUB_CONNECTION_STRING",
        "Endpoint=sb://retail-sales.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=fake",
    )

    parsed = config.parse_args(args)

    bronze_schema = "dev_alice_bronze" if target == "dev" else "bronze"
    assert parsed.source == "kafka"
    assert parsed.databricks is True
    assert parsed.topic == "sales-events"
    assert parsed.bronze_table == f"main.{bronze_schema}.sales_events"
    assert parsed.bronze_path == ""
    assert parsed.checkpoint_dir == f"/Volumes/main/{bronze_schema}/checkpoints/bronze_sales_events"
    assert checked == [parsed.checkpoint_dir]
    assert parsed.trigger == "processing-time"
    assert parsed.fail_on_data_loss is True  # var.ingest_fail_on_data_loss: the runbook sets it false once
    options = parsed.kafka_reader_options()
    assert options["kafka.bootstrap.servers"] == "retail-sales.servicebus.windows.net:9093"
    assert options["kafka.sasl.jaas.config"].startswith("kafkashaded.")


def test_checkpoints_live_in_the_bundles_volume_in_the_bronze_schema():
    volume = RESOURCES["volumes"]["checkpoints"][1]
    schema = RESOURCES["schemas"]["bronze"][1]
    assert schema["name"] == "bronze"
    assert schema["catalog_name"] == volume["catalog_name"] == "${var.catalog}"
    assert volume["schema_name"] == "${resources.schemas.bronze.name}"
    (task,) = job("streaming_ingest_job")["tasks"]
    parameters = task["python_wheel_task"]["parameters"]
    checkpoint = parameters[parameters.index("--checkpoint-dir") + 1]
    assert checkpoint.startswith("/Volumes/${var.catalog}/${resources.schemas.bronze.name}/"
                                 "${resources.volumes.checkpoints.name}/")


# --- the capture backfill job ---------------------------------------------------------------


def test_backfill_job_runs_by_hand_the_same_wheel_then_the_dbt_job():
    spec = job("capture_backfill_job")
    assert not {"schedule", "trigger", "continuous"} & set(spec), "run by hand only"
    assert "capture_backfill_job" not in BUNDLE["targets"]["prod"]["resources"]["jobs"]  # prod too
    assert spec["max_concurrent_runs"] == 1
    backfill, dbt = spec["tasks"]
    stream_task = job("streaming_ingest_job")["tasks"][0]
    assert backfill["python_wheel_task"]["package_name"] == stream_task["python_wheel_task"]["package_name"]
    assert backfill["python_wheel_task"]["entry_point"] == stream_task["python_wheel_task"]["entry_point"]
    assert backfill["libraries"] == stream_task["libraries"]
    cluster = {c["job_cluster_key"]: c["new_cluster"] for c in spec["job_clusters"]}[backfill["job_cluster_key"]]
    assert cluster["data_security_mode"] == "SINGLE_USER" and "spark_env_vars" not in cluster  # no secret needed
    assert dbt == {"task_key": "dbt_build", "depends_on": [{"task_key": "bronze_backfill"}],
                   "run_job_task": {"job_id": "${resources.jobs.dbt_job.id}"}}


@pytest.mark.parametrize("target", ["dev", "prod"])
def test_backfill_job_parameters_are_accepted_by_the_job(target, monkeypatch):
    from streaming_ingest import config

    (task, _) = target_resource(target, "jobs", "capture_backfill_job")["tasks"]
    args = [resolve(p, target) for p in task["python_wheel_task"]["parameters"]]
    archive = "abfss://capture@retailsales.dfs.core.windows.net/retail-sales/sales-events"
    args[args.index("--capture-dir") + 1] = archive  # var.capture_archive_path, given at deploy
    monkeypatch.setattr(config, "_check_writable", lambda setting, location: None)
    for name in ("CAPTURE_DIR", "BRONZE_PATH", "CHECKPOINT_DIR", "INGEST_BRONZE_TABLE", "INGEST_SOURCE", "FILE_READER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "17.3")

    parsed = config.parse_args(args)

    bronze_schema = "dev_alice_bronze" if target == "dev" else "bronze"
    assert (parsed.source, parsed.capture_dir, parsed.trigger) == ("capture", archive, "available-now")
    assert parsed.bronze_table == f"main.{bronze_schema}.sales_events"  # the stream's bronze
    stream_parameters = job("streaming_ingest_job")["tasks"][0]["python_wheel_task"]["parameters"]
    stream_checkpoint = resolve(stream_parameters[stream_parameters.index("--checkpoint-dir") + 1], target)
    assert parsed.checkpoint_dir == f"{stream_checkpoint}_capture" != stream_checkpoint  # its own checkpoint
    assert parsed.uses_autoloader and parsed.file_events is False
    assert parsed.autoloader_options("avro")["cloudFiles.schemaLocation"] == f"{parsed.checkpoint_dir}/autoloader_schema"


def test_backfill_job_without_an_archive_stops_naming_the_setting(monkeypatch, capsys):
    from streaming_ingest.__main__ import main

    (task, _) = job("capture_backfill_job")["tasks"]
    args = [resolve(p) for p in task["python_wheel_task"]["parameters"]]  # the default: no archive
    assert args[args.index("--capture-dir") + 1] == ""
    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "17.3")
    monkeypatch.delenv("CAPTURE_DIR", raising=False)
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 2
    assert "--capture-dir (CAPTURE_DIR) is required for --source capture" in capsys.readouterr().err


# --- the dbt job ----------------------------------------------------------------------------


def dbt_task(key: str = "dbt_build") -> tuple[Path, dict, dict]:
    path, spec = RESOURCES["jobs"]["dbt_job"]
    (task,) = [t for t in spec["tasks"] if t["task_key"] == key]
    clusters = {c["job_cluster_key"]: c["new_cluster"] for c in spec["job_clusters"]}
    return path, task, clusters[task["job_cluster_key"]]


def test_dbt_job_is_scheduled_and_runs_seed_freshness_then_build_on_the_databricks_target():
    spec = job("dbt_job")
    assert spec["schedule"]["quartz_cron_expression"] == "${var.dbt_schedule}"
    assert spec["schedule"]["pause_status"] == "PAUSED"
    assert prod_override("dbt_job") == {"schedule": {"pause_status": "UNPAUSED"}}
    assert len(resolve(spec["schedule"]["quartz_cron_expression"]).split()) in (6, 7), "a Quartz expression"
    assert spec["schedule"]["timezone_id"] == "UTC"
    assert spec["timeout_seconds"] == "${var.dbt_timeout_seconds}"
    assert 0 < int(resolve(spec["timeout_seconds"])) < 3600, "a run ends before the next hourly one is due"
    assert spec["email_notifications"] == {"on_failure": "${var.failure_emails}"}
    path, task, _ = dbt_task()
    commands = task["dbt_task"]["commands"]
    # freshness before build: a stale bronze fails the run before anything is rebuilt on old data
    assert [c.split()[:3] for c in commands] == [
        ["dbt", "seed", "--target"], ["dbt", "source", "freshness"], ["dbt", "build", "--target"]]
    for command in commands:
        words = command.split()
        assert words[words.index("--target") + 1] == "databricks", command
    # a data run: the unit tests are CI's (make test), not the scheduled job's
    assert commands[-1].split()[-2:] == ["--exclude-resource-type", "unit_test"], commands[-1]
    sources = load(REPO_ROOT / "models" / "staging" / "_staging__sources.yml")["sources"]
    (bronze,) = [s for s in sources if s["name"] == "bronze"]
    assert bronze["loaded_at_field"] and bronze["freshness"]["error_after"], "freshness must be able to fail"
    # the project directory is this repo's dbt project, with its own profiles.yml
    project = repo_path(path, task["dbt_task"]["project_directory"])
    assert project == REPO_ROOT and (project / "dbt_project.yml").is_file()
    assert "profiles_directory" not in task["dbt_task"] and "warehouse_id" not in task["dbt_task"], (
        "a warehouse_id makes Databricks generate its own profile (no `databricks` target)"
    )
    profile_name = load(REPO_ROOT / "dbt_project.yml")["profile"]
    output = load(project / "profiles.yml")[profile_name]["outputs"]["databricks"]
    assert output["type"] == "databricks"


CREDENTIALS = {"DATABRICKS_CLIENT_ID", "DATABRICKS_CLIENT_SECRET", "DATABRICKS_TOKEN", "DBT_ACCESS_TOKEN"}


def test_dbt_job_environment_gives_the_profile_everything_it_reads_and_no_credential():
    _, _, cluster = dbt_task()
    env = cluster["spark_env_vars"]
    profiles = (REPO_ROOT / "profiles.yml").read_text()
    databricks_output = load(REPO_ROOT / "profiles.yml")["lakehouse"]["outputs"]["databricks"]
    read_by_profile = {name for text in strings(databricks_output) for name in ENV_VAR.findall(text)}
    assert CREDENTIALS | {"DBT_HOST"} <= read_by_profile
    needed = read_by_profile - CREDENTIALS - {"DBT_HOST"}  # DBT_HOST: injected, DATABRICKS_HOST wins
    assert needed <= set(env), f"the databricks target reads {sorted(needed - set(env))}, not set by the job"
    # no secret: the profile uses the token Databricks injects for the run-as identity
    assert not CREDENTIALS & set(env)
    assert env["DATABRICKS_HTTP_PATH"] == "/sql/1.0/warehouses/${var.warehouse_id}"
    assert env["DATABRICKS_HOST"] == "${workspace.host}"
    assert env["DATABRICKS_CATALOG"] == "${var.catalog}"
    assert env["DBT_ANALYSTS_GROUP"] == "${var.analysts_group}"
    assert env["DBT_ENGINEERS_GROUP"] == "${var.engineers_group}"
    # every variable set is read by the dbt project (profiles, macros, models)
    project_text = profiles + "".join(
        p.read_text() for pattern in ("macros/*.sql", "models/**/*.yml", "models/**/*.sql", "dbt_project.yml")
        for p in REPO_ROOT.glob(pattern)
    )
    read = set(ENV_VAR.findall(project_text))
    assert set(env) <= read, f"set but never read by dbt: {sorted(set(env) - read)}"


def test_dbt_reads_the_bronze_table_the_streaming_job_writes():
    _, _, cluster = dbt_task()
    env = cluster["spark_env_vars"]
    (task,) = job("streaming_ingest_job")["tasks"]
    parameters = task["python_wheel_task"]["parameters"]
    written = parameters[parameters.index("--bronze-table") + 1]
    sources = load(REPO_ROOT / "models" / "staging" / "_staging__sources.yml")["sources"]
    (bronze,) = [s for s in sources if s["name"] == "bronze"]
    # the source: schema from BRONZE_SCHEMA, table sales_events (BRONZE_TABLE unset), catalog = the target's
    assert "env_var('BRONZE_SCHEMA'" in bronze["schema"]
    assert "BRONZE_TABLE" not in env
    for target in ("dev", "prod"):
        assert resolve(written, target) == ".".join(
            [resolve(env["DATABRICKS_CATALOG"], target), resolve(env["BRONZE_SCHEMA"], target), "sales_events"]
        )
    # and the layers dbt builds follow the same dev prefix as bronze
    assert resolve(env["DBT_SCHEMA_PREFIX"], "dev") + "_" == "dev_alice_"
    assert resolve(env["DBT_SCHEMA_PREFIX"], "prod") == ""


@pytest.mark.parametrize("key", ["dbt_build", "dbt_full_sweep"])
def test_dbt_job_installs_the_locked_dbt_versions(key):
    _, task, cluster = dbt_task(key)
    pins = lock_pins()
    packages = [lib["pypi"]["package"] for lib in task["libraries"]]
    assert {p.split("==")[0] for p in packages} == {"dbt-databricks", "dbt-core"}
    for package in packages:
        name, version = package.split("==")
        assert pins[name] == version, f"{package}: setup/requirements.lock has {name}=={pins[name]}"
    assert cluster["num_workers"] == 0 and cluster["spark_conf"]["spark.databricks.cluster.profile"] == "singleNode"


def test_the_hourly_build_tests_its_rows_and_the_nightly_run_sweeps_every_row_after_queueing():
    """The hourly build's data tests read the rows it loaded (data_tests_scope: auto in
    `dbt build`); a run with the job parameter full_sweep = "true" then runs `dbt test`, which
    reads every row, and dbt_full_sweep_job starts such a run nightly. dbt_job's runs queue, so
    the sweep never reads tables a build is rewriting."""
    spec = job("dbt_job")
    assert spec["max_concurrent_runs"] == 1 and spec["queue"] == {"enabled": True}
    assert spec["parameters"] == [{"name": "full_sweep", "default": "false"}]
    tasks = {t["task_key"]: t for t in spec["tasks"]}
    assert list(tasks) == ["dbt_build", "full_sweep_requested", "dbt_full_sweep"]
    assert tasks["full_sweep_requested"]["depends_on"] == [{"task_key": "dbt_build"}]
    assert tasks["full_sweep_requested"]["condition_task"] == {
        "op": "EQUAL_TO", "left": "{{job.parameters.full_sweep}}", "right": "true"}
    sweep = tasks["dbt_full_sweep"]
    assert sweep["depends_on"] == [{"task_key": "full_sweep_requested", "outcome": "true"}]
    assert sweep["job_cluster_key"] == tasks["dbt_build"]["job_cluster_key"]
    assert sweep["dbt_task"]["project_directory"] == tasks["dbt_build"]["dbt_task"]["project_directory"]
    assert sweep["dbt_task"]["commands"] == ["dbt test --target databricks --exclude-resource-type unit_test"]
    assert sweep["libraries"] == tasks["dbt_build"]["libraries"]
    # `dbt test` reads every row under the project's default scope; `dbt build` the newest load
    project = load(REPO_ROOT / "dbt_project.yml")
    assert project["vars"]["data_tests_scope"] == "auto"
    scope_macro = (REPO_ROOT / "macros" / "data_test_scope.sql").read_text()
    assert "'newest_load' if flags.WHICH == 'build' else 'all'" in scope_macro

    nightly = job("dbt_full_sweep_job")
    assert nightly["schedule"]["quartz_cron_expression"] == "${var.dbt_full_sweep_schedule}"
    assert len(resolve(nightly["schedule"]["quartz_cron_expression"]).split()) in (6, 7), "a Quartz expression"
    assert nightly["schedule"]["pause_status"] == "PAUSED"
    assert prod_override("dbt_full_sweep_job") == {"schedule": {"pause_status": "UNPAUSED"}}
    assert nightly["email_notifications"] == {"on_failure": "${var.failure_emails}"}
    (trigger,) = nightly["tasks"]
    assert trigger["run_job_task"] == {"job_id": "${resources.jobs.dbt_job.id}",
                                       "job_parameters": {"full_sweep": "true"}}
    assert set(trigger["run_job_task"]["job_parameters"]) <= {p["name"] for p in spec["parameters"]}


def test_the_typed_bundle_models_are_the_locked_version():
    from importlib.metadata import version

    assert version("databricks-bundles") == lock_pins()["databricks-bundles"]
