"""``python -m producer`` (and the ``lakehouse-producer`` script)."""

from __future__ import annotations

import sys

from producer.cli import main

if __name__ == "__main__":
    sys.exit(main())
