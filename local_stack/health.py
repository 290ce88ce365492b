"""`make health`: the pipeline's alerts, evaluated over the audit tables; exit 1 when one fires.

Usage: python local_stack/health.py [--as-of TIMESTAMP] [--stale-minutes N]
           [--max-quarantine-share X] [--conservation-hours N] [--max-stream-lag N] [--lag-batches N]

Each alert is one Spark SQL query (ALERTS below) over the audit tables that returns one row:
`firing` (0 = fine, more = that many findings) and `detail` (what it saw). The same queries,
with the thresholds as bundle variables, are the Databricks SQL alerts the bundle deploys
(resources/health_alerts.yml, written by `python local_stack/health.py --bundle-yaml`; a test
keeps the file equal to it). Locally the tables are read by path, with a SparkSession: Spark
SQL is what the warehouse runs.

Exit status: 0 no alert fires, 1 one or more fire, 2 there is nothing to check yet (no build
has written the audit tables: run `make demo`).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # run as a script (make health)
    sys.path.insert(0, str(REPO_ROOT))

from streaming_ingest.config import lakehouse_dir  # noqa: E402


@dataclass(frozen=True)
class Threshold:
    name: str  # the SQL placeholder, the CLI flag (--stale-minutes) and the bundle variable (health_stale_minutes)
    default: str
    help: str


THRESHOLDS = (
    Threshold("stale_minutes", "60", "stale_data fires when silver's newest bronze row is older than this"),
    Threshold("max_quarantine_share", "0.05", "quarantine_share fires when the latest build quarantined more"),
    Threshold("conservation_hours", "24", "conservation_mismatch looks at the builds of the last N hours"),
    Threshold("max_stream_lag", "100000", "stream_lag fires when the stream is more offsets behind than this..."),
    Threshold("lag_batches", "3", "...and more than it was this many batches earlier (the lag grows)"),
)


@dataclass(frozen=True)
class Alert:
    name: str
    summary: str
    tables: tuple[str, ...]  # audit tables it reads
    sql: str


ALERTS = (
    Alert(
        "stale_data",
        "Silver's newest bronze row is older than {stale_minutes} minutes: the stream or dbt has stopped.",
        ("health",),
        """
select
    case
        when max(newest_ingestion_time) is null then 1
        when max(newest_ingestion_time) < {now} - interval {stale_minutes} minutes then 1
        else 0
    end as firing,
    concat(
        'newest bronze row in silver: ', coalesce(cast(max(newest_ingestion_time) as string), 'none'),
        ', limit {stale_minutes} minutes'
    ) as detail
from {health}
""",
    ),
    Alert(
        "quarantine_share",
        "The latest build quarantined more than {max_quarantine_share} of its bronze rows.",
        ("health",),
        """
with latest as (
    select invocation_id, bronze_rows_added, quarantined_rows, quarantine_share
    from {health}
    where bronze_rows_added > 0
    order by window_end desc
    limit 1
)
select
    coalesce(max(case when quarantine_share > {max_quarantine_share} then 1 else 0 end), 0) as firing,
    coalesce(
        max(concat(
            'build ', invocation_id, ': ', cast(quarantined_rows as string), ' of ',
            cast(bronze_rows_added as string), ' rows quarantined (', cast(quarantine_share as string),
            '), limit {max_quarantine_share}'
        )),
        'no build has counted bronze rows yet'
    ) as detail
from latest
""",
    ),
    Alert(
        "conservation_mismatch",
        "A build of the last {conservation_hours} hours lost or doubled rows (bronze != sales + duplicates + quarantine).",
        ("health",),
        """
select
    count(*) as firing,
    case
        when count(*) = 0 then 'every build of the last {conservation_hours} hours conserved its bronze rows'
        else concat('not conserved: ', array_join(collect_list(concat(
            'build ', invocation_id, ' (bronze ', cast(bronze_rows_added as string),
            ' != sales ', cast(sales_added as string), ' + duplicates ', cast(duplicates_dropped as string),
            ' + quarantine ', cast(quarantined_rows as string), ')'
        )), '; '))
    end as detail
