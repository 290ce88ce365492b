"""The empty bronze dbt creates (macros/register_bronze.sql) has the streaming job's schema."""

from __future__ import annotations

import re
from pathlib import Path

from streaming_ingest.bronze import BRONZE_SCHEMA
from streaming_ingest.sinks import TABLE_PROPERTIES

MACRO = Path(__file__).resolve().parents[2] / "macros" / "register_bronze.sql"


def test_register_bronze_macro_declares_the_job_schema():
    text = MACRO.read_text()
    body = text[text.index("macro bronze_columns_ddl") :]
    body = body[body.index("-%}") + 3 : body.index("{%- endmacro")]
    declared = [
        (m.group(1), m.group(2).replace(" ", ""))
        for m in re.finditer(r"^\s*(\w+)\s+([a-z]+(?:\(\s*\d+,\s*\d+\))?),?\s*$", body, re.M)
    ]
    job = [(f.name, f.dataType.simpleString().replace("integer", "int")) for f in BRONZE_SCHEMA.fields]
    assert declared == job


def test_register_bronze_macro_sets_the_job_table_properties():
    text = MACRO.read_text()
    body = text[text.index("macro bronze_table_properties") :]
    body = body[body.index("-%}") + 3 : body.index("{%- endmacro")]
    declared = dict(re.findall(r"'([\w.]+)'\s*=\s*'([^']*)'", body))
    assert declared == TABLE_PROPERTIES
