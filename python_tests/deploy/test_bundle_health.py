"""The health alerts and the audit schema in the bundle (resources/health_alerts.yml,
resources/bronze_storage.yml): the alerts `make health` evaluates, reading the schema dbt's
audit models and the streaming job's metrics are written to, on each target."""

from __future__ import annotations

import pytest
from databricks.bundles.alerts import Alert

from local_stack import health
from python_tests.deploy.bundle_model import RESOURCES, job, resolve, target_resource, variable_values


@pytest.mark.parametrize("target, schema, paused", [("dev", "dev_alice_audit", "PAUSED"), ("prod", "audit", "UNPAUSED")])
def test_each_alert_reads_the_audit_schema_on_its_schedule(target, schema, paused):
    alerts = RESOURCES["alerts"]
    assert set(alerts) == {f"health_{alert.name}" for alert in health.ALERTS}
    # dbt's audit schema on the target: DBT_SCHEMA_PREFIX (schema_prefix) + _audit, or audit
    prefix = resolve("${var.schema_prefix}", target)
    assert (f"{prefix}_audit" if prefix else "audit") == schema
    for key in alerts:
        spec = target_resource(target, "alerts", key)
        Alert.from_dict(spec)
        query = resolve(spec["query_text"], target)
        assert f"main.{schema}." in query and "${" not in query
        assert resolve(spec["schedule"]["pause_status"], target) == paused
        assert spec["evaluation"]["source"]["name"] == "firing"
        assert (spec["evaluation"]["comparison_operator"], spec["evaluation"]["threshold"]) == (
            "GREATER_THAN", {"value": {"double_value": 0}})
        assert resolve(spec["warehouse_id"], target) == variable_values(target)["warehouse_id"]
    # the thresholds are the local defaults
    for threshold in health.THRESHOLDS:
        assert str(variable_values(target)[f"health_{threshold.name}"]) == threshold.default


def test_the_streaming_job_writes_its_metrics_where_the_alerts_read_them():
    parameters = job("streaming_ingest_job")["tasks"][0]["python_wheel_task"]["parameters"]
    table = parameters[parameters.index("--metrics-table") + 1]
    assert resolve(table, "dev") == "main.dev_alice_audit.stream_batches"
    assert resolve(table, "prod") == "main.audit.stream_batches"
    lag = RESOURCES["alerts"]["health_stream_lag"][1]["query_text"]
    assert "${var.catalog}.${resources.schemas.audit.name}.stream_batches" in lag
