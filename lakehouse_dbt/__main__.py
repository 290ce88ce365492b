"""`python -m lakehouse_dbt ARGS` = `dbt ARGS` with the profile's ANSI setting honoured (bin/dbt)."""

import sys

from lakehouse_dbt import honour_profile_ansi_mode

if __name__ == "__main__":
    honour_profile_ansi_mode()
    from dbt.cli.main import cli

    sys.argv[0] = "dbt"
    sys.exit(cli())
