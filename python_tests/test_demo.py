"""`make demo`, the README's first command, in a throw-away lakehouse: the producer's events
end in exactly one place each, counted as the producer says it sent them, in one Spark JVM and
without the unit tests (a data run; `make test` runs them). Then `make kpis`: delta-rs and
DuckDB print what the demo's Spark printed, and both engines notice a lost row."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from python_tests.conftest import REPO_ROOT
from python_tests.producer.producer_contract import QUARANTINE_REASONS

MAKE = ["make", "--no-print-directory", "-C", str(REPO_ROOT)]


def table_after(output: str, title: str) -> list[dict[str, str]]:
    """The rows of the first `DataFrame.show()` table printed after the line `title`."""
    lines = output[output.index(title):].splitlines()[1:]
    start = next(i for i, line in enumerate(lines) if line.startswith("+"))
    header = [cell.strip() for cell in lines[start + 1].strip("|").split("|")]
    rows = []
    for line in lines[start + 3:]:
        if line.startswith("+"):
            break
        rows.append(dict(zip(header, (cell.strip() for cell in line.strip("|").split("|")), strict=True)))
    return rows


def make(lakehouse, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*MAKE, *args], env=lakehouse.env, capture_output=True, text=True, timeout=900)


def kpi_tables(output: str) -> str:
    """The printed tables, from the first title to the counts table's end."""
    start = output.index("== gold.sales_by_day")
    end = output.index("+\n", output.index("|bronze_rows|")) + 1
    end = output.index("+\n", end) + 1
    return output[start:end]


