"""dbt as this project runs it: dbt-spark with the profile's `spark.sql.ansi.enabled` honoured.

Databricks SQL warehouses run with ANSI_MODE = true: an overflowing sum or cast is an error
there, not a null. dbt-spark 1.10 writes `spark.sql.ansi.enabled = "false"` over every profile
(`SparkCredentials.__post_init__`), and in session mode it applies the profile's
`server_side_parameters` to the one SparkSession again before *every* statement, so neither
the profile nor a `SET` in a hook can turn ANSI on for the `local` target.
`honour_profile_ansi_mode()` makes the profile's own value win: with it, the `local` target's
`spark.sql.ansi.enabled: "true"` (profiles.yml) reaches every statement of every node — models,
tests, unit tests, seeds, `dbt show`. A profile without the key keeps dbt-spark's behaviour.

It must run before dbt loads the profile: `bin/dbt` runs dbt as `python -m lakehouse_dbt`, and a
program that calls dbt in-process calls `honour_profile_ansi_mode()` before `dbtRunner().invoke`
(as `lakehouse_dbt.session` does: several dbt commands in one process, one warm Spark JVM).
"""

from __future__ import annotations

ANSI_KEY = "spark.sql.ansi.enabled"


def honour_profile_ansi_mode() -> None:
    """Let a spark profile's `spark.sql.ansi.enabled` override dbt-spark's forced "false" (idempotent)."""
    from dbt.adapters.spark.connections import SparkCredentials

    forced = SparkCredentials.__post_init__
    if getattr(forced, "honours_profile_ansi_mode", False):
        return

    def __post_init__(self: SparkCredentials) -> None:
        wanted = (self.server_side_parameters or {}).get(ANSI_KEY)
        forced(self)
        if wanted is not None:
            self.server_side_parameters[ANSI_KEY] = str(wanted)
        from lakehouse_dbt.prestart import check_profile_parameters

        check_profile_parameters(self.server_side_parameters or {})  # bin/dbt's early Spark start

    __post_init__.honours_profile_ansi_mode = True
    SparkCredentials.__post_init__ = __post_init__
