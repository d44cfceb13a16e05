"""NaN and ±Infinity are never valid readings: whatever the format sends them as (a JSON
literal, the text "NaN"/"nan"/"Infinity", a Parquet float), the row is quarantined with the
reason, the rest publishes, and published + quarantined = delivered."""

from __future__ import annotations

import io
import math

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hub.lake import iceberg
from simulators import drops, hostile
from simulators.defects import Defect
from tests.support.runs import drop, hub_run, last_run, rows, window

NOT_FINITE = "not a finite number (NaN or Infinity)"


def _quarantine(settings, feed_id: str) -> list[dict]:
    table = iceberg.table_catalog(settings).load_table(("quarantine", feed_id))
    return table.scan().to_arrow().to_pylist()


def _published_values(settings, feed_id: str, column: str) -> list:
    table = iceberg.table_catalog(settings).load_table(("trusted", feed_id))
    return table.scan().to_arrow().column(column).to_pylist()


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("values", [["NaN"], ["nan"], ["-inf"], ["Infinity", "nan"]])
def test_csv_text_nan_and_infinity_are_quarantined(hub_settings, values):
    start, _ = window("pm_composition")
    files = drops.pm_composition(start)
    key = "pm_composition/20261031/incheon_20261031.csv"
    files[key] = hostile.replace_cells(files[key], "utf-8", "황산염", values)
    drop(hub_settings, files)

    ran = hub_run("pm_composition")

    quarantined = _quarantine(hub_settings, "pm_composition")
    assert [(q["column"], q["reason"]) for q in quarantined] == [("sulfate", NOT_FINITE)] * len(
        values
    )
    if len(values) / 18 > 0.10:  # above the gate's error rate: nothing is published at all
        assert ran.exit_code == 1 and "failed validation, above the gate's 10.0%" in ran.error
        assert rows(hub_settings, "trusted", "pm_composition") == 0
        drop(hub_settings, drops.pm_composition(start))
        ran = hub_run("pm_composition")
        assert ran.result["rows_published"] == 18
        return
    assert ran.exit_code == 0, ran.error
    assert ran.result["rows_published"] == 18 - len(values)
    published = _published_values(hub_settings, "pm_composition", "sulfate")
    assert len(published) == 18 - len(values) and all(math.isfinite(v) for v in published)
    run = last_run(hub_settings, "pm_composition")
    assert run.rows_published + run.rows_quarantined == run.rows_landed == 18


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("value", [float("nan"), "NaN", "nan", float("inf")], ids=repr)
def test_an_api_reading_of_nan_never_passes_the_range_check(hub_settings, agency_api, value):
    agency_api.state.defects = [Defect("out_of_range", column="pm10Value", value=value, rows=3)]

    ran = hub_run("air_quality_hourly")

    assert ran.exit_code == 0, ran.error
    quarantined = _quarantine(hub_settings, "air_quality_hourly")
    assert len(quarantined) == 3
    assert {q["reason"] for q in quarantined} == {NOT_FINITE}
    if isinstance(value, float):  # the page carried a bare JSON literal, as sent
        assert "NaN" in quarantined[0]["record"] or "Infinity" in quarantined[0]["record"]
    assert all(
        v is None or math.isfinite(v)
        for v in _published_values(hub_settings, "air_quality_hourly", "pm10")
    )
    run = last_run(hub_settings, "air_quality_hourly")
    assert run.rows_published + run.rows_quarantined == run.rows_landed


@pytest.mark.parametrize("backend", ["sqlite"])
def test_parquet_float_nan_and_infinity_are_quarantined(hub_settings):
    start, _ = window("night_floating_population")
    ((key, data),) = drops.night_population(start).items()
    table = pq.read_table(io.BytesIO(data))
    counts = table.column("est_count").to_pylist()
    counts[:3] = [float("nan"), float("inf"), float("-inf")]
    table = table.set_column(
        table.column_names.index("est_count"), "est_count", pa.array(counts, pa.float64())
    )
    sink = io.BytesIO()
    pq.write_table(table, sink)
    drop(hub_settings, {key: sink.getvalue()})

    ran = hub_run("night_floating_population")

    assert ran.exit_code == 0, ran.error
    quarantined = _quarantine(hub_settings, "night_floating_population")
    assert len(quarantined) == 3 and {q["reason"] for q in quarantined} == {NOT_FINITE}
    assert rows(hub_settings, "trusted", "night_floating_population") == table.num_rows - 3
