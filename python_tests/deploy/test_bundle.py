"""The Databricks Asset Bundle (databricks.yml + resources/*.yml), checked without a workspace.

The databricks CLI (`bundle validate`) cannot run here. Every resource of every target is
parsed by Databricks' own typed bundle models (PyPI `databricks-bundles`: an unknown or
misplaced field, a wrong enum value or a missing required field raises), and the rest checks
what the schema cannot: that every file, entry point, flag, variable, dbt target and
environment variable the bundle names exists in the repo and is accepted by the code that
reads it. Top-level fields the typed models do not cover (artifacts, run_as, permissions) are
checked against the CLI's own rules (bundle/schema/jsonschema.json and its mutators).
"""

from __future__ import annotations

import copy
import fnmatch
import re
import tomllib
from pathlib import Path

import pytest
import yaml
from databricks.bundles.jobs import Job
from databricks.bundles.schemas import Schema
from databricks.bundles.volumes import Volume

from python_tests.conftest import REPO_ROOT

BUNDLE_FILE = REPO_ROOT / "databricks.yml"
RESOURCES_DIR = REPO_ROOT / "resources"
REFERENCE = re.compile(r"\$\{([^}]*)\}")
SECRET = re.compile(r"^\{\{secrets/(\$\{var\.\w+\}|[\w.-]+)/([\w.-]+)\}\}$")
ENV_VAR = re.compile(r"env_var\(\s*['\"](\w+)['\"]")

# Values the CLI would substitute, for a developer "alice" deploying the dev target.
WORKSPACE = {
    "workspace.host": "https://adb-1234567890123456.7.azuredatabricks.net",
    "workspace.current_user.short_name": "alice",
    "workspace.current_user.userName": "alice@example.com",
    "bundle.name": "retail_lakehouse",
    "bundle.target": "dev",
}
SERVICE_PRINCIPAL = "6f1c1e52-3a0b-4d8e-9c1f-2b7a5d4e8f90"  # an application id, given at deploy
TYPED_MODELS = {"jobs": Job, "schemas": Schema, "volumes": Volume}
# the CLI maps the top-level permission levels onto each job (apply_bundle_permissions.go)
JOB_LEVEL_OF_BUNDLE_LEVEL = {"CAN_MANAGE": "CAN_MANAGE", "CAN_VIEW": "CAN_VIEW", "CAN_RUN": "CAN_MANAGE_RUN"}
# sequences the CLI merges by key when a target overrides a resource (others are appended)
MERGE_KEYS = {"tasks": "task_key", "job_clusters": "job_cluster_key", "environments": "environment_key"}
PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
KNOWN_SUBSTITUTIONS = set(WORKSPACE) | {"workspace.file_path", "workspace.root_path"}


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


BUNDLE = load(BUNDLE_FILE)
RESOURCE_FILES = sorted(p for p in RESOURCES_DIR.iterdir() if p.is_file())


def strings(node):
    """Every string in a YAML tree (keys included)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from strings(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)


def all_resources() -> dict[str, dict[str, tuple[Path, dict]]]:
    """kind (jobs, schemas, ...) → key → (file it is defined in, its definition)."""
    found: dict[str, dict[str, tuple[Path, dict]]] = {}
    for path in RESOURCE_FILES:
        for kind, items in (load(path).get("resources") or {}).items():
            for key, spec in items.items():
                assert key not in found.get(kind, {}), f"resources.{kind}.{key} is defined twice"
                found.setdefault(kind, {})[key] = (path, spec)
    return found


RESOURCES = all_resources()


def job(key: str) -> dict:
    return RESOURCES["jobs"][key][1]


def prod_override(key: str) -> dict:
    """What the prod target changes in a job: only its trigger (dev keeps everything paused:
    development mode pauses only what is not set explicitly)."""
    assert set(BUNDLE["targets"]["prod"]["resources"]) == {"jobs"}
    return BUNDLE["targets"]["prod"]["resources"]["jobs"][key]


def merge(base, override):
    """A target's partial override merged over the base the way the CLI merges them: maps
    recursively, tasks / job clusters by their key, other sequences appended."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for name, value in override.items():
            if name in MERGE_KEYS and name in base:
                key = MERGE_KEYS[name]
                items = {item[key]: item for item in base[name]}
                for item in value:
                    items[item[key]] = merge(items.get(item[key], {}), item)
                merged[name] = list(items.values())
            else:
                merged[name] = merge(base[name], value) if name in base else value
        return merged
    if isinstance(base, list) and isinstance(override, list):
        return base + override
    return override


