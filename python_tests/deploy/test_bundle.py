"""The Databricks Asset Bundle (databricks.yml + resources/*.yml), checked without a workspace.

The databricks CLI (`bundle validate`) cannot run here, so this checks what it would not:
the bundle's structure, and that every file, entry point, flag, variable, dbt target and
environment variable it names exists in the repo and is accepted by the code that reads it.
"""

from __future__ import annotations

import fnmatch
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

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


def variable_values(target: str) -> dict[str, str]:
    values = {name: spec.get("default") for name, spec in BUNDLE["variables"].items()}
    values.update((BUNDLE["targets"][target] or {}).get("variables") or {})
    values["warehouse_id"] = values.get("warehouse_id") or "0123456789abcdef"  # required: given at deploy
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
    # production mode wants one copy: an explicit root path
    assert targets["prod"]["workspace"]["root_path"].endswith("/.bundle/${bundle.name}/${bundle.target}")


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
    # only the warehouse has no sensible default: it is given at deploy time
    assert {name for name, spec in declared.items() if "default" not in spec} == {"warehouse_id"}
    for target, spec in BUNDLE["targets"].items():
        assert set((spec or {}).get("variables") or {}) <= set(declared), f"target {target} sets an undeclared variable"


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


# --- the streaming ingest job ---------------------------------------------------------------


def test_streaming_job_is_continuous_on_a_job_cluster_with_the_connection_string_from_a_secret():
    spec = job("streaming_ingest_job")
    assert spec["continuous"]["pause_status"] == "PAUSED"
    assert prod_override("streaming_ingest_job") == {"continuous": {"pause_status": "UNPAUSED"}}
    assert "schedule" not in spec and "trigger" not in spec
    assert spec["max_concurrent_runs"] == 1
    clusters = {c["job_cluster_key"]: c["new_cluster"] for c in spec["job_clusters"]}
    (task,) = spec["tasks"]
    cluster = clusters[task["job_cluster_key"]]
    assert cluster["spark_version"] == "${var.spark_version}"
    assert cluster["node_type_id"] == "${var.node_type_id}"
    assert cluster["spark_env_vars"] == {
        "EVENTHUB_CONNECTION_STRING": "{{secrets/${var.secret_scope}/eventhub-connection-string}}"
    }
    assert resolve(cluster["spark_version"]).startswith("17."), "a Spark 4 runtime, like the local pyspark"


def test_streaming_job_runs_the_same_entry_point_as_locally():
    path, spec = RESOURCES["jobs"]["streaming_ingest_job"]
    (task,) = spec["tasks"]
    python_file = repo_path(path, task["spark_python_task"]["python_file"])
    assert python_file == REPO_ROOT / "streaming_ingest" / "__main__.py"
    assert python_file.is_file()
    # runnable as a plain file (spark_python_task), from another folder: --help parses and exits 0
    result = subprocess.run([sys.executable, str(python_file), "--help"], cwd="/", capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "--bronze-table" in result.stdout


@pytest.mark.parametrize("target", ["dev", "prod"])
def test_streaming_job_parameters_are_accepted_by_the_job(target, monkeypatch):
    from streaming_ingest import config

    path, spec = RESOURCES["jobs"]["streaming_ingest_job"]
    (task,) = spec["tasks"]
    args = [resolve(p, target) for p in task["spark_python_task"]["parameters"]]
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
    parameters = task["spark_python_task"]["parameters"]
    checkpoint = parameters[parameters.index("--checkpoint-dir") + 1]
    assert checkpoint.startswith("/Volumes/${var.catalog}/${resources.schemas.bronze.name}/"
                                 "${resources.volumes.checkpoints.name}/")


# --- the dbt job ----------------------------------------------------------------------------


def dbt_task() -> tuple[Path, dict, dict]:
    path, spec = RESOURCES["jobs"]["dbt_job"]
    (task,) = spec["tasks"]
    clusters = {c["job_cluster_key"]: c["new_cluster"] for c in spec["job_clusters"]}
    return path, task, clusters[task["job_cluster_key"]]


def test_dbt_job_is_scheduled_and_runs_seed_then_build_on_the_databricks_target():
    spec = job("dbt_job")
    assert spec["schedule"]["quartz_cron_expression"] == "${var.dbt_schedule}"
    assert spec["schedule"]["pause_status"] == "PAUSED"
    assert prod_override("dbt_job") == {"schedule": {"pause_status": "UNPAUSED"}}
    assert len(resolve(spec["schedule"]["quartz_cron_expression"]).split()) in (6, 7), "a Quartz expression"
    assert spec["schedule"]["timezone_id"] == "UTC"
    path, task, _ = dbt_task()
    commands = task["dbt_task"]["commands"]
    assert [c.split()[:2] for c in commands] == [["dbt", "seed"], ["dbt", "build"]]
    for command in commands:
        words = command.split()
        assert words[words.index("--target") + 1] == "databricks", command
    # the project directory is this repo's dbt project, with its own profiles.yml
    project = repo_path(path, task["dbt_task"]["project_directory"])
    assert project == REPO_ROOT and (project / "dbt_project.yml").is_file()
    assert "profiles_directory" not in task["dbt_task"] and "warehouse_id" not in task["dbt_task"], (
        "a warehouse_id makes Databricks generate its own profile (no `databricks` target)"
    )
    profile_name = load(REPO_ROOT / "dbt_project.yml")["profile"]
    output = load(project / "profiles.yml")[profile_name]["outputs"]["databricks"]
    assert output["type"] == "databricks"


def test_dbt_job_environment_gives_the_profile_everything_it_reads():
    _, _, cluster = dbt_task()
    env = cluster["spark_env_vars"]
    profiles = (REPO_ROOT / "profiles.yml").read_text()
    databricks_output = yaml.dump(load(REPO_ROOT / "profiles.yml")["lakehouse"]["outputs"]["databricks"])
    needed = set(ENV_VAR.findall(databricks_output)) - {"DATABRICKS_SCHEMA_PREFIX"}  # default schema: unused
    assert needed <= set(env), f"the databricks target reads {sorted(needed - set(env))}, not set by the job"
    assert env["DATABRICKS_HTTP_PATH"] == "/sql/1.0/warehouses/${var.warehouse_id}"
    assert env["DATABRICKS_HOST"] == "${workspace.host}"
    assert env["DATABRICKS_TOKEN"] == "{{secrets/${var.secret_scope}/databricks-token}}"
    assert env["DATABRICKS_CATALOG"] == "${var.catalog}"
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
    parameters = task["spark_python_task"]["parameters"]
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
