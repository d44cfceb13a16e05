"""The SQL table source under hostile states: a database that cannot be reached, a missing
column, updated_at going backwards, a key twice in one delta, rows deleted at the source.
Each is handled correctly or refused clearly, the watermark never moves past what was
published, and a clean state afterwards publishes exactly the expected rows."""

from __future__ import annotations

from datetime import datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from catalog import entries
from hub.core.errors import DeliveryError, TransientDeliveryError
from simulators import startups
from tests.connectors.test_sql_table import Q3, Q4, published, run_quarter


def _shifted(rows: pa.Table, days: int) -> pa.Table:
    moved = [
        (datetime.fromisoformat(v) + timedelta(days=days)).isoformat(timespec="microseconds")
        for v in rows.column("updated_at").to_pylist()
    ]
    return rows.set_column(
        rows.column_names.index("updated_at"), "updated_at", pa.array(moved, pa.large_string())
    )


def _after_q3(settings, source_url) -> str:
    startups.write_state(source_url, Q3[1])
    run_quarter(settings, Q3, "q3")
    return entries.watermark(settings.catalog_url, "startup_tenants")


def _refused_then_clean(settings, source_url, mark: str, error, pattern: str) -> None:
    at_q3 = published(settings).num_rows
    with pytest.raises(error, match=pattern) as info:
        run_quarter(settings, Q4, "q4-bad")
    assert str(info.value).startswith("feed startup_tenants: ")
    assert entries.watermark(settings.catalog_url, "startup_tenants") == mark
    assert published(settings).num_rows == at_q3  # nothing merged

    startups.write_state(source_url, Q4[1])  # the agency's table as it should be
    result = run_quarter(settings, Q4, "q4")
    at_q4 = startups.state_at(Q4[1])
    changed = sum(
        datetime.fromisoformat(v) > datetime.fromisoformat(mark)
        for v in at_q4["updated_at"].to_pylist()
    )
    assert result["rows_published"] == changed
    assert published(settings).num_rows == at_q4.num_rows
    assert entries.watermark(settings.catalog_url, "startup_tenants") > mark


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
@pytest.mark.parametrize("days", [-400, -3650])
def test_updated_at_going_backwards_is_refused(hub_settings, source_url, days):
    mark = _after_q3(hub_settings, source_url)
    startups.write_rows(source_url, _shifted(startups.state_at(Q4[1]), days))
    _refused_then_clean(hub_settings, source_url, mark, DeliveryError, "cursor went backwards")


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
@pytest.mark.parametrize("share", [0.5, 0.9])
def test_rows_deleted_at_the_source_are_refused_with_the_count(hub_settings, source_url, share):
    mark = _after_q3(hub_settings, source_url)
    rows = startups.state_at(Q4[1])
    kept = rows.slice(int(rows.num_rows * share))  # the oldest tenants are gone
    startups.write_rows(source_url, kept)
    _refused_then_clean(
        hub_settings, source_url, mark, DeliveryError, r"at least \d+ were deleted at the source"
    )


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_source_column_dropped_is_refused_as_drift(hub_settings, source_url):
    mark = _after_q3(hub_settings, source_url)
    rows = startups.state_at(Q4[1])
    startups.write_rows(source_url, rows.drop_columns(["industry"]))
    _refused_then_clean(hub_settings, source_url, mark, DeliveryError, "missing 'industry'")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_an_unreachable_database_is_transient_and_names_it(hub_settings, source_url, monkeypatch):
    mark = _after_q3(hub_settings, source_url)
    monkeypatch.setenv("STARTUP_DB_URL", f"sqlite:///{hub_settings.home_dir}/gone/none/x.db")
    startups.write_state(source_url, Q4[1])
    with pytest.raises(TransientDeliveryError, match=r"gone/none/x\.db table .*cannot connect"):
        run_quarter(hub_settings, Q4, "q4-down")
    assert entries.watermark(hub_settings.catalog_url, "startup_tenants") == mark
    monkeypatch.setenv("STARTUP_DB_URL", source_url)
    assert run_quarter(hub_settings, Q4, "q4")["rows_published"] > 0


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
@pytest.mark.parametrize("copies", [1, 3])
def test_a_key_twice_in_one_delta_publishes_its_newest_version(hub_settings, source_url, copies):
    mark = _after_q3(hub_settings, source_url)
    rows = startups.state_at(Q4[1])
    cut = datetime.fromisoformat(mark)
    changed = rows.filter(
        pc.greater(pc.cast(rows.column("updated_at"), pa.timestamp("us", tz="UTC")), cut)
    )
    older = changed.slice(0, 20)
    older = older.set_column(  # an earlier report of the same tenants, still after the mark
        older.column_names.index("employees"), "employees", pa.array([-1] * 20, pa.int64())
    )
    stale = [
        (
            max(datetime.fromisoformat(v) - timedelta(seconds=60), cut + timedelta(seconds=1))
        ).isoformat(timespec="microseconds")
        for v in older.column("updated_at").to_pylist()
    ]
    older = older.set_column(
        older.column_names.index("updated_at"), "updated_at", pa.array(stale, pa.large_string())
    )
    startups.write_rows(source_url, pa.concat_tables([rows] + [older] * copies))

    result = run_quarter(hub_settings, Q4, "q4")

    assert result["rows_published"] == changed.num_rows  # one row per tenant
    table = published(hub_settings)
    assert table.num_rows == rows.num_rows
    assert -1 not in table.column("employees").to_pylist()  # the newest report won
    assert entries.watermark(hub_settings.catalog_url, "startup_tenants") > mark