def test_make_kpis_without_tables_names_what_to_run(tmp_path):
    from local_stack.env import project_env

    result = subprocess.run([*MAKE, "kpis"], env=project_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert f"[kpis] ERROR: no sales_by_day, top_customers, product_performance, sales_simple, sales_quarantine, " \
           f"bronze table in {tmp_path}: run `make demo`" in result.stderr


@pytest.mark.spark
@pytest.mark.dbt
def test_make_demo_counts_every_event_once(lakehouse):
    result = make(lakehouse, "demo", "EVENTS=3000", "SEED=5", "DIRTY=0.03")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    out = result.stdout
    sent = json.loads(lakehouse.path("produced.json").read_text())
    assert sent["sent"] == 3000 and sent["failed"] == 0

    (counts,) = table_after(out, "== pipeline counts")
    assert counts == {
        "bronze_rows": "3000",
        "sales_simple_rows": str(sent["valid_unique"]),
        "duplicates_dropped": str(3000 - sent["valid_unique"] - sent["quarantined"]),
        "quarantine_rows": str(sent["quarantined"]),
        "conserved": "true",
    }
    by_reason = {row["rejection_reason"]: int(row["rows"]) for row in table_after(out, "== silver.sales_quarantine")}
    assert by_reason == {reason: sent[reason] for reason in QUARANTINE_REASONS if sent[reason]}

    # one process did ingest, build and KPIs; dbt built every model and ran the data tests only
    assert "[ingest] done: 3000 rows in 1 batches" in out
    (finished,) = re.findall(r"Finished running (.*) in \d+ hours", out)
    assert "data tests" in finished and "unit test" not in finished, finished
    assert re.search(r"Done\. PASS=\d+ WARN=\d+ ERROR=0 SKIP=0", out), out[-3000:]
    assert "[demo] from an empty lakehouse (no finished demo in this lakehouse)" in out
    for step in ("ingest: landing zone → bronze", "dbt build --exclude-resource-type unit_test", "gold KPIs"):
        assert re.search(rf"\[demo\] {re.escape(step)}.*: done in [\d.]+ s", out), step

    # again: the same events and code, so nothing is rebuilt, no Spark starts, the same KPIs
    again = make(lakehouse, "demo", "EVENTS=3000", "SEED=5", "DIRTY=0.03")
    assert again.returncode == 0, again.stdout[-6000:] + again.stderr[-3000:]
    assert "[demo] the lakehouse holds the last demo's events" in again.stdout
    assert "Nothing to do" in again.stdout and "[ingest]" not in again.stdout
    assert kpi_tables(again.stdout) == kpi_tables(out)

    # an edited model (the last demo's manifest holds other SQL for it): that model and what is
    # downstream are rebuilt from scratch and tested, nothing else
    state = lakehouse.path("demo", "manifest.json")
    manifest = json.loads(state.read_text())
    manifest["nodes"]["model.retail_lakehouse.sales_by_day"]["raw_code"] += "\n-- before an edit"
    state.write_text(json.dumps(manifest))
    edited = make(lakehouse, "demo", "EVENTS=3000", "SEED=5", "DIRTY=0.03")
    assert edited.returncode == 0, edited.stdout[-6000:] + edited.stderr[-3000:]
    (finished,) = re.findall(r"Finished running (.*) in \d+ hours", edited.stdout)
    assert "1 table model" in finished and "seed" not in finished and "incremental" not in finished, finished
    assert "OK created sql table model gold.sales_by_day" in edited.stdout
    assert "PASS star_sales_by_day_reconciles_with_fct_sales" in edited.stdout
    assert kpi_tables(edited.stdout) == kpi_tables(out)

    # make kpis (delta-rs + DuckDB, no JVM) prints the very tables the demo's Spark printed
    kpis = make(lakehouse, "kpis")
    assert kpis.returncode == 0, kpis.stdout[-3000:] + kpis.stderr[-3000:]
    assert "reading with Spark" not in kpis.stdout
    assert kpi_tables(kpis.stdout) == kpi_tables(out)

    # a quarantined row lost: both engines say the counts do not add up, and exit 1
    from deltalake import DeltaTable

    quarantine = DeltaTable(str(lakehouse.table_path("silver", "sales_quarantine")))
    assert quarantine.delete("rejection_reason = 'malformed_json'").get("num_deleted_rows") == sent["malformed_json"]
    for engine in ("delta-rs", "spark"):
        broken = make(lakehouse, "kpis", f"KPIS_ENGINE={engine}")
        assert broken.returncode != 0, engine
        (counts,) = table_after(broken.stdout, "== pipeline counts")
        assert counts["conserved"] == "false", (engine, counts)
        assert counts["quarantine_rows"] == str(sent["quarantined"] - sent["malformed_json"]), (engine, counts)


def test_a_demo_is_reused_only_for_the_same_events_code_and_bronze(tmp_path, monkeypatch):
    from local_stack import demo

    monkeypatch.setattr(demo, "bronze_version", lambda _lakehouse: 7)
    events = ["--sink", "files", "--total", "100", "--seed", "1"]
    assert demo.why_not_reuse(tmp_path, events) == "no finished demo in this lakehouse"
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "manifest.json").write_text("{}")
    stamp = {"fingerprint": demo.fingerprint(events), "bronze_version": 7}
    (tmp_path / "demo" / "stamp.json").write_text(json.dumps(stamp))
    assert demo.why_not_reuse(tmp_path, events) is None
    assert demo.fingerprint(events) != demo.fingerprint([*events[:-1], "2"])
    assert "the events or the producer" in demo.why_not_reuse(tmp_path, [*events[:-1], "2"])
    monkeypatch.setattr(demo, "bronze_version", lambda _lakehouse: 8)
    assert demo.why_not_reuse(tmp_path, events) == "bronze changed since the last demo"


def test_make_demo_fresh_passes_fresh_and_the_producer_arguments(tmp_path):
    from local_stack.env import project_env

    def recipe(*args: str) -> str:
        result = subprocess.run([*MAKE, "-n", "demo", *args], env=project_env(tmp_path), capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        (line,) = [line for line in result.stdout.splitlines() if "-m local_stack.demo" in line]
        return line

    assert "local_stack.demo  -- --sink files --total 20000 --seed 42 --dirty 0.01 " in recipe()
    assert "local_stack.demo --fresh -- --sink files --total 7 --seed 3 " in recipe("FRESH=1", "EVENTS=7", "SEED=3")
