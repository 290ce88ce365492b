"""The run audit trail and the health alerts (models/audit, macros/audit.sql, local_stack/health.py)
on the hand-made datasets: two builds whose audit rows equal what they did, then each alert
made to fire by exactly its condition — a dirty batch, a stale bronze, a lost row, a failing
test, a growing stream lag — while a healthy state fires none.
"""

from __future__ import annotations

import datetime as dt
import sys

import pytest

from local_stack import health
from python_tests.conftest import REPO_ROOT, Lakehouse, run
from python_tests.datasets import REASONS_A, STAGE_A, STAGE_B, STAGE_C

pytestmark = [pytest.mark.spark, pytest.mark.dbt]

HEALTH_COLUMNS = ("bronze_rows_added", "sales_added", "duplicates_dropped", "quarantined_rows", "conserved")


def audit(spark, lakehouse: Lakehouse, table: str):
    return spark.read.format("delta").load(lakehouse.table_path("audit", table))


def audit_stream(spark, lakehouse: Lakehouse):
    return spark.read.format("delta").load(str(lakehouse.path("audit", "stream_batches"))).orderBy("batch_id")


def health_rows(spark, lakehouse: Lakehouse):
    return audit(spark, lakehouse, "audit_pipeline_health").orderBy("window_end").collect()


def node_statuses(spark, lakehouse: Lakehouse, invocation_id: str) -> dict[str, str]:
    rows = audit(spark, lakehouse, "audit_dbt_node_results").where(f"invocation_id = '{invocation_id}'").collect()
    assert len(rows) == len({r.unique_id for r in rows}), "a node was recorded twice"
    return {r.unique_id: r.status for r in rows}


def results_statuses(run_results: dict) -> dict[str, str]:
    """Each node's status in run_results.json, but the project hooks' (the trail is written by one)."""
    return {r["unique_id"]: r["status"] for r in run_results["results"] if not r["unique_id"].startswith("operation.")}


def firing(spark, lakehouse: Lakehouse, metrics_path: str = "", **overrides) -> dict[str, int | None]:
    """Each alert's `firing`, evaluated by local_stack/health.py's queries with the test's session."""
    args = health.parse_args([f"--{k.replace('_', '-')}={v}" for k, v in overrides.items()]
                             + (["--metrics-path", metrics_path] if metrics_path else []))
    names, missing = health.local_names(lakehouse.root, metrics_path)
    results = health.evaluate(lambda sql: [tuple(r) for r in spark.sql(sql).collect()], names,
                              health.settings_from(args), missing)
    return {r.alert: r.firing for r in results}


def write_stream_batches(spark, path: str, lags: list[int], ended: dt.datetime) -> None:
    """A stream metrics table of one query whose batches reported `lags`, 5 s apart."""
    from streaming_ingest.metrics import METRICS_SCHEMA

    rows = []
    for batch_id, lag in enumerate(lags):
        end = ended - dt.timedelta(seconds=5 * (len(lags) - 1 - batch_id))
        rows.append(("bronze_sales_events", "q-1", batch_id, end - dt.timedelta(seconds=1), end, 1.0, 100,
                     batch_id + 1, False, lag, None, batch_id - 1 if batch_id else None, end))
    spark.createDataFrame(rows, METRICS_SCHEMA).write.format("delta").mode("overwrite").save(path)


