"""The dbt `databricks` target, checked offline with dbt's own code: the profile loaded by
dbt's profile renderer into dbt-databricks' credential class (which credentials it picks from
the environment), and the project as `dbt parse --target databricks` renders it (grants,
docs, clustering, tags in target/manifest.json). Nothing here connects to a workspace."""

from __future__ import annotations

import json
import os
from argparse import Namespace
from pathlib import Path

import pytest
from dbt.adapters.databricks.credentials import DatabricksCredentialManager, DatabricksCredentials
from dbt.config.profile import Profile, read_profile
from dbt.config.renderer import ProfileRenderer
from dbt.exceptions import EnvVarMissingError
from dbt.flags import set_from_args
from dbt_common.context import set_invocation_context

from python_tests.conftest import REPO_ROOT, project_env, run

HOST = "dbc-1234567890123456.cloud.databricks.com"
CREDENTIAL_ENV = ("DATABRICKS_CLIENT_ID", "DATABRICKS_CLIENT_SECRET", "DATABRICKS_TOKEN", "DBT_ACCESS_TOKEN",
                  "DBT_HOST", "DATABRICKS_HOST", "BRONZE_SCHEMA")


def databricks_credentials(monkeypatch, **env: str) -> DatabricksCredentials:
    """The `databricks` output of profiles.yml as dbt loads it, under exactly this environment."""
    for name in CREDENTIAL_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABRICKS_HOST", HOST)
    monkeypatch.setenv("DATABRICKS_HTTP_PATH", "/sql/1.0/warehouses/0123456789abcdef")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    set_from_args(Namespace(), None)
    set_invocation_context(dict(os.environ))
    profile = Profile.from_raw_profiles(read_profile(str(REPO_ROOT)), "lakehouse", ProfileRenderer({}),
                                        target_override="databricks")
    credentials = profile.credentials
    assert isinstance(credentials, DatabricksCredentials)
    credentials.validate_creds()  # dbt-databricks' own check of the combination, before connecting
    return credentials


def chosen_authentication(credentials: DatabricksCredentials, monkeypatch) -> str:
    """Which of dbt-databricks' authentication paths its credential manager takes (the SDK
    Config each would build contacts the workspace, so it is recorded instead)."""
    chosen: list[str] = []
    for method in ("authenticate_with_pat", "authenticate_with_oauth_m2m", "authenticate_with_oidc",
                   "authenticate_with_external_browser", "legacy_authenticate_with_azure_client_secret",
                   "authenticate_with_azure_client_secret"):
        monkeypatch.setattr(DatabricksCredentialManager, method,
                            lambda self, method=method: chosen.append(method) or object())
    credentials.authenticate()._ensure_config()
    return chosen[0]


def test_in_a_dbt_task_the_injected_token_is_used(monkeypatch):
    credentials = databricks_credentials(monkeypatch, DBT_ACCESS_TOKEN="injected-for-run-as")
    assert credentials.token == "injected-for-run-as"
    assert not credentials.auth_type and not credentials.client_id and not credentials.client_secret
    assert chosen_authentication(credentials, monkeypatch) == "authenticate_with_pat"


def test_a_service_principal_uses_oauth_m2m_even_inside_a_dbt_task(monkeypatch):
    credentials = databricks_credentials(monkeypatch, DATABRICKS_CLIENT_ID="6f1c1e52-sp",
                                         DATABRICKS_CLIENT_SECRET="dose0123secret",
                                         DBT_ACCESS_TOKEN="injected", DATABRICKS_TOKEN="dapi-personal")
    assert (credentials.auth_type, credentials.client_id, credentials.client_secret, credentials.token) == (
        "oauth", "6f1c1e52-sp", "dose0123secret", "")
    assert chosen_authentication(credentials, monkeypatch) == "authenticate_with_oauth_m2m"


def test_a_personal_token_is_an_explicit_fallback(monkeypatch):
    credentials = databricks_credentials(monkeypatch, DATABRICKS_TOKEN="dapi-personal", DBT_ACCESS_TOKEN="injected")
    assert credentials.token == "dapi-personal"
    assert not credentials.auth_type
    assert chosen_authentication(credentials, monkeypatch) == "authenticate_with_pat"


def test_a_client_id_without_its_secret_never_falls_into_a_browser_login(monkeypatch):
    # auth_type oauth with a client id and no secret is dbt-databricks' browser (U2M) flow,
    # which would hang a job: the profile keeps using the token instead
    credentials = databricks_credentials(monkeypatch, DATABRICKS_CLIENT_ID="6f1c1e52-sp", DBT_ACCESS_TOKEN="injected")
    assert (credentials.auth_type, credentials.client_id, credentials.token) == ("", "", "injected")
    assert chosen_authentication(credentials, monkeypatch) == "authenticate_with_pat"


