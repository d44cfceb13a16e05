"""Hourly air-quality readings of Seoul's monitoring stations, deterministic per seed and hour.

The same (seed, station, hour) always gives the same reading, so a rerun of a window sees the
same delivery. Values follow the shape of AirKorea data: a diurnal PM cycle, occasional
instrument states with missing values (null), numbers as Seoul's Open API sends them.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from simulators.seoul import GU

KST = ZoneInfo("Asia/Seoul")


@dataclass(frozen=True)
class Station:
    code: str
    name: str
    gu_code: str


def stations(count: int = 40, seed: int = 7) -> list[Station]:
    """One urban station per gu, then roadside stations, up to ``count``."""
    rng = random.Random(f"stations:{seed}")
    gus = list(GU.items())
    result: list[Station] = []
    for i in range(count):
        gu_code, gu_name = gus[i % len(gus)]
        kind = i // len(gus)
        code = f"{gu_code[2:]}{kind + 1}{rng.randint(0, 9)}"
        name = gu_name if kind == 0 else f"{gu_name[:-1]} 도로변{kind if kind > 1 else ''}"
        result.append(Station(code=code, name=name, gu_code=gu_code))
    return result


def _num(value: float | None, digits: int) -> float | int | None:
    if value is None:
        return None
    return round(value) if digits == 0 else round(value, digits)


def reading(station: Station, hour: datetime, seed: int = 7) -> dict[str, str | float | None]:
    """One station's reading for the hour starting at ``hour`` (aware), as the API sends it."""
    local = hour.astimezone(KST)
    rng = random.Random(f"{seed}:{station.code}:{local:%Y%m%d%H}")
    diurnal = 1 + 0.35 * math.sin((local.hour - 8) / 24 * 2 * math.pi)
    seasonal = 1 + 0.4 * math.cos((local.timetuple().tm_yday - 45) / 365 * 2 * math.pi)
    pm10 = max(3.0, rng.lognormvariate(math.log(38), 0.45) * diurnal * seasonal)
    pm25 = max(1.0, pm10 * rng.uniform(0.4, 0.7))
    flag = rng.choices(["normal", "calibration", "power_failure"], [0.97, 0.02, 0.01])[0]
    ok = flag == "normal"
    return {
        "stationCode": station.code,
        "stationName": station.name,
        "sggCode": station.gu_code,
        "dataTime": f"{local:%Y-%m-%d %H}:00",
        "pm10Value": _num(pm10 if ok else None, 0),
        "pm25Value": _num(pm25 if ok else None, 0),
        "o3Value": _num(rng.uniform(0.005, 0.06) if ok else None, 3),
        "no2Value": _num(rng.uniform(0.008, 0.05) if ok else None, 3),
        "coValue": _num(rng.uniform(0.2, 0.9) if ok else None, 1),
        "so2Value": _num(rng.uniform(0.002, 0.006) if ok else None, 3),
        "statusFlag": flag,
    }


def readings(
    start: datetime, end: datetime, *, station_list: list[Station] | None = None, seed: int = 7
) -> list[dict[str, str]]:
    """All readings with ``start <= hour < end``, ordered by hour then station."""
    station_list = station_list or stations(seed=seed)
    hour = start.astimezone(KST).replace(minute=0, second=0, microsecond=0)
    if hour < start:
        hour += timedelta(hours=1)
    rows = []
    while hour < end:
        rows.extend(reading(s, hour, seed) for s in station_list)
        hour += timedelta(hours=1)
    return rows


def history(rows: int, *, start: datetime, seed: int = 7) -> dict[str, list | object]:
    """``rows`` hourly readings of every station back from ``start``, as column arrays in the
    API's field names: a years-long archive (for download and load tests) made in a second."""
    import numpy as np

    station_list = stations(seed=seed)
    rng = np.random.default_rng(seed)
    index = np.arange(rows)
    hours = index // len(station_list)
    at = np.datetime64(start.astimezone(KST).replace(tzinfo=None), "h") - hours.astype("m8[h]")
    pick = index % len(station_list)
    pm10 = np.maximum(3.0, rng.lognormal(math.log(38), 0.45, rows)).round()
    return {
        "stationCode": np.array([s.code for s in station_list])[pick],
        "stationName": np.array([s.name for s in station_list])[pick],
        "sggCode": np.array([s.gu_code for s in station_list])[pick],
        "dataTime": at.astype("datetime64[s]"),  # local (KST) hours, newest first
        "pm10Value": pm10,
        "pm25Value": (pm10 * rng.uniform(0.4, 0.7, rows)).round(),
        "o3Value": rng.uniform(0.005, 0.06, rows).round(3),
        "no2Value": rng.uniform(0.008, 0.05, rows).round(3),
        "coValue": rng.uniform(0.2, 0.9, rows).round(1),
        "so2Value": rng.uniform(0.002, 0.006, rows).round(3),
        "statusFlag": np.full(rows, "normal"),
    }
