"""Command line: ``python -m producer dims|events ...``.

Bad settings exit with status 2 and one line on stderr naming the setting.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn, Sequence

from producer.config import (
    DEFAULT_SEEDS_DIR,
    DEFAULT_SIM_RATE,
    DEFAULT_TOPIC,
    SINKS,
    ConfigError,
    CaptureSinkConfig,
    DirtyMix,
    EventHubsSinkConfig,
    EventsConfig,
    FilesSinkConfig,
    KafkaSinkConfig,
    default_capture_dir,
    default_landing_dir,
    parse_start,
)
from producer.dims import write_dims
from producer.dirty import KINDS

DEFAULT_DIRTY_FRACTION = 0.01

KIND_HELP = {
    "duplicates": "identical re-sends of earlier valid events (valid; dropped by silver dedup)",
    "late": "valid events whose event_timestamp is 1-5 days in the past",
    "unknown_ids": "valid events with a store/channel/product/customer id not in the dims",
    "extra_fields": "valid events with extra keys the contract does not know",
    "malformed_json": "lines that are not a JSON object (truncated or garbled)",
    "missing_transaction_id": "transaction_id missing, null or empty",
    "invalid_timestamp": "event_timestamp missing, null or unparseable",
    "future_timestamp": "event_timestamp --future-days to --future-days+1 days ahead",
    "invalid_quantity": "quantity 0, negative, 2.5 or \"two\"",
    "invalid_price": "unit_price negative or a non-number string",
    "invalid_discount": "discount_pct 1.0, 1.5 or -0.1",
    "missing_reference": "store_id, channel_id or product_id missing, null or empty",
    "unsupported_currency": "currency EUR or GBP",
}


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error (``producer: error: ...``) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        fail(message)


def fail(message: str) -> NoReturn:
    print(f"producer: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def _number(kind: type, flag: str):
    def convert(text: str):
        try:
            return kind(text)
        except ValueError:
            what = "an integer" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"must be {what} (got {text!r})") from None
    convert.__name__ = flag  # argparse names the converter in some messages
    return convert


def build_parser() -> Parser:
    parser = Parser(prog="producer", description="Retail sales event producer for the lakehouse.")
    commands = parser.add_subparsers(dest="command", metavar="{dims,events}", required=True)

    dims = commands.add_parser("dims", help="write the five dimension seed CSVs (deterministic)",
                               description="Write products, stores, channels, customers and "
                                           "stock CSVs (same seed -> identical bytes).")
    dims.add_argument("--seed", type=_number(int, "--seed"), default=42)
    dims.add_argument("--out", type=Path, default=DEFAULT_SEEDS_DIR,
                      help="output directory (default: the repo's seeds/)")

    events = commands.add_parser(
        "events", help="send sales events to files, Kafka, Event Hubs or a Capture archive",
        description="Send sales events (contract section 1), optionally with dirty data.")
    events.add_argument("--sink", default="files", help=f"one of {', '.join(SINKS)} (default files)")
    events.add_argument("--seed", type=_number(int, "--seed"), default=42)
    events.add_argument("--seeds-dir", type=Path, default=DEFAULT_SEEDS_DIR,
                        help="directory with products/stores/channels/customers.csv")
    volume = events.add_argument_group("volume and pacing")
    volume.add_argument("--total", type=_number(int, "--total"), help="number of messages to send")
    volume.add_argument("--rate", type=_number(float, "--rate"), default=0.0,
                        help="messages per second (0 = as fast as possible; default 0)")
    volume.add_argument("--duration", type=_number(float, "--duration"),
                        help="stop after this many seconds")
    volume.add_argument("--start", help="event time of the first event, ISO-8601 (default: now); "
                                         "given, timestamps never depend on the wall clock")
    volume.add_argument("--sim-rate", type=_number(float, "--sim-rate"),
                        help="events per second of event time: event i is stamped "
                             f"start + i/sim-rate (default: --rate, or {DEFAULT_SIM_RATE:g})")
    volume.add_argument("--future-days", type=_number(float, "--future-days"), default=3.0,
                        help="future_timestamp events are this many (to +1) days after their "
                             "nominal time (default 3); with a --start far in the past, raise it "
                             "so they are still ahead of the ingestion time")
    dirty = events.add_argument_group("dirty data (fractions of messages, each in [0, 1])")
    dirty.add_argument("--dirty", type=_number(float, "--dirty"), nargs="?",
                       const=DEFAULT_DIRTY_FRACTION, metavar="FRACTION",
                       help=f"set every kind below not given explicitly to FRACTION "
                            f"(default {DEFAULT_DIRTY_FRACTION:g})")
    for kind in KINDS:
        flag = "--" + kind.replace("_", "-")
        dirty.add_argument(flag, dest=kind, type=_number(float, flag), metavar="F",
                           help=KIND_HELP[kind])
    output = events.add_argument_group("output")
    output.add_argument("--summary-json", type=Path, help="also write the final summary here")
    output.add_argument("--quiet", action="store_true", help="no progress line")
    files = events.add_argument_group("files sink")
    files.add_argument("--landing-dir", type=Path,
                       help="default: $LAKEHOUSE_DIR/landing/sales (LAKEHOUSE_DIR default "
                            "<repo>/.lakehouse)")
    files.add_argument("--file-max-events", type=_number(int, "--file-max-events"),
                       default=100_000)
    files.add_argument("--file-max-bytes", type=_number(int, "--file-max-bytes"), default=0,
                       help="0 = no limit")
    files.add_argument("--file-max-seconds", type=_number(float, "--file-max-seconds"),
                       default=5.0, help="publish a partly filled file after this long "
                                         "(0 = never; default 5)")
    capture = events.add_argument_group(
        "capture sink (Avro files as Event Hubs Capture writes them: producer/sinks/capture.py)")
    capture.add_argument("--capture-dir", type=Path,
                         help="the archive's root (default: $LAKEHOUSE_DIR/capture)")
    capture.add_argument("--capture-namespace", default="lakehouse-local",
                         help="{Namespace} of the folder layout (default lakehouse-local)")
    capture.add_argument("--capture-eventhub", default=DEFAULT_TOPIC,
                         help=f"{{EventHub}} of the folder layout (default {DEFAULT_TOPIC})")
    capture.add_argument("--capture-partitions", type=_number(int, "--capture-partitions"), default=4,
                         help="the event hub's partitions (default 4)")
    capture.add_argument("--capture-window-seconds", type=_number(float, "--capture-window-seconds"),
                         default=60.0, help="capture time window: one file per partition and window "
                                            "(default 60; Capture's own default is 300)")
    kafka = events.add_argument_group("kafka sink")
    kafka.add_argument("--bootstrap-servers", help="default: $KAFKA_BOOTSTRAP_SERVERS, or the "
                                                   "Event Hubs Kafka endpoint")
    kafka.add_argument("--topic", default=DEFAULT_TOPIC)
    kafka.add_argument("--kafka-config", action="append", default=[], metavar="KEY=VALUE",
                       help="extra librdkafka setting (repeatable)")
    hubs = events.add_argument_group("eventhubs sink (and Event Hubs' Kafka endpoint)")
    hubs.add_argument("--eventhubs-connection-string",
                      help="default: $EVENTHUB_CONNECTION_STRING")
    hubs.add_argument("--eventhub-name", help="default: $EVENTHUB_NAME or EntityPath")
    hubs.add_argument("--send-retries", type=_number(int, "--send-retries"), default=3,
                      help="retries of a failed send_batch after the SDK's own (default 3)")
    return parser


def events_config(args: argparse.Namespace) -> EventsConfig:
    """Flags and environment -> a validated EventsConfig (raises ConfigError)."""
    default_fraction = args.dirty if args.dirty is not None else 0.0
    if args.dirty is not None and not 0.0 <= args.dirty <= 1.0:
        raise ConfigError(f"--dirty must be a fraction in [0, 1] (got {args.dirty:g})")
    mix = DirtyMix(**{kind: (getattr(args, kind) if getattr(args, kind) is not None
                             else default_fraction) for kind in KINDS})
    files = kafka = eventhubs = capture = None
    if args.sink == "files":
        files = FilesSinkConfig(args.landing_dir or default_landing_dir(), args.file_max_events,
                                args.file_max_bytes, args.file_max_seconds)
    elif args.sink == "capture":
        capture = CaptureSinkConfig(args.capture_dir or default_capture_dir(), args.capture_namespace,
                                    args.capture_eventhub, args.capture_partitions,
                                    args.capture_window_seconds)
    elif args.sink == "kafka":
        kafka = KafkaSinkConfig.resolve(args.bootstrap_servers, args.topic,
                                        args.eventhubs_connection_string, args.kafka_config)
    elif args.sink == "eventhubs":
        eventhubs = EventHubsSinkConfig.resolve(args.eventhubs_connection_string,
                                                args.eventhub_name, args.send_retries)
    rate = args.rate
    sim_rate = args.sim_rate if args.sim_rate is not None else (rate if rate > 0 else DEFAULT_SIM_RATE)
    config = EventsConfig(
        sink=args.sink, seed=args.seed, seeds_dir=args.seeds_dir, total=args.total, rate=rate,
        duration=args.duration, start=parse_start(args.start), sim_rate=sim_rate,
        future_days=args.future_days, dirty=mix, summary_json=args.summary_json,
        progress=not args.quiet, files=files, kafka=kafka, eventhubs=eventhubs,
        capture=capture)
    config.validate()
    return config


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "dims":
        counts = write_dims(args.seed, args.out)
        for name, rows in counts.items():
            print(f"{args.out / name}: {rows} rows")
        return 0
    try:
        if args.sink not in SINKS:  # before sink-specific settings are resolved
            raise ConfigError(f"--sink must be one of {', '.join(SINKS)} (got {args.sink!r})")
        if args.rate < 0:
            raise ConfigError(f"--rate must be >= 0 (got {args.rate:g})")
        config = events_config(args)
    except ConfigError as error:
        fail(str(error))
    from producer.runner import run_events  # imports the sink SDKs only when needed

    try:
        summary = run_events(config)
    except KeyboardInterrupt:
        return 130
    return 0 if summary["failed"] == 0 else 1