from {health}
where not conserved
    and built_at >= {now} - interval {conservation_hours} hours
""",
    ),
    Alert(
        "failing_test",
        "A data or unit test failed (or errored) in the latest dbt invocation that ran tests.",
        ("node_results",),
        """
with latest as (
    select invocation_id
    from {node_results}
    where resource_type in ('test', 'unit_test')
    order by run_started_at desc
    limit 1
),

failed as (
    select results.node_name, results.status
    from {node_results} as results
    inner join latest
        on results.invocation_id = latest.invocation_id
    where results.resource_type in ('test', 'unit_test')
        and results.status in ('fail', 'error')
)

select
    count(*) as firing,
    case
        when count(*) = 0 then 'no failing test in the latest run of the tests'
        else concat('failing: ', array_join(sort_array(collect_list(concat(node_name, ' (', status, ')'))), ', '))
    end as detail
from failed
""",
    ),
    Alert(
        "stream_lag",
        "The stream is more than {max_stream_lag} offsets behind and falling further behind.",
        ("stream_batches",),
        """
with ranked as (
    select
        offsets_behind_latest as lag,
        row_number() over (order by batch_id desc) as newest_first
    from {stream_batches}
    where offsets_behind_latest is not null
        and ended_at >= {now} - interval 1 hour
        and query_id = (select max_by(query_id, ended_at) from {stream_batches})
),

newest as (
    select lag from ranked where newest_first = 1
),

earlier as (
    select lag from ranked where newest_first = 1 + {lag_batches}
)

select
    coalesce(max(case when newest.lag > {max_stream_lag} and newest.lag > earlier.lag then 1 else 0 end), 0)
        as firing,
    coalesce(
        max(concat(
            'offsets behind latest: ', cast(newest.lag as string), ' now, ', cast(earlier.lag as string),
            ' {lag_batches} batches earlier, limit {max_stream_lag}'
        )),
        'no stream lag reported in the last hour'
    ) as detail
from newest
cross join earlier
""",
    ),
)

# the audit tables, as the dbt `local` target and the streaming job write them (by path)
LOCAL_TABLES = {
    "health": ("warehouse", "audit.db", "audit_pipeline_health"),
    "node_results": ("warehouse", "audit.db", "audit_dbt_node_results"),
    "stream_batches": ("audit", "stream_batches"),
}


def render(alert: Alert, names: dict[str, str], settings: dict[str, str]) -> str:
    return alert.sql.strip().format(**names, **settings)


@dataclass(frozen=True)
class Result:
    alert: str
    firing: int | None  # None: not evaluated (a table it reads does not exist yet)
    detail: str


def evaluate(run: Callable[[str], Sequence[tuple]], names: dict[str, str], settings: dict[str, str],
             missing: set[str] = frozenset()) -> list[Result]:
    """Every alert's result; `run` executes one query and returns its rows."""
    results = []
    for alert in ALERTS:
        absent = [table for table in alert.tables if table in missing]
        if absent:
            results.append(Result(alert.name, None, f"not evaluated: no {', '.join(absent)} table yet"))
            continue
        firing, detail = run(render(alert, names, settings))[0]
        results.append(Result(alert.name, int(firing), detail))
    return results


def print_results(results: list[Result]) -> None:
    width = max(len(r.alert) for r in results)
    for r in results:
        state = "n/a" if r.firing is None else "FIRING" if r.firing else "ok"
        print(f"  {r.alert:<{width}}  {state:<6}  {r.detail}")


def local_names(lakehouse: Path, metrics_path: str = "") -> tuple[dict[str, str], set[str]]:
    """Table names for Spark SQL by path, and the audit tables that do not exist yet."""
    paths = {name: lakehouse.joinpath(*parts) for name, parts in LOCAL_TABLES.items()}
    if metrics_path:
        paths["stream_batches"] = Path(metrics_path)
    missing = {name for name, path in paths.items() if not (path / "_delta_log").is_dir()}
    return {name: f"delta.`{path}`" for name, path in paths.items()}, missing