def test_no_credential_stops_with_the_variable_named(monkeypatch):
    with pytest.raises(EnvVarMissingError, match="Env var required but not provided: 'DBT_ACCESS_TOKEN'"):
        databricks_credentials(monkeypatch)


def test_the_session_opens_in_the_bronze_schema_the_bundle_creates(monkeypatch):
    # a schema nobody creates (the old default `dev`) fails every statement: SCHEMA_NOT_FOUND
    assert databricks_credentials(monkeypatch, DBT_ACCESS_TOKEN="t", BRONZE_SCHEMA="dev_alice_bronze"
                                  ).schema == "dev_alice_bronze"
    assert databricks_credentials(monkeypatch, DBT_ACCESS_TOKEN="t").schema == "bronze"


def the_job_environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = project_env(tmp_path / "lakehouse", DATABRICKS_HOST=HOST,
                      DATABRICKS_HTTP_PATH="/sql/1.0/warehouses/0123456789abcdef",
                      DBT_ACCESS_TOKEN="injected", **extra)
    for name in ("DBT_ANALYSTS_GROUP", "DBT_ENGINEERS_GROUP", "DATABRICKS_TOKEN", "DATABRICKS_CLIENT_ID",
                 "DATABRICKS_CLIENT_SECRET"):
        if name not in extra:
            env.pop(name, None)
    return env


def parsed_nodes(env: dict[str, str]) -> dict[str, dict]:
    """model / seed name → its manifest node, as `dbt parse --target databricks` renders it."""
    run(["dbt", "parse", "--target", "databricks", "--no-partial-parse"], env=env, cwd=REPO_ROOT, timeout=300)
    manifest = json.loads((Path(env["DBT_TARGET_PATH"]) / "manifest.json").read_text())
    return {node["name"]: node for node in manifest["nodes"].values() if node["resource_type"] in ("model", "seed")}


def parsed_configs(env: dict[str, str]) -> dict[str, dict]:
    """model / seed name → its config."""
    return {name: node["config"] for name, node in parsed_nodes(env).items()}


ENGINEER_LAYERS = {"stg_bronze__sales_events", "sales_simple", "sales_enriched", "sales_quarantine",
                   "int_customer_sales", "int_product_sales", "int_sales_by_day", "int_store_sales",
                   "audit_dbt_node_results", "audit_pipeline_health", "audit_quarantine_by_reason"}
SEEDS = {"channels", "customers", "products", "stock", "stores"}


@pytest.mark.dbt
def test_grants_go_only_to_the_configured_groups(tmp_path):
    configs = parsed_configs(the_job_environment(tmp_path, DBT_ANALYSTS_GROUP="bi_readers",
                                                 DBT_ENGINEERS_GROUP="lakehouse_engineers"))
    expected = {name: {"select": ["lakehouse_engineers"] if name in ENGINEER_LAYERS | SEEDS else ["bi_readers"]}
                for name in configs}
    assert {name: config["grants"] for name, config in configs.items()} == expected
    assert {"fct_sales", "dim_customer", "top_customers"} <= {n for n, g in expected.items() if g["select"] == ["bi_readers"]}


@pytest.mark.dbt
def test_without_groups_nothing_is_granted_and_the_databricks_configs_render(tmp_path):
    # on a fresh workspace no group is assumed: a grant to a missing principal fails every model
    nodes = parsed_nodes(the_job_environment(tmp_path, DBT_ANALYSTS_GROUP=""))
    configs = {name: node["config"] for name, node in nodes.items()}
    assert {name: config["grants"] for name, config in configs.items()} == {name: {} for name in configs}
    models = {name: config for name, config in configs.items() if name not in SEEDS}
    assert {name: config["persist_docs"] for name, config in models.items()} == {
        name: {"relation": True, "columns": True} for name in models}
    assert {name: config.get("liquid_clustered_by") for name, config in models.items()
            if config.get("liquid_clustered_by")} == {
        "sales_simple": ["loaded_at"], "sales_enriched": ["loaded_at"], "fct_sales": ["date_key", "store_key"]}
    assert {name for name, config in models.items() if config.get("databricks_tags") == {"pii": "true"}} == {
        "sales_simple", "sales_enriched", "sales_quarantine"}
    # every personal column a model writes carries a Unity Catalog column tag pii=true
    pii = {(name, column) for name, node in nodes.items() if name not in SEEDS
           for column, spec in node["columns"].items() if (spec.get("meta") or {}).get("pii")}
    tagged = {(name, column) for name, node in nodes.items() if name not in SEEDS
              for column, spec in node["columns"].items() if spec.get("databricks_tags") == {"pii": "true"}}
    assert ("top_customers", "customer_name") in pii and len(pii) == 10
    assert tagged == pii
