"""Childcare capacity rate by gu: how full the gu's childcare facilities are each month."""

from __future__ import annotations

from typing import Any

from hub.core.text import Text
from hub.registry.spec import Display, MapLayer, Partition
from products.model import Product, field


def build(inputs: dict[str, Any]) -> Any:
    # numpy and pyarrow load when the product builds: product modules load at DAG parsing
    import pyarrow as pa
    import pyarrow.compute as pc

    from products.reference import GU

    facilities = inputs["childcare_capacity"]
    grouped = facilities.group_by(["gu_code", "reported_month"]).aggregate(
        [
            ("facility_id", "count"),
            ("capacity", "sum"),
            ("enrolled", "sum"),
            ("waiting", "sum"),
        ]
    )
    capacity = grouped.column("capacity_sum")
    enrolled = grouped.column("enrolled_sum")
    rate = pc.round(pc.divide(pc.cast(enrolled, pa.float64()), pc.cast(capacity, pa.float64())), 4)
    names = [GU.get(code, ("",))[0] for code in grouped.column("gu_code").to_pylist()]
    return pa.table(
        {
            "gu_code": grouped.column("gu_code"),
            "gu_name": pa.array(names, pa.large_string()),
            "month": grouped.column("reported_month"),
            "facilities": pc.cast(grouped.column("facility_id_count"), pa.int32()),
            "capacity": pc.cast(capacity, pa.int32()),
            "enrolled": pc.cast(enrolled, pa.int32()),
            "waiting": pc.cast(grouped.column("waiting_sum"), pa.int32()),
            "capacity_rate": rate,
        }
    ).sort_by([("month", "ascending"), ("gu_code", "ascending")])


PRODUCT = Product(
    id="childcare_rate",
    title=Text(ko="자치구별 어린이집 정원 충족률", en="Childcare capacity rate by gu"),
    description=Text(
        ko="자치구별·월별 어린이집 수, 정원, 현원, 대기인원과 정원 충족률(현원/정원).",
        en="Facilities, capacity, enrolment, waiting list and capacity rate (enrolled / capacity) per gu and month.",
    ),
    inputs=["childcare_capacity"],
    schema=[
        field("gu_code", "string", "자치구 코드", "Gu code", required=True),
        field("gu_name", "string", "자치구", "Gu"),
        field("month", "date", "기준월", "Month", required=True),
        field("facilities", "int32", "시설 수", "Facilities"),
        field("capacity", "int32", "정원", "Capacity"),
        field("enrolled", "int32", "현원", "Enrolled"),
        field("waiting", "int32", "대기인원", "Waiting"),
        field("capacity_rate", "float64", "정원 충족률", "Capacity rate (enrolled / capacity)"),
    ],
    partition=Partition(column="month", transform="year"),
    key=["gu_code", "month"],
    keywords=["어린이집", "보육", "childcare"],
    display=Display(chart=["capacity_rate"], map=MapLayer(gu="gu_code", value="capacity_rate")),
    derived_from={
        "gu_code": ["childcare_capacity.gu_code"],
        "gu_name": ["childcare_capacity.gu_code"],
        "month": ["childcare_capacity.reported_month"],
        "facilities": ["childcare_capacity.facility_id"],
        "capacity": ["childcare_capacity.capacity"],
        "enrolled": ["childcare_capacity.enrolled"],
        "waiting": ["childcare_capacity.waiting"],
        "capacity_rate": ["childcare_capacity.capacity", "childcare_capacity.enrolled"],
    },
    build=build,
)