def _run(settings, run_id: str):
    (run,) = [
        r for r in entries.runs(settings.catalog_url, "startup_tenants") if r.run_id == run_id
    ]
    return run


def _changed_after(rows: pa.Table, mark: str) -> pa.Array:
    instants = pc.cast(rows.column("updated_at"), pa.timestamp("us", tz="UTC"))
    return pc.greater(instants, datetime.fromisoformat(mark))


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
@pytest.mark.parametrize(("column", "bad"), [("employees", -5), ("revenue", -1_000_000)])
def test_a_quarantined_change_holds_the_watermark_before_it_until_corrected(
    hub_settings, source_url, column, bad
):
    mark = _after_q3(hub_settings, source_url)
    rows = startups.state_at(Q4[1])
    changed = pc.indices_nonzero(_changed_after(rows, mark)).to_pylist()
    # the agency reports two changes with a value the feed's checks refuse: a middle one and
    # the newest, so the watermark may pass neither
    newest = max(changed, key=lambda i: rows.column("updated_at")[i].as_py())
    broken = sorted({changed[len(changed) // 2], newest})
    values = rows.column(column).to_pylist()
    for i in broken:
        values[i] = bad
    delivered = rows.set_column(
        rows.column_names.index(column), column, pa.array(values, rows.schema.field(column).type)
    )
    startups.write_rows(source_url, delivered)

    run_quarter(hub_settings, Q4, "q4")
    run = _run(hub_settings, "q4")
    assert run.rows_quarantined == len(broken)
    assert run.rows_published + run.rows_quarantined == run.rows_landed == len(changed)
    held = entries.watermark(hub_settings.catalog_url, "startup_tenants")
    oldest_bad = min(datetime.fromisoformat(rows.column("updated_at")[i].as_py()) for i in broken)
    assert datetime.fromisoformat(mark) <= datetime.fromisoformat(held) < oldest_bad.astimezone()
    served = published(hub_settings)
    bad_ids = {rows.column("tenant_id")[i].as_py() for i in broken}
    assert not [
        r for r in served.to_pylist() if r["tenant_id"] in bad_ids and r[column] == bad
    ]  # never published

    # a rerun without a correction reads the refused changes again, and refuses them again
    run_quarter(hub_settings, Q4, "q4-again")
    assert _run(hub_settings, "q4-again").rows_quarantined == len(broken)
    assert entries.watermark(hub_settings.catalog_url, "startup_tenants") == held

    startups.write_rows(source_url, rows)  # corrected in place: updated_at left as it was
    run_quarter(hub_settings, Q4, "q4-fixed")
    assert _run(hub_settings, "q4-fixed").rows_quarantined == 0
    served = published(hub_settings)
    assert served.num_rows == rows.num_rows
    by_id = {r["tenant_id"]: r[column] for r in served.to_pylist()}
    for i in broken:
        assert by_id[rows.column("tenant_id")[i].as_py()] == rows.column(column)[i].as_py()
    newest_at = max(datetime.fromisoformat(v) for v in rows.column("updated_at").to_pylist())
    assert (
        datetime.fromisoformat(entries.watermark(hub_settings.catalog_url, "startup_tenants"))
        == newest_at.astimezone()
    )
