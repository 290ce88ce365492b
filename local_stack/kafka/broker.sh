#!/usr/bin/env bash
# Local single-node Apache Kafka broker (KRaft) for tests and demos.
#   local_stack/kafka/broker.sh start [--name NAME]   # prints bootstrap=127.0.0.1:<port>
#   local_stack/kafka/broker.sh status [--name NAME]
#   local_stack/kafka/broker.sh stop [--name NAME]
# Jars are resolved once from Maven Central into .deps/kafka/ (see local_stack/kafka/pom.xml).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
python="$repo/.venv/bin/python"
[[ -x "$python" ]] || python="$(command -v python3)"
PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}" exec "$python" -m local_stack.kafka "$@"
