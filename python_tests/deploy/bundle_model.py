"""The bundle as the tests read it: databricks.yml and resources/*.yml loaded, targets merged
the way the databricks CLI merges them, ${...} references resolved (test_bundle*.py)."""

from __future__ import annotations

import copy
import re
import tomllib
from pathlib import Path

import yaml
from databricks.bundles.alerts import Alert
from databricks.bundles.dashboards import Dashboard
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
TYPED_MODELS = {"jobs": Job, "schemas": Schema, "volumes": Volume, "alerts": Alert, "dashboards": Dashboard}
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
