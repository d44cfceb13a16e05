"""The derived products, built from the trusted tables of real runs of their input feeds."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from hub.lake import iceberg
from products import load_products

AT = datetime(2026, 11, 1, 5, tzinfo=ZoneInfo("Asia/Seoul"))
PRODUCTS = load_products()
INPUTS = sorted({f for p in PRODUCTS.values() for f in p.inputs})


def trusted(settings, name: str) -> pa.Table:
    return iceberg.table_catalog(settings).load_table(("trusted", name)).scan().to_arrow()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_every_product_is_built_from_trusted_inputs_into_trusted_and_open(lake):
    settings, built = lake
    cat = iceberg.table_catalog(settings)
    for product_id, result in built.items():
        assert result["rows"] > 0
        for zone in ("trusted", "open"):
            table = cat.load_table((zone, product_id))
            assert table.scan().to_arrow().num_rows == result["rows"]
        inputs = cat.load_table(("trusted", product_id)).current_snapshot().summary["hub.inputs"]
        for feed_id in PRODUCTS[product_id].inputs:  # lineage: the input snapshots it read
            snapshot = cat.load_table(("trusted", feed_id)).current_snapshot().snapshot_id
            assert f"{feed_id}@{snapshot}" in inputs


@pytest.mark.parametrize("backend", ["sqlite"])
def test_products_agree_with_their_inputs(lake):
    settings, _ = lake
    trips = trusted(settings, "bike_trips")
    demand = trusted(settings, "bike_demand")
    assert pc.sum(demand["rentals"]).as_py() == trips.num_rows
    counts = pc.value_counts(trips["rent_station_id"]).to_pylist()
    busiest = max(counts, key=lambda c: c["counts"])["values"]
    assert (
        pc.sum(demand.filter(pc.equal(demand["station_id"], busiest))["rentals"]).as_py()
        == pc.sum(pc.equal(trips["rent_station_id"], busiest)).as_py()
    )

    facilities = trusted(settings, "childcare_capacity")
    rate = trusted(settings, "childcare_rate")
    gu = rate.filter(pc.equal(rate["gu_code"], "11560")).to_pylist()[0]
    mine = facilities.filter(pc.equal(facilities["gu_code"], "11560"))
    assert gu["capacity"] == pc.sum(mine["capacity"]).as_py()
    assert gu["capacity_rate"] == pytest.approx(
        pc.sum(mine["enrolled"]).as_py() / gu["capacity"], abs=1e-4
    )

    air = trusted(settings, "air_quality_by_gu")
    stations = trusted(settings, "air_quality_hourly")
    assert pc.sum(air["station_readings"]).as_py() == stations.num_rows
    assert pc.sum(air["sensor_readings"]).as_py() == trusted(settings, "iot_air_sensors").num_rows
    flags = air.to_pylist()
    assert all(
        r["pm25_over_national"] == (r["pm25_mean"] > 35)
        for r in flags
        if r["pm25_mean"] is not None
    )

    safety = trusted(settings, "street_safety")
    assert safety.num_rows == trusted(settings, "street_segments").num_rows
    grades = pc.value_counts(safety["grade"]).to_pylist()
    assert sorted(g["values"] for g in grades) == [1, 2, 3, 4, 5]
    worst = safety.sort_by([("risk_score", "descending")]).to_pylist()[0]
    assert worst["grade"] == 5
    assert (
        0 < pc.sum(safety["crimes"]).as_py() <= trusted(settings, "women_crime_incidents").num_rows
    )