def target_resource(target: str, kind: str, key: str) -> dict:
    """A resource as deployed to a target: its override merged in, and for jobs the bundle's
    run_as and permissions applied (as the CLI's SetRunAs / ApplyBundlePermissions do)."""
    spec = copy.deepcopy(RESOURCES[kind][key][1])
    settings = BUNDLE["targets"][target] or {}
    spec = merge(spec, ((settings.get("resources") or {}).get(kind) or {}).get(key) or {})
    if kind == "jobs":
        if settings.get("run_as"):
            spec.setdefault("run_as", settings["run_as"])
        for permission in settings.get("permissions") or []:
            level = JOB_LEVEL_OF_BUNDLE_LEVEL[permission["level"]]
            spec.setdefault("permissions", []).append(dict(permission, level=level))
    return spec


def variable_values(target: str) -> dict[str, str]:
    values = {name: spec.get("default") for name, spec in BUNDLE["variables"].items()}
    values.update((BUNDLE["targets"][target] or {}).get("variables") or {})
    # required, given at deploy time
    values["warehouse_id"] = values.get("warehouse_id") or "0123456789abcdef"
    if values.get("service_principal_application_id") is None:
        values["service_principal_application_id"] = SERVICE_PRINCIPAL
    return values


def resolve(text: str, target: str = "dev") -> str:
    """Substitute ${...} the way the CLI would (dev mode prefixes UC schemas with dev_<user>_)."""
    values = {f"var.{k}": str(v) for k, v in variable_values(target).items()}
    values.update(WORKSPACE, **{"bundle.target": target})
    prefix = "dev_alice_" if BUNDLE["targets"][target].get("mode") == "development" else ""
    for key, (_, spec) in RESOURCES.get("schemas", {}).items():
        values[f"resources.schemas.{key}.name"] = prefix + spec["name"]
    for key, (_, spec) in RESOURCES.get("volumes", {}).items():
        values[f"resources.volumes.{key}.name"] = spec["name"]
    for _ in range(5):  # variable values may hold references themselves
        text = REFERENCE.sub(lambda m: values[m.group(1)], text)
    assert "${" not in text, text
    return text


def repo_path(resource_file: Path, relative: str) -> Path:
    """Bundle paths in resources/*.yml are relative to the file that holds them."""
    return (resource_file.parent / relative).resolve()


def lock_pins() -> dict[str, str]:
    pins = {}
    for line in (REPO_ROOT / "setup" / "requirements.lock").read_text().splitlines():
        if "==" in line:
            name, version = line.strip().split("==", 1)
            pins[name.lower().replace("_", "-")] = version
    return pins


# --- structure ------------------------------------------------------------------------------


def test_bundle_has_a_name_and_dev_and_prod_targets():
    assert BUNDLE["bundle"]["name"] == "retail_lakehouse"
    targets = BUNDLE["targets"]
    assert set(targets) == {"dev", "prod"}
    assert targets["dev"]["mode"] == "development"
    assert targets["dev"].get("default") is True
    assert targets["prod"]["mode"] == "production"
    assert not targets["prod"].get("default")


@pytest.mark.parametrize("target", ["dev", "prod"])
@pytest.mark.parametrize("kind_key", [(kind, key) for kind in sorted(RESOURCES) for key in sorted(RESOURCES[kind])],
                         ids="{0[0]}.{0[1]}".format)
