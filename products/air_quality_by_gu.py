"""Air quality by gu: daily means and exceedance days, from the stations' hourly readings and
the city's IoT micro-sensors together (thresholds below)."""

from __future__ import annotations

from typing import Any

from hub.core.settings import CITY_TIMEZONE
from hub.core.text import Text
from hub.registry.spec import Display, MapLayer, Partition
from products.model import Product, field

#: Daily limits in µg/m³: WHO guideline (PM10 50 and PM2.5 25, as the city plan cites them) and
#: Korea's national daily PM2.5 standard.
WHO_PM10, WHO_PM25, NATIONAL_PM25 = 50.0, 25.0, 35.0


def build(inputs: dict[str, Any]) -> Any:
    # numpy and pyarrow load when the product builds: product modules load at DAG parsing
    import pyarrow as pa
    import pyarrow.compute as pc

    from products.reference import GU, gu_of

    def daily(table: pa.Table, time: str, source: str, gu: pa.Array) -> pa.Table:
        local = pc.cast(table.column(time), pa.timestamp("us", tz=CITY_TIMEZONE))
        day = pc.cast(pc.floor_temporal(local, unit="day"), pa.date32())
        return pa.table(
            {
                "gu_code": gu,
                "day": day,
                "pm10": table.column("pm10"),
                "pm25": table.column("pm25"),
                "source": pa.array([source] * table.num_rows),
            }
        )

    stations = inputs["air_quality_hourly"]
    sensors = inputs["iot_air_sensors"]
    readings = pa.concat_tables(
        [
            daily(
                stations,
                "measured_at",
                "station",
                pc.cast(stations.column("gu_code"), pa.large_string()),
            ),
            daily(
                sensors,
                "observed_at",
                "sensor",
                gu_of(sensors.column("lat"), sensors.column("lon")),
            ),
        ]
    )
    readings = readings.append_column("is_station", pc.equal(readings.column("source"), "station"))
    grouped = readings.group_by(["gu_code", "day"]).aggregate(
        [
            ("pm10", "mean"),
            ("pm25", "mean"),
            ("is_station", "sum"),
            ("source", "count"),
        ]
    )
    stations_n = pc.cast(grouped.column("is_station_sum"), pa.int32())
    total = pc.cast(grouped.column("source_count"), pa.int32())
    pm10, pm25 = grouped.column("pm10_mean"), grouped.column("pm25_mean")
    names = [GU.get(code, ("",))[0] for code in grouped.column("gu_code").to_pylist()]
    return pa.table(
        {
            "gu_code": grouped.column("gu_code"),
            "gu_name": pa.array(names, pa.large_string()),
            "day": grouped.column("day"),
            "pm10_mean": pm10,
            "pm25_mean": pm25,
            "station_readings": stations_n,
            "sensor_readings": pc.subtract(total, stations_n),
            "pm10_over_who": pc.greater(pm10, WHO_PM10),
            "pm25_over_who": pc.greater(pm25, WHO_PM25),
            "pm25_over_national": pc.greater(pm25, NATIONAL_PM25),
        }
    ).sort_by([("day", "ascending"), ("gu_code", "ascending")])


PRODUCT = Product(
    id="air_quality_by_gu",
    title=Text(
        ko="자치구별 일평균 대기질과 기준 초과일", en="Daily air quality and exceedance days by gu"
    ),
    description=Text(
        ko="측정소(시간별)와 IoT 간이측정기 자료를 합친 자치구별 PM10·PM2.5 일평균과 WHO·국가 기준 초과 여부.",
        en="Daily PM10 and PM2.5 means per gu from the monitoring stations (hourly) and the city's IoT "
        "micro-sensors together, with WHO (PM10 50, PM2.5 25 µg/m³) and national (PM2.5 35 µg/m³) exceedances.",
    ),
    inputs=["air_quality_hourly", "iot_air_sensors"],
    schema=[
        field("gu_code", "string", "자치구 코드", "Gu code", required=True),
        field("gu_name", "string", "자치구", "Gu"),
        field("day", "date", "일자", "Day (KST)", required=True),
        field("pm10_mean", "float64", "PM10 일평균", "Daily mean PM10", unit="µg/m³"),
        field("pm25_mean", "float64", "PM2.5 일평균", "Daily mean PM2.5", unit="µg/m³"),
        field("station_readings", "int32", "측정소 자료 수", "Station readings"),
        field("sensor_readings", "int32", "IoT 자료 수", "IoT sensor readings"),
        field(
            "pm10_over_who", "boolean", "PM10 WHO 기준 초과", "PM10 above the WHO daily guideline"
        ),
        field(
            "pm25_over_who", "boolean", "PM2.5 WHO 기준 초과", "PM2.5 above the WHO daily guideline"
        ),
        field(
            "pm25_over_national",
            "boolean",
            "PM2.5 국가기준 초과",
            "PM2.5 above the national daily standard",
        ),
    ],
    partition=Partition(column="day", transform="month"),
    key=["gu_code", "day"],
    type="sensor",
    keywords=["미세먼지", "자치구", "air quality"],
    display=Display(
        chart=["pm10_mean", "pm25_mean"], map=MapLayer(gu="gu_code", value="pm10_mean")
    ),
    derived_from={
        "gu_code": ["air_quality_hourly.gu_code", "iot_air_sensors.lat", "iot_air_sensors.lon"],
        "gu_name": ["air_quality_hourly.gu_code"],
        "day": ["air_quality_hourly.measured_at", "iot_air_sensors.observed_at"],
        "pm10_mean": ["air_quality_hourly.pm10", "iot_air_sensors.pm10"],
        "pm25_mean": ["air_quality_hourly.pm25", "iot_air_sensors.pm25"],
        "station_readings": ["air_quality_hourly.station_id"],
        "sensor_readings": ["iot_air_sensors.sensor_id"],
        "pm10_over_who": ["air_quality_hourly.pm10", "iot_air_sensors.pm10"],
        "pm25_over_who": ["air_quality_hourly.pm25", "iot_air_sensors.pm25"],
        "pm25_over_national": ["air_quality_hourly.pm25", "iot_air_sensors.pm25"],
    },
    build=build,
)
