"""Writers racing on one Iceberg table: windows published at the same moment by different
tasks (a backfill's runs, a window's quarantine beside another's) all land, each exactly once;
a writer that loses the race plans its window again on the table as it now is."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pyarrow as pa
import pytest

from catalog.db import ensure_current
from hub.core.delivery import Window
from hub.lake import iceberg
from hub.registry.spec import FieldSpec

FIELDS = [
    FieldSpec(name="at", type="timestamp", required=True),
    FieldSpec(name="station", type="string", required=True),
    FieldSpec(name="value", type="float64"),
]
START = datetime.fromisoformat("2026-11-01T00:00:00+09:00")
WRITERS = 6


def hour(i: int, rows: int) -> tuple[Window, pa.Table]:
    window = Window(START + timedelta(hours=i), START + timedelta(hours=i + 1))
    data = pa.table(
        {
            "at": pa.array(
                [window.start + timedelta(minutes=m % 60) for m in range(rows)],
                pa.timestamp("us", tz="UTC"),
            ),
            "station": pa.array([f"s{i}-{m}" for m in range(rows)]),
            "value": pa.array([float(m) for m in range(rows)]),
        }
    )
    return window, data


def at_once(work) -> list[Exception]:
    """``work(i, barrier)`` in WRITERS threads released together; what they raised."""
    ready, errors = threading.Barrier(WRITERS), []

    def run(i: int) -> None:
        try:
            work(i, ready)
        except Exception as exc:  # collected: an assert in a thread would go unseen
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_windows_published_at_once_by_racing_writers_all_land_once(hub_settings):
    ensure_current(hub_settings.catalog_url)
    iceberg.ensure_table(hub_settings, "trusted", "race", FIELDS, ("at", "day"))

    def publish(i: int, ready: threading.Barrier) -> None:
        # each writer loads its own table object, as a task on another worker would
        table = iceberg.table_catalog(hub_settings).load_table(("trusted", "race"))
        window, data = hour(i, rows=10 + i)
        ready.wait()
        iceberg.replace_window(
            table, data, "at", window, {"hub.run-id": f"w{i}"}, timezone="Asia/Seoul"
        )

    assert at_once(publish) == []
    table = iceberg.table_catalog(hub_settings).load_table(("trusted", "race"))
    rows = table.scan().to_arrow()
    assert rows.num_rows == sum(10 + i for i in range(WRITERS))
    assert len(set(rows.column("station").to_pylist())) == rows.num_rows  # none twice

    # and a window published again after the race replaces only its own rows
    window, data = hour(2, rows=3)
    iceberg.replace_window(
        table, data, "at", window, {"hub.run-id": "again"}, timezone="Asia/Seoul"
    )
    assert (
        table.refresh().scan().to_arrow().num_rows == sum(10 + i for i in range(WRITERS)) - 12 + 3
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_tables_created_at_once_in_a_new_zone_all_come_up(hub_settings):
    """Cold workers: the first tasks of several feeds create their tables, in a zone nobody
    has used yet, at the same moment."""
    ensure_current(hub_settings.catalog_url)

    def create(i: int, ready: threading.Barrier) -> None:
        ready.wait()
        iceberg.ensure_table(hub_settings, "quarantine", f"feed{i}", FIELDS, ("at", "day"))

    assert at_once(create) == []
    listed = iceberg.table_catalog(hub_settings).list_tables("quarantine")
    assert sorted(name for _, name in listed) == [f"feed{i}" for i in range(WRITERS)]