def test_audit_rows_equal_what_each_build_did_and_each_alert_fires_on_its_condition(spark, lakehouse, tmp_path):
    lakehouse.write_landing_file("sales-a.json", STAGE_A)
    lakehouse.ingest()
    with lakehouse.warm_dbt():
        lakehouse.dbt("build", "--exclude", "resource_type:unit_test")
        first = lakehouse.run_results()
        lakehouse.write_landing_file("sales-b.json", STAGE_B)
        lakehouse.ingest()
        lakehouse.dbt("build", "--exclude", "resource_type:unit_test")
        second = lakehouse.run_results()

        # one health row per build: STAGE_A's 30 lines, then STAGE_B's 4 (a re-send, two new
        # sales, one bad quantity); the second window starts where the first ended
        rows = health_rows(spark, lakehouse)
        assert [tuple(r[c] for c in HEALTH_COLUMNS) for r in rows] == [(30, 7, 2, 21, True), (4, 2, 1, 1, True)]
        assert [r.invocation_id for r in rows] == [first["metadata"]["invocation_id"],
                                                   second["metadata"]["invocation_id"]]
        assert rows[0].window_start == dt.datetime(1970, 1, 1) and rows[1].window_start == rows[0].window_end
        bronze_times = spark.read.format("delta").load(lakehouse.bronze_path).selectExpr(
            "max(ingestion_time) as newest").first().newest
        assert rows[1].window_end == rows[1].newest_ingestion_time == bronze_times
        assert [str(r.quarantine_share) for r in rows] == ["0.700000", "0.250000"]
        assert rows[1].newest_event_at == dt.datetime(2026, 11, 12, 18, 0)  # t-010, the newest of STAGE_B's sales
        by_reason = audit(spark, lakehouse, "audit_quarantine_by_reason").collect()
        assert {(r.invocation_id, r.rejection_reason): r.quarantined_rows for r in by_reason} == {
            **{(rows[0].invocation_id, reason): n for reason, n in REASONS_A.items()},
            (rows[1].invocation_id, "invalid_quantity"): 1,
        }

        # the stream metrics of the two ingest runs (available-now, landing files): one batch each
        batches = audit_stream(spark, lakehouse).collect()
        assert [(b.batch_id, b.rows, b.replayed, b.offsets_behind_latest) for b in batches] == [
            (0, 30, False, None), (1, 4, False, None)]

        # one node-results row per node of each build, with dbt's own status
        for build in (first, second):
            assert node_statuses(spark, lakehouse, build["metadata"]["invocation_id"]) == results_statuses(build)
        statuses = set(results_statuses(second).values())
        assert statuses <= {"success", "pass", "warn", "no-op"} and {"success", "pass"} <= statuses

        # healthy (for these hand-made, very dirty batches: a share limit of 0.5): nothing fires
        assert firing(spark, lakehouse, max_quarantine_share=0.5) == {
            "stale_data": 0, "quarantine_share": 0, "conservation_mismatch": 0, "failing_test": 0, "stream_lag": 0,
        }
        # an abnormal quarantine share: STAGE_B's 1 of 4 rows is above 0.2
        assert firing(spark, lakehouse, max_quarantine_share=0.2)["quarantine_share"] == 1
        assert set(k for k, v in firing(spark, lakehouse, max_quarantine_share=0.2).items() if v) == {"quarantine_share"}
        # a stale bronze: two hours after its newest row, with a 60-minute limit
        later = (bronze_times + dt.timedelta(hours=2)).isoformat(sep=" ")
        assert {k for k, v in firing(spark, lakehouse, max_quarantine_share=0.5, as_of=later).items() if v} == {
            "stale_data"}
        assert firing(spark, lakehouse, max_quarantine_share=0.5, as_of=later, stale_minutes=180)["stale_data"] == 0

        # a growing stream lag: above the limit and above the lag three batches earlier
        metrics = str(tmp_path / "stream_batches")
        now = dt.datetime.now(dt.timezone.utc)
        write_stream_batches(spark, metrics, [50, 150_000, 180_000, 210_000, 240_000], now)
        assert {k for k, v in firing(spark, lakehouse, metrics, max_quarantine_share=0.5).items() if v} == {
            "stream_lag"}
        write_stream_batches(spark, metrics, [300_000, 250_000, 200_000, 150_000, 120_000], now)  # catching up
        assert firing(spark, lakehouse, metrics, max_quarantine_share=0.5)["stream_lag"] == 0
        write_stream_batches(spark, metrics, [10, 20, 30, 40, 50], now)  # growing, but small
        assert firing(spark, lakehouse, metrics, max_quarantine_share=0.5)["stream_lag"] == 0

        # a lost row: STAGE_C's new sale t-012 is deleted from silver before the audit counts it
        lakehouse.write_landing_file("sales-c.json", STAGE_C)
        lakehouse.ingest()
        lakehouse.dbt("run", "--exclude", "tag:audit")
        spark.sql(f"delete from delta.`{lakehouse.table_path('silver', 'sales_simple')}` where transaction_id = 't-012'")
        lakehouse.dbt("run", "--select", "tag:audit")
        assert tuple(health_rows(spark, lakehouse)[-1][c] for c in HEALTH_COLUMNS) == (3, 1, 1, 0, False)
        assert {k for k, v in firing(spark, lakehouse, max_quarantine_share=0.5).items() if v} == {
            "conservation_mismatch"}

        # a failing test: the conservation test now fails; its run is recorded with 1 failure
        result = lakehouse._session.run("test", "--select", "assert_bronze_rows_are_conserved")
        assert result.returncode == 1
        tested = lakehouse.run_results()
        recorded = audit(spark, lakehouse, "audit_dbt_node_results").where(
            f"invocation_id = '{tested['metadata']['invocation_id']}'").collect()
        assert [(r.node_name, r.resource_type, r.status, r.failures, r.command) for r in recorded] == [
            ("assert_bronze_rows_are_conserved", "test", "fail", 1, "test")]
        assert {k for k, v in firing(spark, lakehouse, max_quarantine_share=0.5).items() if v} == {
            "conservation_mismatch", "failing_test"}

    # `make health`'s command: prints each alert and exits 1 when one fires
    shown = run_health(lakehouse, "--max-quarantine-share", "0.5", expect=1)
    assert "conservation_mismatch  FIRING" in shown and "failing_test           FIRING" in shown
    assert "[health] 2 alert(s) firing: conservation_mismatch, failing_test" in shown
    # the ingest runs' metrics (landing files: no offsets, so no lag to alert on)
    assert "stream_lag             ok      no stream lag reported in the last hour" in shown


def run_health(lakehouse: Lakehouse, *args: str, expect: int) -> str:
    import subprocess

    result = subprocess.run([sys.executable, str(REPO_ROOT / "local_stack" / "health.py"), *args], env=lakehouse.env,
                            cwd=lakehouse.root, capture_output=True, text=True, timeout=300)
    assert result.returncode == expect, result.stdout + result.stderr
    return result.stdout + result.stderr


def test_health_without_audit_tables_names_make_demo(tmp_path):
    empty = Lakehouse(tmp_path / "empty")
    shown = run_health(empty, expect=2)
    assert "no audit tables" in shown and "make demo" in shown


def test_the_bundle_alerts_are_the_local_alerts():
    assert (REPO_ROOT / "resources" / "health_alerts.yml").read_text() == health.bundle_yaml()
    assert run([sys.executable, str(REPO_ROOT / "local_stack" / "health.py"), "--bundle-yaml"], env=None,
               cwd=REPO_ROOT).stdout == health.bundle_yaml()