def settings_from(args: argparse.Namespace) -> dict[str, str]:
    settings = {t.name: str(getattr(args, t.name)) for t in THRESHOLDS}
    settings["now"] = f"timestamp '{args.as_of}'" if args.as_of else "current_timestamp()"
    return settings


def bundle_yaml() -> str:
    """resources/health_alerts.yml: the alerts as Databricks SQL alerts (see docs/health.md)."""
    names = {
        "health": "${var.catalog}.${resources.schemas.audit.name}.audit_pipeline_health",
        "node_results": "${var.catalog}.${resources.schemas.audit.name}.audit_dbt_node_results",
        "stream_batches": "${var.catalog}.${resources.schemas.audit.name}.stream_batches",
    }
    settings = {t.name: f"${{var.health_{t.name}}}" for t in THRESHOLDS}
    settings["now"] = "current_timestamp()"
    lines = [
        "# Generated by `python local_stack/health.py --bundle-yaml > resources/health_alerts.yml`: the",
        "# alerts `make health` evaluates locally, as Databricks SQL alerts on the audit tables (one",
        "# query each; it fires when `firing` > 0). Edit ALERTS in local_stack/health.py, not this file.",
        "resources:",
        "  alerts:",
    ]
    for alert in ALERTS:
        lines += [
            f"    health_{alert.name}:",
            f"      display_name: \"[retail-lakehouse] {alert.name}\"",
            f"      custom_summary: \"{alert.summary.format(**settings)}\"",
            "      warehouse_id: ${var.warehouse_id}",
            "      query_text: |",
            *[f"        {line}" if line else "" for line in render(alert, names, settings).splitlines()],
            "      evaluation:",
            "        source:",
            "          name: firing",
            "        comparison_operator: GREATER_THAN",
            "        threshold:",
            "          value:",
            "            double_value: 0",
            "        empty_result_state: OK",
            "        notification:",
            "          notify_on_ok: true",
            "          subscriptions: ${var.health_alert_subscriptions}",
            "      schedule:",
            "        quartz_cron_schedule: ${var.health_alert_schedule}",
            "        timezone_id: UTC",
            "        pause_status: ${var.health_alert_pause_status}",
        ]
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--as-of", default="", metavar="TIMESTAMP",
                        help="evaluate as if it were this UTC time, e.g. '2026-12-01 10:00:00' (default: now)")
    for threshold in THRESHOLDS:
        parser.add_argument(f"--{threshold.name.replace('_', '-')}", dest=threshold.name, default=threshold.default,
                            type=float if "." in threshold.default else int,
                            help=f"{threshold.help} (default {threshold.default})")
    parser.add_argument("--metrics-path", default="", metavar="PATH",
                        help="the stream metrics table (default: the streaming job's, $LAKEHOUSE_DIR/audit/stream_batches)")
    parser.add_argument("--bundle-yaml", action="store_true", help="print resources/health_alerts.yml and exit")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.bundle_yaml:
        sys.stdout.write(bundle_yaml())
        return 0
    started = time.monotonic()
    lakehouse = Path(lakehouse_dir()).resolve()
    names, missing = local_names(lakehouse, args.metrics_path)
    if {"health", "node_results"} & missing:
        print(f"[health] ERROR: no audit tables in {lakehouse}: run `make demo` (or ingest and `make build`) first",
              file=sys.stderr)
        return 2
    from streaming_ingest.spark_session import local_spark

    spark = local_spark("health", lakehouse_dir=str(lakehouse))
    try:
        results = evaluate(lambda sql: [tuple(row) for row in spark.sql(sql).collect()], names,
                           settings_from(args), missing)
    finally:
        spark.stop()
    firing = [r.alert for r in results if r.firing]
    print(f"== pipeline health ({'as of ' + args.as_of if args.as_of else 'now'})")
    print_results(results)
    print(f"[health] {len(firing)} alert(s) firing{': ' + ', '.join(firing) if firing else ''}; "
          f"checked in {time.monotonic() - started:.1f} s")
    return 1 if firing else 0


if __name__ == "__main__":
    sys.exit(main())
