"""Conforming source records to the declared schema: bad rows are rejected with a reason."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
import pytest

from hub.core.delivery import Window
from hub.core.errors import DeliveryError
from hub.core.settings import PROJECT_ROOT
from hub.registry import load_feed
from hub.steps.conform import conform, drop_duplicate_keys

FEED = load_feed(PROJECT_ROOT / "feeds" / "air_quality_hourly.yaml")
WINDOW = Window(
    datetime.fromisoformat("2026-11-01T03:00:00+09:00"),
    datetime.fromisoformat("2026-11-01T04:00:00+09:00"),
)


def _row(**changes):
    row = {
        "stationCode": "1101",
        "stationName": "종로구",
        "sggCode": "11110",
        "dataTime": "2026-11-01 03:00",
        "pm10Value": "41",
        "pm25Value": "22",
        "o3Value": "0.031",
        "no2Value": "0.020",
        "coValue": "0.4",
        "so2Value": "0.003",
        "statusFlag": "normal",
    }
    row.update(changes)
    return row


def _conform(rows):
    return conform(
        FEED, pa.Table.from_pylist(rows), window=WINDOW, object_key="page-1", run_id="r1"
    )


def test_clean_rows_get_declared_types_and_kst_becomes_utc():
    out = _conform([_row()])
    assert out.rejects.num_rows == 0
    assert out.valid.schema == FEED.arrow_schema
    row = out.valid.to_pylist()[0]
    assert row["pm10"] == 41.0
    assert row["measured_at"].isoformat() == "2026-10-31T18:00:00+00:00"


def test_dash_for_a_missing_reading_is_null_not_an_error():
    out = _conform([_row(pm10Value="-", statusFlag="calibration")])
    assert out.rejects.num_rows == 0
    assert out.valid.column("pm10").to_pylist() == [None]


def test_unreadable_number_goes_to_quarantine_with_column_and_reason():
    out = _conform([_row(), _row(stationCode="1102", pm10Value="4O")])
    assert out.valid.num_rows == 1
    reject = out.rejects.to_pylist()[0]
    assert (reject["column"], reject["reason"], reject["row_index"]) == (
        "pm10",
        "cannot read as float64",
        1,
    )
    assert '"4O"' in reject["record"]


def test_missing_required_value_and_rows_outside_the_window_are_rejected():
    out = _conform([_row(stationCode=None), _row(stationCode="1103", dataTime="2026-11-01 07:00")])
    reasons = {r["column"]: r["reason"] for r in out.rejects.to_pylist()}
    assert reasons["station_id"] == "required value is empty"
    assert reasons["measured_at"].startswith("outside the run window")
    assert out.valid.num_rows == 0


def test_duplicate_keys_across_pages_keep_the_first_row_only():
    first, second = _conform([_row(pm10Value="10")]), _conform([_row(pm10Value="99")])
    out = drop_duplicate_keys(
        FEED, pa.concat_tables([first.valid, second.valid]), window=WINDOW, run_id="r1"
    )
    assert out.valid.column("pm10").to_pylist() == [10.0]
    assert out.rejects.column("reason").to_pylist() == ["duplicate key"]
    assert '"pm10": 99.0' in out.rejects.column("record")[0].as_py()


def test_a_missing_required_column_fails_the_whole_delivery():
    rows = [{k: v for k, v in _row().items() if k != "sggCode"}]
    with pytest.raises(DeliveryError, match="missing 'sggCode'"):
        _conform(rows)


def test_a_row_without_a_partition_value_belongs_to_no_window():
    out = _conform([_row(dataTime=None)])
    assert out.valid.num_rows == 0
    assert out.rejects.column("column").to_pylist() == ["measured_at"]


def test_an_extra_source_column_is_left_out_but_recorded_for_the_run():
    rows = [{**_row(), "newColumn": "x"} for _ in range(2)]
    out = _conform(rows)
    assert out.valid.num_rows == 2 and "newColumn" not in out.valid.column_names
    assert out.unexpected == {"page-1": ["newColumn"]}


def test_a_missing_optional_column_is_drift_not_a_column_of_nulls():
    rows = [{**_row(), "newColumn": "x"} for _ in range(2)]
    for row in rows:
        del row["so2Value"]
    with pytest.raises(
        DeliveryError, match="missing 'so2Value'; looks renamed: 'so2Value' -> 'newColumn'"
    ):
        _conform(rows)
