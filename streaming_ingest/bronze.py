"""Pure transforms from raw messages to bronze rows (no I/O here).

Bronze keeps every message: the raw payload string, the contract's fields parsed with their
JSON types (null where absent, null or of another JSON type), the ingestion time and where the
message came from. Validation and dedup happen later, in dbt (silver).
"""

from __future__ import annotations

import json

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

# Decimal type of the parsed numbers. Wide enough for any sane price; a number that does not
# fit is "unparseable" (null), which silver quarantines as invalid_price / invalid_discount.
NUMBER_TYPE = T.DecimalType(18, 6)

STRING_FIELDS = (
    "transaction_id",
    "event_timestamp",
    "store_id",
    "channel_id",
    "product_id",
    "customer_id",
    "payment_method",
    "currency",
)

# The bronze table's columns, in order. `macros/register_bronze.sql` declares the same schema
# for dbt's CREATE of bronze; python_tests/streaming/test_bronze_schema.py keeps the two in step.
BRONZE_SCHEMA = T.StructType(
    [
        T.StructField("record_id", T.StringType(), False),
        T.StructField("raw_payload", T.StringType(), True),
        T.StructField("is_json_object", T.BooleanType(), False),
        T.StructField("transaction_id", T.StringType(), True),
        T.StructField("event_timestamp", T.StringType(), True),
        T.StructField("store_id", T.StringType(), True),
        T.StructField("channel_id", T.StringType(), True),
        T.StructField("product_id", T.StringType(), True),
        T.StructField("customer_id", T.StringType(), True),
        T.StructField("quantity", T.LongType(), True),
        T.StructField("unit_price", NUMBER_TYPE, True),
        T.StructField("discount_pct", NUMBER_TYPE, True),
        T.StructField("has_discount_pct", T.BooleanType(), False),
        T.StructField("payment_method", T.StringType(), True),
        T.StructField("currency", T.StringType(), True),
        T.StructField("ingestion_time", T.TimestampType(), False),
        T.StructField("source_kind", T.StringType(), False),
        T.StructField("source_file", T.StringType(), True),
        T.StructField("source_position", T.LongType(), True),
        T.StructField("kafka_topic", T.StringType(), True),
        T.StructField("kafka_partition", T.IntegerType(), True),
        T.StructField("kafka_offset", T.LongType(), True),
        T.StructField("kafka_timestamp", T.TimestampType(), True),
        T.StructField("kafka_key", T.StringType(), True),
        T.StructField("eventhub_partition", T.IntegerType(), True),
        T.StructField("eventhub_sequence_number", T.LongType(), True),
        T.StructField("eventhub_offset", T.StringType(), True),
        T.StructField("eventhub_enqueued_time", T.TimestampType(), True),
    ]
)
BRONZE_COLUMNS = [f.name for f in BRONZE_SCHEMA.fields]

_INTEGER_TYPES = ("TINYINT", "SMALLINT", "INT", "BIGINT")
_NUMBER_PATTERN = r"^(TINYINT|SMALLINT|INT|BIGINT|FLOAT|DOUBLE|DECIMAL\(\d+,\d+\))$"


_PARSED_FIELDS = (*STRING_FIELDS, "quantity", "unit_price", "discount_pct")
_WORK = "__bronze_"  # prefix of the working columns parse_payload adds (dropped by to_bronze)

# The fast path: Spark's JSON reader with the contract's types. Strict options (no single quotes,
# no NaN/Infinity); a value that does not convert (a string quantity, a string price) nulls the
# field and fills the corrupt-record column, which sends the row to the exact path.
_CORRUPT = f"{_WORK}corrupt"
_FAST_SCHEMA = T.StructType(
    [T.StructField(field, T.StringType()) for field in STRING_FIELDS]
    + [
        T.StructField("quantity", T.LongType()),
        T.StructField("unit_price", T.DoubleType()),
        T.StructField("discount_pct", T.DoubleType()),
        T.StructField(_CORRUPT, T.StringType()),
    ]
)
_FAST_OPTIONS = {
    "mode": "PERMISSIVE",
    "columnNameOfCorruptRecord": _CORRUPT,
    "allowSingleQuotes": "false",
    "allowNonNumericNumbers": "false",
}
_SENTINEL = "\u0001end-of-payload"  # a string no payload ends with (see parse_payload)
# A price the fast path may keep: its double rounds to decimal(18,6) and back to itself, and it
# is small enough that one double holds one 6-decimal value.
_FAST_PRICE_LIMIT = 1e9
# A string field's text that may have come from a JSON number with a fraction or an exponent:
# Spark's reader writes such a number back as a double, the exact path keeps its decimal text.
_NUMBER_TEXT = r"^-?[0-9.]+(E-?[0-9]+)?$"


