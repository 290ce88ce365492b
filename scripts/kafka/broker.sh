#!/usr/bin/env bash
# Local single-node Apache Kafka broker (KRaft) for tests and demos.
#   scripts/kafka/broker.sh start [--name NAME]   # prints bootstrap=127.0.0.1:<port>
#   scripts/kafka/broker.sh status [--name NAME]
#   scripts/kafka/broker.sh stop [--name NAME]
# Jars are resolved once from Maven Central into .deps/kafka/ (see scripts/kafka/pom.xml).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
python="$repo/.venv/bin/python"
[[ -x "$python" ]] || python="$(command -v python3)"
exec "$python" "$here/broker.py" "$@"
