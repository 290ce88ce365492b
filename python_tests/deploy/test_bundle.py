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

import pytest
from databricks.bundles.jobs import Job

from python_tests.conftest import REPO_ROOT
from python_tests.deploy.bundle_model import (
    BUNDLE, BUNDLE_FILE, JOB_LEVEL_OF_BUNDLE_LEVEL, KNOWN_SUBSTITUTIONS, REFERENCE, RESOURCES, RESOURCE_FILES,
    SECRET, SERVICE_PRINCIPAL, TYPED_MODELS, job, load, resolve, strings, target_resource,
)


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
    assert set(RESOURCES["jobs"]) == {"streaming_ingest_job", "dbt_job", "capture_backfill_job", "dbt_full_sweep_job"}


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
                    # `id`: a deployed resource's id, e.g. a run_job_task's job_id
                    assert field in ("name", "id") or field in RESOURCES[kind][key][1], f"{source.name}: ${{{ref}}}"
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
    assert set(prod) == {"mode", "workspace", "run_as", "variables", "permissions", "resources"}
    assert prod["variables"] == {"health_alert_pause_status": "UNPAUSED"}  # alerts run in prod only
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
