"""Street safety grade per 10 m segment (Yeongdeungpo's safe-route plan): women-targeted crimes
near the segment, against the night-time female population on it, eased by the door sensors
installed in its dong. Grade 1 is the safest fifth of segments, 5 the least safe."""

from __future__ import annotations

from typing import Any

from hub.core.settings import CITY_TIMEZONE
from hub.core.text import Text
from hub.registry.spec import Display, MapLayer, Partition
from products.model import Product, field

#: A crime counts for the nearest segment within this distance; farther ones belong to none.
NEAR_M = 300.0
#: Each door sensor in the dong lowers a segment's risk by this share, up to MAX_EASING.
EASING_PER_SENSOR, MAX_EASING = 0.02, 0.3


def build(inputs: dict[str, Any]) -> Any:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    segments = inputs["street_segments"].sort_by("segment_id")
    crimes = inputs["women_crime_incidents"].filter(
        pc.and_(
            pc.is_valid(inputs["women_crime_incidents"].column("lat")),
            pc.is_valid(inputs["women_crime_incidents"].column("lon")),
        )
    )
    seg_lat = segments.column("lat").to_numpy()
    seg_lon = segments.column("lon").to_numpy()
    scale = np.cos(np.radians(37.52))
    d_lat = crimes.column("lat").to_numpy()[:, None] - seg_lat[None, :]
    d_lon = (crimes.column("lon").to_numpy()[:, None] - seg_lon[None, :]) * scale
    metres = np.sqrt(d_lat**2 + d_lon**2) * 111_320.0
    nearest = metres.argmin(axis=1) if len(crimes) else np.array([], dtype=int)
    close = (
        metres[np.arange(len(nearest)), nearest] <= NEAR_M if len(crimes) else np.array([], bool)
    )
    crime_counts = np.bincount(nearest[close], minlength=len(segments))

    population = inputs["night_floating_population"]
    women = population.filter(pc.equal(population.column("sex"), "F"))
    per_cell = women.group_by(["segment_id", "date", "hour"]).aggregate([("est_count", "sum")])
    per_segment = per_cell.group_by("segment_id").aggregate([("est_count_sum", "mean")])
    female = dict(
        zip(
            per_segment.column("segment_id").to_pylist(),
            per_segment.column("est_count_sum_mean").to_pylist(),
            strict=True,
        )
    )
    female_pop = np.array([female.get(s) or 0.0 for s in segments.column("segment_id").to_pylist()])

    installs = inputs["door_sensor_installs"]
    # protected addresses end at the dong: "서울특별시 영등포구 <dong>"
    dong_names = [
        a.rsplit(" ", 1)[-1] if a else None for a in installs.column("address").to_pylist()
    ]
    segment_dongs = segments.column("dong").to_pylist()
    per_dong = {d: dong_names.count(d) for d in set(segment_dongs)}
    segments_in_dong = {d: segment_dongs.count(d) for d in set(segment_dongs)}
    sensors = np.array([per_dong[d] / segments_in_dong[d] for d in segment_dongs])

    risk = (
        (crime_counts + 1.0)
        / (female_pop + 1.0)
        * (1 - np.minimum(MAX_EASING, EASING_PER_SENSOR * sensors))
    )
    order = risk.argsort(kind="stable")
    grade = np.empty(len(risk), dtype=np.int32)
    grade[order] = 1 + (np.arange(len(risk)) * 5) // max(1, len(risk))
    crime_day = pc.cast(
        pc.cast(crimes.column("occurred_at"), pa.timestamp("us", tz=CITY_TIMEZONE)), pa.date32()
    )
    as_of = pc.max(crime_day).as_py() if len(crimes) else pc.max(population.column("date")).as_py()
    return pa.table(
        {
            "segment_id": segments.column("segment_id"),
            "dong": segments.column("dong"),
            "lat": segments.column("lat"),
            "lon": segments.column("lon"),
            "crimes": pa.array(crime_counts.astype(np.int32)),
            "night_female_pop": pa.array(np.round(female_pop, 1)),
            "door_sensors": pa.array(np.round(sensors, 2)),
            "risk_score": pa.array(np.round(risk, 4)),
            "grade": pa.array(grade),
            "as_of": pa.array([as_of] * len(segments), pa.date32()),
        }
    )


PRODUCT = Product(
    id="street_safety",
    title=Text(
        ko="영등포구 가로구간별 안전등급", en="Street safety grade per segment, Yeongdeungpo-gu"
    ),
    description=Text(
        ko="10m 가로구간별 여성 대상 범죄, 야간 여성 생활인구, 문열림 센서 설치를 종합한 안전등급(1 안전 ~ 5 취약).",
        en="Safety grade per 10 m street segment (1 safest to 5 least safe) from women-targeted crimes near it, "
        "the night-time female population on it, and the door sensors installed in its dong.",
    ),
    inputs=[
        "women_crime_incidents",
        "night_floating_population",
        "door_sensor_installs",
        "street_segments",
    ],
    schema=[
        field("segment_id", "string", "가로구간 ID", "Segment id", required=True),
        field("dong", "string", "행정동", "Dong"),
        field("lat", "float64", "중심 위도", "Centre latitude", unit="degree"),
        field("lon", "float64", "중심 경도", "Centre longitude", unit="degree"),
        field("crimes", "int32", "인근 범죄 건수", "Crimes within 300 m"),
        field(
            "night_female_pop",
            "float64",
            "야간 여성 생활인구(시간 평균)",
            "Night-time female population (mean per hour)",
        ),
        field(
            "door_sensors", "float64", "문열림 센서(구간당)", "Door sensors per segment in the dong"
        ),
        field("risk_score", "float64", "위험 점수", "Risk score"),
        field("grade", "int32", "안전등급", "Safety grade (1 safest - 5 least safe)"),
        field("as_of", "date", "기준일", "As of (latest crime day)", required=True),
    ],
    partition=Partition(column="as_of", transform="month"),
    key=["segment_id", "as_of"],
    type="spatial",
    keywords=["안심귀갓길", "안전등급", "street safety"],
    display=Display(map=MapLayer(points=("lon", "lat"), value="grade"), districts=["11560"]),
    derived_from={
        "segment_id": ["street_segments.segment_id"],
        "dong": ["street_segments.dong"],
        "lat": ["street_segments.lat"],
        "lon": ["street_segments.lon"],
        "crimes": [
            "women_crime_incidents.case_no",
            "women_crime_incidents.lat",
            "women_crime_incidents.lon",
        ],
        "night_female_pop": [
            "night_floating_population.est_count",
            "night_floating_population.sex",
        ],
        "door_sensors": ["door_sensor_installs.install_id", "door_sensor_installs.address"],
        "risk_score": [
            "women_crime_incidents.case_no",
            "night_floating_population.est_count",
            "door_sensor_installs.install_id",
        ],
        "grade": [
            "women_crime_incidents.case_no",
            "night_floating_population.est_count",
            "door_sensor_installs.install_id",
        ],
        "as_of": ["women_crime_incidents.occurred_at"],
    },
    build=build,
)