def parse_payload(
    frame: DataFrame, payload: str = "payload", *, fast: bool = True
) -> tuple[DataFrame, dict[str, Column]]:
    """Columns parsed from a JSON payload string, each null unless present with its JSON type.

    - strings (ids, timestamp, payment method, currency): a JSON string; a JSON number or
      boolean is taken as its text (an id sent as 42 is still present); objects, arrays and
      null give null.
    - quantity: a JSON integer only (2.5, "2" and true give null).
    - unit_price / discount_pct: a JSON number only ("12.50" as a string gives null).
    - is_json_object: the whole payload is one valid JSON object (no trailing text, no
      repeated key).

    Two paths with the same results (python_tests/streaming/test_bronze_parse.py compares
    them on every kind of odd value):
    - exact: `try_parse_json` to a variant, then each field's JSON type and value. Exact for
      every input, but ~20 µs of CPU per event.
    - fast: Spark's JSON reader (`from_json`) straight into the contract's types, ~5 µs. It is
      used for a row only when it cannot differ from the exact path: the payload is one valid
      JSON object (checked for every row by the variant parse, the cheap part: it rejects
      repeated keys, and the payload is wrapped so that trailing text fails too), every typed
      field converted, no string field holds an object, an array or a fractional number, and
      both prices are plain 6-decimal values. Every other row (malformed and wrongly typed
      values: the dirty few percent) takes the exact path.

    Returns `frame` with working columns added and the parsed columns over it. The exact path
    runs in its own projections over a variant that is null for fast rows, so fast rows skip it.
    `fast=False` sends every row the exact way (the tests compare the two).
    """
    text = F.col(payload)
    typed = F.col(f"{_WORK}typed")
    # Spark's JSON parsers stop after the first complete value and ignore what follows, so the
    # payload is parsed as the first element of an array closed by a sentinel of ours: any text
    # after the object ('}}', '{..} x', '{..}{..}') breaks the array or adds an element.
    staged = frame.select(
        "*",
        F.try_parse_json(F.concat(F.lit("["), text, F.lit(f",{json.dumps(_SENTINEL)}]"))).alias(f"{_WORK}wrapped"),
        F.from_json(text, _FAST_SCHEMA, _FAST_OPTIONS).alias(f"{_WORK}typed"),
    )
    wrapped = F.col(f"{_WORK}wrapped")
    whole = (F.variant_get(wrapped, "$[1]", "string") == _SENTINEL) & F.variant_get(wrapped, "$[2]", "variant").isNull()
    # valid JSON whose first non-blank character is '{' is an object
    unblanked = F.expr(f"trim(LEADING ' \\t\\n\\r' FROM `{payload}`)")
    is_object = F.coalesce(whole & unblanked.startswith("{"), F.lit(False))

    def plain_string(field: str) -> Column:
        value = typed[field]
        nested = value.startswith("{") | value.startswith("[")
        fractional = value.contains(".") & value.rlike(_NUMBER_TEXT)
        return value.isNull() | ~(nested | fractional)

    def plain_price(field: str) -> Column:
        value = typed[field]
        round_trips = value.try_cast(_decimal_sql()).cast("double") == value
        return value.isNull() | F.coalesce((F.abs(value) < _FAST_PRICE_LIMIT) & round_trips, F.lit(False))

    fast_ok = is_object & typed[_CORRUPT].isNull() & F.lit(fast)
    for field in STRING_FIELDS:
        fast_ok = fast_ok & plain_string(field)
    for field in ("unit_price", "discount_pct"):
        fast_ok = fast_ok & plain_price(field)
    staged = staged.select("*", is_object.alias(f"{_WORK}is_object"), fast_ok.alias(f"{_WORK}fast_ok"))
    use_fast = F.col(f"{_WORK}fast_ok")

    # the exact path, over a variant that is null unless the row needs it
    variant = F.col(f"{_WORK}variant")
    staged = staged.withColumn(
        f"{_WORK}variant", F.when(F.col(f"{_WORK}is_object") & ~use_fast, F.variant_get(wrapped, "$[0]", "variant"))
    )
    staged = staged.select(
        "*", *[F.variant_get(variant, f"$.{field}", "variant").alias(f"{_WORK}value_{field}") for field in _PARSED_FIELDS]
    )
    staged = staged.select(
        "*", *[F.schema_of_variant(f"{_WORK}value_{field}").alias(f"{_WORK}type_{field}") for field in _PARSED_FIELDS]
    )

    def value(field: str, as_type: str) -> Column:
        return F.try_variant_get(F.col(f"{_WORK}value_{field}"), "$", as_type)

    def json_type(field: str) -> Column:
        return F.col(f"{_WORK}type_{field}")

    exact: dict[str, Column] = {}
    for field in STRING_FIELDS:
        kind = json_type(field)
        scalar = kind.isin("STRING", *_INTEGER_TYPES) | kind.startswith("DECIMAL") | kind.isin("DOUBLE", "FLOAT", "BOOLEAN")
        exact[field] = F.when(scalar, value(field, "string"))
    exact["quantity"] = F.when(json_type("quantity").isin(*_INTEGER_TYPES), value("quantity", "bigint"))
    for field in ("unit_price", "discount_pct"):
        exact[field] = F.when(json_type(field).rlike(_NUMBER_PATTERN), value(field, _decimal_sql()))
    discount_type = json_type("discount_pct")
    exact["has_discount_pct"] = F.coalesce(discount_type.isNotNull() & (discount_type != "VOID"), F.lit(False))

    quick: dict[str, Column] = {field: typed[field] for field in (*STRING_FIELDS, "quantity")}
    for field in ("unit_price", "discount_pct"):
        quick[field] = typed[field].try_cast(_decimal_sql())
    quick["has_discount_pct"] = typed["discount_pct"].isNotNull()

    cols: dict[str, Column] = {"is_json_object": F.col(f"{_WORK}is_object")}
    for name, exact_value in exact.items():
        cols[name] = F.when(use_fast, quick[name]).otherwise(exact_value)
    return staged, cols


