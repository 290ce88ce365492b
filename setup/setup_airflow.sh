#!/usr/bin/env bash
# Sets up Airflow 3 for the DAGs in orchestration/dags (docs/airflow.md), once; later runs are
# offline no-ops. Its own virtualenv, .venv-airflow, with the pins of setup/airflow.lock: Airflow
# is not part of the project's base install. The DAG's local tasks run the project's own .venv.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv-airflow"
PYTHON="${PYTHON:-python3.11}"

say() { printf '[setup-airflow] %s\n' "$*"; }
die() { printf '[setup-airflow] ERROR: %s\n' "$*" >&2; exit 1; }

command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
command -v "$PYTHON" >/dev/null 2>&1 || die "Python 3.11 not found: install python3.11 (or set PYTHON=/path/to/python3.11)"
stamp="$(sha256sum setup/airflow.lock | cut -c1-16)"
if [ ! -x "$VENV/bin/airflow" ] || [ "$(cat "$VENV/.stamp" 2>/dev/null)" != "$stamp" ]; then
  start=$SECONDS
  say "creating $VENV and installing Airflow 3 (first time: ~2 min, ~650 MB)"
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade "pip>=24" >/dev/null 2>&1 || true
  if ! "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r setup/airflow.lock; then
    die "could not install Airflow from the package index: check that PyPI (or your PIP_INDEX_URL) is reachable, then re-run 'make setup-airflow'"
  fi
  echo "$stamp" > "$VENV/.stamp"
  say "Airflow ready in $((SECONDS - start)) s"
fi
