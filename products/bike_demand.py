"""Bike demand by station and hour: rentals and returns per Ttareungyi station and hour, from
the protected trips (times are already cut to the hour there)."""

from __future__ import annotations

from typing import Any

from hub.core.text import Text
from hub.registry.spec import Display, Partition
from products.model import Product, field


def build(inputs: dict[str, Any]) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    trips = inputs["bike_trips"]
    hour = lambda column: pc.floor_temporal(trips.column(column), unit="hour")  # noqa: E731
    rented = pa.table({"station_id": trips.column("rent_station_id"), "hour": hour("rent_at")})
    returned = pa.table(
        {"station_id": trips.column("return_station_id"), "hour": hour("return_at")}
    )
    rentals = rented.group_by(["station_id", "hour"]).aggregate([("station_id", "count")])
    returns = (
        returned.filter(pc.is_valid(returned.column("station_id")))
        .group_by(["station_id", "hour"])
        .aggregate([("station_id", "count")])
    )
    joined = rentals.rename_columns(["station_id", "hour", "rentals"]).join(
        returns.rename_columns(["station_id", "hour", "returns"]),
        ["station_id", "hour"],
        join_type="full outer",
    )
    rentals_n = pc.cast(pc.fill_null(joined.column("rentals"), 0), pa.int32())
    returns_n = pc.cast(pc.fill_null(joined.column("returns"), 0), pa.int32())
    return pa.table(
        {
            "station_id": joined.column("station_id"),
            "hour": joined.column("hour"),
            "rentals": rentals_n,
            "returns": returns_n,
            "net_inflow": pc.subtract(returns_n, rentals_n),
        }
    ).sort_by([("hour", "ascending"), ("station_id", "ascending")])


PRODUCT = Product(
    id="bike_demand",
    title=Text(ko="따릉이 대여소·시간대별 수요", en="Bike demand by station and hour"),
    description=Text(
        ko="따릉이 대여소별·시간대별 대여 건수, 반납 건수와 순유입(반납-대여). 재배치 계획용.",
        en="Ttareungyi rentals, returns and net inflow (returns minus rentals) per station and hour, "
        "for planning bike redistribution.",
    ),
    inputs=["bike_trips"],
    schema=[
        field("station_id", "string", "대여소 ID", "Station id", required=True),
        field("hour", "timestamp", "시간대", "Hour", required=True),
        field("rentals", "int32", "대여 건수", "Rentals"),
        field("returns", "int32", "반납 건수", "Returns"),
        field("net_inflow", "int32", "순유입", "Net inflow (returns - rentals)"),
    ],
    partition=Partition(column="hour", transform="month"),
    key=["station_id", "hour"],
    keywords=["따릉이", "공공자전거", "bike demand"],
    display=Display(chart=["rentals", "returns"], chart_by="sum"),
    derived_from={
        "station_id": ["bike_trips.rent_station_id", "bike_trips.return_station_id"],
        "hour": ["bike_trips.rent_at", "bike_trips.return_at"],
        "rentals": ["bike_trips.rent_station_id", "bike_trips.rent_at"],
        "returns": ["bike_trips.return_station_id", "bike_trips.return_at"],
        "net_inflow": ["bike_trips.rent_station_id", "bike_trips.return_station_id"],
    },
    build=build,
)
