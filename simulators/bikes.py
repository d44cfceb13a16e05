"""Seoul's public bikes (따릉이): one day of rentals, as the Transport HQ exports them (CSV).

Each member keeps the same birth year and sex in every delivery, so their trips can be linked
across days, which is what the protect step must keep possible (tokens) without exposing who.
Stations follow a Zipf-like popularity and rentals peak at the commute hours.
"""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from simulators.defects import Defect, inject_table

KST = ZoneInfo("Asia/Seoul")
HEADER = {
    "trip_id": "대여번호",
    "member_id": "회원번호",
    "birth_year": "출생연도",
    "sex": "성별",
    "rent_station_id": "대여대여소ID",
    "rent_at": "대여일시",
    "return_station_id": "반납대여소ID",
    "return_at": "반납일시",
    "distance_km": "이용거리(km)",
}
#: Share of rentals per hour of the day: morning and evening commute peaks.
HOURLY = np.array(
    [
        1,
        0.6,
        0.4,
        0.3,
        0.3,
        0.8,
        2.5,
        5.5,
        8.0,
        5.0,
        3.5,
        3.8,
        4.2,
        4.0,
        4.0,
        4.5,
        5.5,
        7.5,
        9.0,
        7.0,
        5.5,
        4.5,
        3.0,
        2.0,
    ]
)


def member_id(index: np.ndarray) -> pa.Array:
    return pc.binary_join_element_wise(
        "TM", pc.utf8_lpad(pa.array(index).cast(pa.string()), 7, "0"), ""
    )


def member_birth_year(index: np.ndarray, seed: int) -> np.ndarray:
    """A member's birth year, the same in every delivery (riders are mostly 20-59)."""
    mixed = (index * 2_654_435_761 + seed * 97) % 1_000_003
    return 1950 + (mixed % 55)


def member_sex(index: np.ndarray, seed: int) -> np.ndarray:
    return np.where(((index * 40503 + seed) >> 3) % 5 < 3, "M", "F")


def trips_table(
    day: date, seed: int = 7, trips: int = 20_000, members: int = 50_000, stations: int = 300
) -> pa.Table:
    """One day of rentals with the export's Korean headers, every value as text."""
    rng = np.random.default_rng([seed, day.toordinal()])
    who = rng.integers(0, members, trips)
    popularity = 1.0 / np.arange(1, stations + 1) ** 0.8
    popularity /= popularity.sum()
    rent_station = rng.choice(stations, trips, p=popularity)
    return_station = np.where(
        rng.random(trips) < 0.3, rent_station, rng.choice(stations, trips, p=popularity)
    )
    hour = rng.choice(24, trips, p=HOURLY / HOURLY.sum())
    start = datetime.combine(day, time(), KST)
    rent_s = hour * 3600 + rng.integers(0, 3600, trips)
    minutes = np.clip(rng.lognormal(2.7, 0.6, trips), 2, 240)
    return_s = rent_s + (minutes * 60).astype(np.int64)
    base = np.datetime64(start.replace(tzinfo=None), "s")

    def stamp(seconds: np.ndarray) -> pa.Array:
        local = pa.array(base + seconds.astype("timedelta64[s]"))
        return pc.strftime(local, format="%Y-%m-%d %H:%M:%S")

    def station(ids: np.ndarray) -> pa.Array:
        return pc.binary_join_element_wise("ST-", pa.array(ids + 101).cast(pa.string()), "")

    columns = {
        "trip_id": pc.binary_join_element_wise(
            f"RT{day:%Y%m%d}-",
            pc.utf8_lpad(pa.array(np.arange(trips)).cast(pa.string()), 7, "0"),
            "",
        ),
        "member_id": member_id(who),
        "birth_year": pa.array(member_birth_year(who, seed)).cast(pa.string()),
        "sex": pa.array(member_sex(who, seed)),
        "rent_station_id": station(rent_station),
        "rent_at": stamp(rent_s),
        "return_station_id": station(return_station),
        "return_at": stamp(return_s),
        "distance_km": pa.array(np.round(minutes * rng.uniform(0.12, 0.25, trips), 2)).cast(
            pa.string()
        ),
    }
    return pa.table({HEADER[name]: values for name, values in columns.items()})


def trips_csv(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(quoting_style="none"))
    return sink.getvalue()


def bike_trips(
    start: datetime, seed: int = 7, trips: int = 20_000, defects: list[Defect] | None = None
) -> dict[str, bytes]:
    """The day's export; ``defects`` (on the Korean field names) break chosen rows."""
    day = start.astimezone(KST).date()
    key = f"bike_trips/{day:%Y%m%d}/ttareungyi_rentals_{day:%Y%m%d}.csv"
    return {key: trips_csv(inject_table(trips_table(day, seed, trips), defects or []))}


def next_day(start: datetime) -> datetime:
    return start + timedelta(days=1)
