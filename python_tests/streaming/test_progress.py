"""The progress line and the error line, on canned inputs (no Spark needed)."""

from __future__ import annotations

import io
from types import SimpleNamespace

from streaming_ingest.progress import ProgressPrinter, describe_progress, root_cause

KAFKA_PROGRESS = {
    "id": "37303d2a-5cb3-4790-99e2-d79cc6435a29",
    "batchId": 7,
    "numInputRows": 12345,
    "processedRowsPerSecond": 45678.9,
    "durationMs": {"addBatch": 1885, "triggerExecution": 3285, "walCommit": 71},
    "sources": [
        {
            "description": "KafkaV2[Subscribe[sales-events]]",
            "endOffset": '{"sales-events": {"0": 571, "1": 0, "2": 428}}',
            "latestOffset": '{"sales-events": {"0": 1714, "1": 0, "2": 1286}}',
            "numInputRows": 12345,
            "metrics": {"avgOffsetsBehindLatest": "667.0", "maxOffsetsBehindLatest": "1143",
                        "minOffsetsBehindLatest": "0"},
        }
    ],
}
FILES_PROGRESS = {
    "batchId": 0,
    "numInputRows": 10,
    "processedRowsPerSecond": 1.6,
    "durationMs": {"triggerExecution": 6049},
    "sources": [{"description": "FileStreamSource[file:/landing]", "metrics": {"numFilesOutstanding": "3"}}],
}


def test_kafka_progress_line_shows_the_offset_lag():
    assert describe_progress(KAFKA_PROGRESS) == (
        "batch 7: 12345 rows, 45,679 rows/s, 3.3 s, lag max 1143 / avg 667.0 offsets behind latest"
    )


def test_files_progress_line_shows_outstanding_files():
    assert describe_progress(FILES_PROGRESS) == "batch 0: 10 rows, 2 rows/s, 6.0 s, 3 files outstanding"


def test_a_replayed_batch_without_source_metrics_has_no_lag():
    progress = {**KAFKA_PROGRESS, "numInputRows": 0, "processedRowsPerSecond": 0.0, "sources": [
        {**KAFKA_PROGRESS["sources"][0], "metrics": {}}]}
    assert describe_progress(progress) == "batch 7: 0 rows, 0 rows/s, 3.3 s"


def test_printer_counts_batches_and_rows_and_logs_json(tmp_path):
    out = io.StringIO()
    log = tmp_path / "progress.jsonl"
    printer = ProgressPrinter(out=out, progress_log=str(log))
    printer.onQueryProgress(SimpleNamespace(progress=KAFKA_PROGRESS))
    printer.onQueryProgress(SimpleNamespace(progress=FILES_PROGRESS))
    assert (printer.batches, printer.rows, printer.last_batch_id) == (2, 12355, 0)
    assert out.getvalue().splitlines() == [
        "[ingest] batch 7: 12345 rows, 45,679 rows/s, 3.3 s, lag max 1143 / avg 667.0 offsets behind latest",
        "[ingest] batch 0: 10 rows, 2 rows/s, 6.0 s, 3 files outstanding",
    ]
    assert len(log.read_text().splitlines()) == 2


def test_root_cause_of_a_foreach_batch_failure_is_the_innermost_error():
    message = """[FOREACH_BATCH_USER_FUNCTION_ERROR] An error occurred in the user provided function in foreach batch sink. Reason: An exception was raised by the Python Proxy. Return Message: Traceback (most recent call last):
  File "/work/main/streaming_ingest/sinks.py", line 67, in write_batch
    writer.save(config.bronze_path)
pyspark.errors.exceptions.captured.AnalysisException: [DELTA_FAILED_TO_MERGE_FIELDS] Failed to merge fields 'record_id' and 'record_id'
 SQLSTATE: 39000
=== Streaming Query ===
Identifier: bronze_sales_events [id = 6abf2af8, runId = 8dd3cb3c]
Caused by: py4j.Py4JException: An exception was raised by the Python Proxy."""
    assert root_cause(message) == (
        "AnalysisException: [DELTA_FAILED_TO_MERGE_FIELDS] Failed to merge fields 'record_id' and 'record_id'"
    )
    assert root_cause("something odd\nmore") == "something odd"
