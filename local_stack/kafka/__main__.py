"""`python -m local_stack.kafka start|stop|status [--name NAME]` (local_stack/kafka/broker.sh):
a named local broker that outlives this command, for demos and the benchmarks."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from local_stack.kafka.broker import STATE_FILE, BrokerError, KafkaBroker


def _pointer(name: str) -> Path:
    return Path(tempfile.gettempdir()) / f"lakehouse-kafka-{name}.state"


def _attached(name: str) -> KafkaBroker | None:
    pointer = _pointer(name)
    if not pointer.exists():
        return None
    state_dir = Path(pointer.read_text().strip())
    if not (state_dir / STATE_FILE).exists():
        return None
    return KafkaBroker.attach(state_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="broker.sh", description="Local single-node Kafka (KRaft).")
    parser.add_argument("action", choices=("start", "stop", "status"))
    parser.add_argument("--name", default="default", help="several named brokers can run at once")
    parser.add_argument("--partitions", type=int, default=3, help="default partitions per topic")
    parser.add_argument("--timeout", type=float, default=120.0, help="start-up timeout (s)")
    args = parser.parse_args(argv)
    existing = _attached(args.name)
    try:
        if args.action == "start":
            if existing is not None and existing.is_running():
                print(f"broker: error: broker {args.name!r} already running "
                      f"(bootstrap={existing.bootstrap})", file=sys.stderr)
                return 1
            broker = KafkaBroker(partitions=args.partitions, startup_timeout=args.timeout).start()
            assert broker.dir is not None
            _pointer(args.name).write_text(str(broker.dir) + "\n")
            broker._process = None  # keep running after this process exits
            print(f"bootstrap={broker.bootstrap}")
            return 0
        if args.action == "stop":
            if existing is not None:
                existing.stop()
            _pointer(args.name).unlink(missing_ok=True)
            print(f"broker {args.name!r} stopped")
            return 0
        if existing is not None and existing.is_running():
            print(f"running pid={existing.pid} bootstrap={existing.bootstrap} dir={existing.dir}")
            return 0
        print(f"broker {args.name!r} not running")
        return 1
    except BrokerError as error:
        print(f"broker: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
