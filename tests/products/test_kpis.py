"""The KPI dashboard: every indicator of products/kpis.yaml computed by the city_kpis product
from the trusted tables, served at /api/v1/kpis and drawn at /kpi in both languages; a value
on the dashboard is the one recomputed here from the trusted table with plain pyarrow."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from hub.lake import iceberg
from hub.web.app import create_app
from hub.web.kpis import view_of
from products.city_kpis import compute, load_indicators

KST = ZoneInfo("Asia/Seoul")


def _trusted(settings, feed: str) -> list[dict]:
    return (
        iceberg.table_catalog(settings).load_table(("trusted", feed)).scan().to_arrow().to_pylist()
    )


def _in_month(when: datetime | date, month: str) -> bool:
    local = when.astimezone(KST) if isinstance(when, datetime) else when
    return f"{local:%Y-%m}" == month[:7]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_every_indicator_is_served_and_equals_the_value_recomputed_from_its_table(lake):
    settings, built = lake
    assert built["city_kpis"]["rows"] > 0
    answer = TestClient(create_app(settings)).get("/api/v1/kpis")
    assert answer.status_code == 200
    kpis = {k["id"]: k for k in answer.json()}
    assert list(kpis) == [i.id for i in load_indicators()]  # every declared one, in order
    assert all(k["latest_value"] is not None for k in kpis.values()), kpis

    pm = kpis["pm25_mean"]
    readings = [
        r["pm25"]
        for r in _trusted(settings, "air_quality_hourly")
        if _in_month(r["measured_at"], pm["latest_period"]) and r["pm25"] is not None
    ]
    assert pm["latest_value"] == pytest.approx(sum(readings) / len(readings), abs=1e-4)
    # the baseline is this month, so the target is 20% below it
    assert pm["baseline_value"] == pm["latest_value"]
    assert pm["target_value"] == pytest.approx(pm["baseline_value"] * 0.8, abs=1e-4)

    accidents = kpis["vulnerable_ped_accidents"]
    vulnerable = [
        r
        for r in _trusted(settings, "ped_accidents")
        if _in_month(r["occurred_at"], accidents["latest_period"])
        and r["victim_age"] in ("0-9", "70-79", "80+")  # decades, as the trusted zone has them
    ]
    assert accidents["latest_value"] == len(vulnerable)  # a 15-minute window: maybe none

    rate = kpis["childcare_capacity_rate"]
    month = [
        r
        for r in _trusted(settings, "childcare_capacity")
        if _in_month(r["reported_month"], rate["latest_period"])
    ]
    known = [r for r in month if r["enrolled"] is not None and r["capacity"] is not None]
    enrolled = sum(r["enrolled"] for r in known)
    capacity = sum(r["capacity"] for r in known)
    assert rate["latest_value"] == pytest.approx(enrolled / capacity, abs=1e-4)

    hours = kpis["service_request_hours"]
    closed = [
        (r["resolved_at"] - r["received_at"]).total_seconds() / 3600
        for r in _trusted(settings, "service_requests")
        if _in_month(r["received_at"], hours["latest_period"]) and r["resolved_at"] is not None
    ]
    assert len(closed) > 1000 and hours["latest_value"] == pytest.approx(
        sum(closed) / len(closed), abs=1e-3
    )

    rentals = kpis["bike_rentals"]
    day = date.fromisoformat(rentals["latest_period"])
    trips = [
        r for r in _trusted(settings, "bike_trips") if r["rent_at"].astimezone(KST).date() == day
    ]
    assert rentals["latest_value"] == len(trips) > 0


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_dashboard_shows_each_indicator_with_its_value_target_and_trend(lake):
    settings, _ = lake
    web = TestClient(create_app(settings))
    kpis = web.get("/api/v1/kpis").json()
    for lang in ("ko", "en"):
        page = web.get("/kpi", params={"lang": lang})
        assert page.status_code == 200 and f'lang="{lang}"' in page.text
        for k in kpis:
            assert k[f"name_{lang}"] in page.text
            assert f'aria-labelledby="kpi-{k["id"]}"' in page.text
            assert f"/datasets/{k['source']}?lang={lang}" in page.text
        assert page.text.count('class="trend"') == len(kpis)  # a drawn trend for each
        assert page.text.count("stroke-dasharray") == sum(
            k["target_value"] is not None for k in kpis
        )  # and its target line where a baseline exists
    # the product is on the map, with its lineage back to the feeds it reads
    card = web.get("/api/v1/datasets/city_kpis").json()
    assert card["kind"] == "product" and card["rows"] > 0


def test_periods_are_the_citys_calendar_and_conditions_count_only_their_rows():
    (accidents,) = [i for i in load_indicators() if i.id == "vulnerable_ped_accidents"]
    utc = pa.timestamp("us", "UTC")
    table = pa.table(
        {
            "occurred_at": pa.array(
                [
                    datetime(2026, 10, 31, 14, 59, tzinfo=ZoneInfo("UTC")),  # 23:59 KST, Oct
                    datetime(2026, 10, 31, 15, 0, tzinfo=ZoneInfo("UTC")),  # 00:00 KST, Nov
                    datetime(2026, 11, 2, 3, 0, tzinfo=ZoneInfo("UTC")),
                    datetime(2026, 11, 3, 3, 0, tzinfo=ZoneInfo("UTC")),
                    datetime(2026, 11, 4, 3, 0, tzinfo=ZoneInfo("UTC")),
                ],
                utc,
            ),
            "victim_age": pa.array(["0-9", "80+", "30-39", None, "70-79"], pa.large_string()),
        }
    )
    got = compute(accidents, table).to_pylist()
    assert [(r["period"], r["value"]) for r in got] == [
        (date(2026, 10, 1), 1.0),  # the child, late on October 31st in Seoul
        (date(2026, 11, 1), 2.0),  # 80+ and 70-79; not the 30-39 nor the unknown age
    ]


def test_a_period_under_way_is_drawn_but_not_judged_and_a_ratio_skips_unknowns():
    (rentals,) = [i for i in load_indicators() if i.id == "bike_rentals"]
    rows = [
        {"period": date(2026, 10, 31), "value": 20_000.0, "observations": 20_000},
        {"period": date(2026, 11, 1), "value": 3_000.0, "observations": 3_000},  # by 9 a.m.
    ]
    on_the_first = view_of(rentals, rows, today=date(2026, 11, 1))
    assert on_the_first.latest_period == "2026-10-31" and on_the_first.latest_value == 20_000
    assert [p.partial for p in on_the_first.series] == [False, True]
    assert on_the_first.target_value == pytest.approx(22_000)  # +10% on the baseline day
    assert on_the_first.on_track is False  # judged on the 31st, not on a morning's rentals
    assert view_of(rentals, rows, today=date(2026, 11, 2)).latest_value == 3_000

    (rate,) = [i for i in load_indicators() if i.id == "childcare_capacity_rate"]
    table = pa.table(
        {
            "reported_month": pa.array([date(2026, 10, 1)] * 3 + [date(2026, 11, 1)], pa.date32()),
            "enrolled": pa.array([30, None, 10, 0], pa.int32()),
            "capacity": pa.array([40, 50, None, 0], pa.int32()),
        }
    )
    got = {r["period"]: r["value"] for r in compute(rate, table).to_pylist()}
    # October: only the centre with both figures (30 of 40); November: no places, no rate
    assert got == {date(2026, 10, 1): 0.75, date(2026, 11, 1): None}


def test_resolution_hours_count_closed_complaints_and_a_month_settles_before_it_is_judged():
    (hours,) = [i for i in load_indicators() if i.id == "service_request_hours"]
    at = [datetime(2026, 10, d, 9, tzinfo=KST) for d in (1, 2, 31)]
    table = pa.table(
        {
            "received_at": pa.array(at, pa.timestamp("us", tz="UTC")),
            "resolved_at": pa.array(
                [at[0].replace(hour=15), None, datetime(2026, 11, 3, 9, tzinfo=KST)],
                pa.timestamp("us", tz="UTC"),
            ),
        }
    )
    (october,) = compute(hours, table).to_pylist()
    # 6 h and 72 h closed; the one still open counts as nothing (not as zero hours)
    assert october["value"] == pytest.approx(39.0) and october["observations"] == 2
    rows = [{"period": date(2026, 10, 1), "value": 39.0, "observations": 2}]
    assert view_of(hours, rows, today=date(2026, 11, 5)).latest_value is None  # still settling
    assert view_of(hours, rows, today=date(2026, 11, 11)).latest_value == 39.0