def _decimal_sql() -> str:
    return f"decimal({NUMBER_TYPE.precision},{NUMBER_TYPE.scale})"


def to_bronze(
    raw: DataFrame,
    *,
    source_kind: str,
    checkpoint_id: str = "",
    ingestion_time: Column | None = None,
    fast: bool = True,
) -> DataFrame:
    """Raw messages → bronze rows.

    `raw` has a string column `payload` and the source coordinates it knows: `source_file`
    and `source_position` (landing files; capture files too), `kafka_topic`, `kafka_partition`,
    `kafka_offset`, `kafka_timestamp`, `kafka_key` (Kafka / Event Hubs' Kafka endpoint), or
    `eventhub_partition`, `eventhub_sequence_number`, `eventhub_offset`,
    `eventhub_enqueued_time` (an Event Hubs Capture archive). Missing coordinate columns are
    filled with nulls. `ingestion_time` defaults to the micro-batch's
    current_timestamp() (one value per batch).

    `record_id` is the coordinates (`topic/partition/offset`, or `file#position` for landing and
    capture files), then
    `@<checkpoint_id>` when one is given: the job passes the first digits of its checkpoint's
    query id, so a message read again by a new checkpoint (after a checkpoint reset) is a
    new bronze row with its own id, which silver counts as a duplicate (sinks.py).
    """
    coordinates = {
        "source_file": T.StringType(),
        "source_position": T.LongType(),
        "kafka_topic": T.StringType(),
        "kafka_partition": T.IntegerType(),
        "kafka_offset": T.LongType(),
        "kafka_timestamp": T.TimestampType(),
        "kafka_key": T.StringType(),
        "eventhub_partition": T.IntegerType(),
        "eventhub_sequence_number": T.LongType(),
        "eventhub_offset": T.StringType(),
        "eventhub_enqueued_time": T.TimestampType(),
    }
    frame = raw
    for name, dtype in coordinates.items():
        if name not in frame.columns:
            frame = frame.withColumn(name, F.lit(None).cast(dtype))
    frame, parsed = parse_payload(frame, fast=fast)
    record_id = F.when(
        F.col("kafka_topic").isNotNull(),
        F.concat_ws("/", "kafka_topic", F.col("kafka_partition").cast("string"), F.col("kafka_offset").cast("string")),
    ).otherwise(F.concat_ws("#", "source_file", F.col("source_position").cast("string")))
    if checkpoint_id:
        record_id = F.concat(record_id, F.lit(f"@{checkpoint_id}"))
    selected = [
        record_id.alias("record_id"),
        F.col("payload").alias("raw_payload"),
        *[parsed[name].alias(name) for name in ("is_json_object", *STRING_FIELDS[:6])],
        parsed["quantity"].alias("quantity"),
        parsed["unit_price"].alias("unit_price"),
        parsed["discount_pct"].alias("discount_pct"),
        parsed["has_discount_pct"].alias("has_discount_pct"),
        parsed["payment_method"].alias("payment_method"),
        parsed["currency"].alias("currency"),
        (ingestion_time if ingestion_time is not None else F.current_timestamp()).alias("ingestion_time"),
        F.lit(source_kind).alias("source_kind"),
        *[F.col(name).cast(dtype).alias(name) for name, dtype in coordinates.items()],
    ]
    return frame.select(*selected).select(*BRONZE_COLUMNS)