def test_every_resource_of_every_target_parses_in_databricks_typed_bundle_schema(kind_key, target):
    kind, key = kind_key
    assert kind in TYPED_MODELS, f"resources.{kind}: no typed model checks it (add it to TYPED_MODELS)"
    spec = target_resource(target, kind, key)
    parsed = TYPED_MODELS[kind].from_dict(spec)  # raises on an unknown, misplaced or missing field
    assert parsed.as_dict() == spec, "the typed model dropped or changed a field"


def test_the_typed_schema_check_catches_typos_and_misplaced_fields():
    spec = copy.deepcopy(job("streaming_ingest_job"))
    spec["tasks"][0]["python_wheel_task"]["entrypoint"] = "lakehouse-ingest"
    with pytest.raises(ValueError, match="Unexpected field 'entrypoint'"):
        Job.from_dict(spec)
    spec = copy.deepcopy(job("dbt_job"))
    spec["tasks"][0]["spark_env_vars"] = {"X": "1"}  # belongs in the cluster
    with pytest.raises(ValueError, match="Unexpected field 'spark_env_vars'"):
        Job.from_dict(spec)
    spec = copy.deepcopy(job("streaming_ingest_job"))
    spec["health"]["rules"][0]["metric"] = "STREAMING_BACKLOG_SECOND"
    with pytest.raises(ValueError, match="not a valid JobsHealthMetric"):
        Job.from_dict(spec)


def test_every_resource_file_is_included_and_holds_at_most_one_job():
    assert BUNDLE["include"] == ["resources/*.yml"]
    assert RESOURCE_FILES, "resources/ is empty"
    for path in RESOURCE_FILES:
        relative = path.relative_to(REPO_ROOT).as_posix()
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in BUNDLE["include"]), (
            f"{relative} is not included by databricks.yml (a .yaml file, or a typo?)"
        )
        content = load(path)
        assert set(content) == {"resources"}, f"{relative}: only `resources:` belongs in an included file"
        assert len(content["resources"].get("jobs") or {}) <= 1, f"{relative}: one job per file"
    assert set(RESOURCES["jobs"]) == {"streaming_ingest_job", "dbt_job"}


def test_every_variable_is_declared_described_and_used():
    declared = BUNDLE["variables"]
    text = BUNDLE_FILE.read_text() + "".join(p.read_text() for p in RESOURCE_FILES)
    used = {m.group(1).removeprefix("var.") for m in REFERENCE.finditer(text) if m.group(1).startswith("var.")}
    assert used <= set(declared), f"undeclared variables: {sorted(used - set(declared))}"
    assert set(declared) <= used, f"variables nothing uses: {sorted(set(declared) - used)}"
    for name, spec in declared.items():
        assert spec.get("description"), f"variable {name} has no description"
    # given at deploy time: the warehouse everywhere, the service principal in prod (dev sets it unused)
    assert {name for name, spec in declared.items() if "default" not in spec} == {
        "warehouse_id", "service_principal_application_id"}
    assert "service_principal_application_id" in BUNDLE["targets"]["dev"]["variables"]
    assert "service_principal_application_id" not in (BUNDLE["targets"]["prod"].get("variables") or {})
    for target, spec in BUNDLE["targets"].items():
        assert set((spec or {}).get("variables") or {}) <= set(declared), f"target {target} sets an undeclared variable"
    # the groups granted in Unity Catalog must exist, so none is assumed: empty = no grant
    assert declared["analysts_group"]["default"] == declared["engineers_group"]["default"] == ""
    assert declared["failure_emails"] == {"description": declared["failure_emails"]["description"],
                                          "type": "complex", "default": []}


