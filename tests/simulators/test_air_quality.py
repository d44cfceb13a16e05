"""The simulated stations are deterministic, so a rerun of a window sees the same delivery."""

from __future__ import annotations

from datetime import datetime

from simulators import air_quality
from simulators.seoul import GU


def test_same_seed_and_hour_give_the_same_readings_and_another_seed_does_not():
    start = datetime.fromisoformat("2026-11-01T00:00:00+09:00")
    end = datetime.fromisoformat("2026-11-01T03:00:00+09:00")
    assert air_quality.readings(start, end) == air_quality.readings(start, end)
    assert air_quality.readings(start, end, seed=8) != air_quality.readings(start, end)


def test_forty_stations_cover_all_25_gu_with_unique_codes():
    stations = air_quality.stations()
    assert len({s.code for s in stations}) == 40
    assert {s.gu_code for s in stations} == set(GU)
