"""`python -m lakehouse_dbt ARGS` = `dbt ARGS` with the profile's ANSI setting honoured (bin/dbt)."""

import sys

from lakehouse_dbt import honour_profile_ansi_mode

if __name__ == "__main__":
    from streaming_ingest.spark_session import local_bronze_path, settle_small_data, small_data

    small_data()  # a bad LAKEHOUSE_SMALL_DATA stops here, naming it (profiles.yml reads it too)
    settle_small_data(local_bronze_path())  # unset: small-data mode while bronze is small
    from lakehouse_dbt.prestart import prestart

    prestart(sys.argv[1:])  # the local target's Spark JVM starts while dbt does (prestart.py)
    honour_profile_ansi_mode()
    from dbt.cli.main import cli

    sys.argv[0] = "dbt"
    sys.exit(cli())