def test_every_reference_points_at_something_that_exists():
    for source in [BUNDLE_FILE, *RESOURCE_FILES]:
        for text in strings(load(source)):
            for ref in REFERENCE.findall(text):
                if ref.startswith("var."):
                    continue  # checked above
                if ref.startswith("resources."):
                    _, kind, key, field = ref.split(".", 3)
                    assert key in RESOURCES.get(kind, {}), f"{source.name}: ${{{ref}}}: no resources.{kind}.{key}"
                    assert field == "name" or field in RESOURCES[kind][key][1], f"{source.name}: ${{{ref}}}"
                else:
                    assert ref in KNOWN_SUBSTITUTIONS, f"{source.name}: unknown substitution ${{{ref}}}"


def test_secrets_come_from_the_secret_scope_variable():
    for path in RESOURCE_FILES:
        for text in strings(load(path)):
            if "secrets/" in text:
                match = SECRET.match(text)
                assert match, f"{path.name}: malformed secret reference {text!r}"
                assert match.group(1) == "${var.secret_scope}", f"{path.name}: {text!r} bypasses var.secret_scope"


# --- prod: one copy, run as a service principal ---------------------------------------------


def test_prod_deploys_one_copy_whoever_deploys_it():
    prod = BUNDLE["targets"]["prod"]
    assert set(prod) == {"mode", "workspace", "run_as", "permissions", "resources"}
    # production mode wants an explicit root path (validate_target_mode.go); it must not depend
    # on the deploying user (two people = two streams on one checkpoint), nor be in
    # /Workspace/Shared (every user could change the code the principal runs).
    root = prod["workspace"]["root_path"]
    assert "current_user" not in root
    assert not root.startswith("/Workspace/Shared")
    assert resolve(root, "prod") == f"/Workspace/Users/{SERVICE_PRINCIPAL}/.bundle/retail_lakehouse/prod"
    assert prod["run_as"] == {"service_principal_name": "${var.service_principal_application_id}"}
    for key in RESOURCES["jobs"]:
        deployed = Job.from_dict(target_resource("prod", "jobs", key)).as_dict()
        assert deployed["run_as"] == {"service_principal_name": "${var.service_principal_application_id}"}
        assert deployed["permissions"] == [{"group_name": "${var.prod_managers_group}", "level": "CAN_MANAGE"}]
    # top-level permissions: levels the CLI accepts, one principal each (schema: resources.Permission)
    for permission in prod["permissions"]:
        assert permission["level"] in JOB_LEVEL_OF_BUNDLE_LEVEL
        assert len(set(permission) & {"group_name", "user_name", "service_principal_name"}) == 1
    assert BUNDLE["variables"]["prod_managers_group"]["default"] == "admins"  # exists in every workspace
    # dev: each developer's own copy, run as the developer
    assert "run_as" not in BUNDLE["targets"]["dev"] and "workspace" not in BUNDLE["targets"]["dev"]


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
    for name in ("KAFKA_BOOTSTRAP_SERVERS", "BRONZE_PATH", "CHECKPOINT_DIR", "BRONZE_TABLE_NAME", "INGEST_SOURCE"):
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


# --- the dbt job ----------------------------------------------------------------------------


def dbt_task() -> tuple[Path, dict, dict]:
    path, spec = RESOURCES["jobs"]["dbt_job"]
    (task,) = spec["tasks"]
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


def test_dbt_job_installs_the_locked_dbt_versions():
    _, task, cluster = dbt_task()
    pins = lock_pins()
    packages = [lib["pypi"]["package"] for lib in task["libraries"]]
    assert {p.split("==")[0] for p in packages} == {"dbt-databricks", "dbt-core"}
    for package in packages:
        name, version = package.split("==")
        assert pins[name] == version, f"{package}: setup/requirements.lock has {name}=={pins[name]}"
    assert cluster["num_workers"] == 0 and cluster["spark_conf"]["spark.databricks.cluster.profile"] == "singleNode"


def test_the_typed_bundle_models_are_the_locked_version():
    from importlib.metadata import version

    assert version("databricks-bundles") == lock_pins()["databricks-bundles"]
