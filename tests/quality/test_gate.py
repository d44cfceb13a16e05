"""The quality gate on a real lake: each injected defect is caught by the expectation meant for
it and quarantined with its reason; a delivery over the gate publishes nothing; a clean one
publishes; a stale feed fails its freshness check and loses score."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from catalog import entries
from catalog.models import QualityResult, QualityScore
from hub.cli import app
from hub.core.errors import QualityGateError
from hub.lake import iceberg
from hub.lake.objectstore import ObjectStore
from hub.steps.context import RunContext
from hub.steps.pipeline import run_pipeline
from quality.checks import Regex
from simulators import bikes
from simulators.defects import Defect, picked
from tests.support.staff import CLI_ENV, acting_as

KST = ZoneInfo("Asia/Seoul")
DAY = datetime(2026, 11, 1, tzinfo=KST)
TRIPS = 20_000
AIR_START = datetime(2026, 11, 1, 3, tzinfo=KST)
AIR_END = AIR_START + timedelta(hours=3)


def drop_bikes(settings, defects: list[Defect]) -> pa.Table:
    """Drop a day's export with ``defects``; returns the rows as sent."""
    sent = bikes.trips_table(DAY.date(), trips=TRIPS)
    from simulators.defects import inject_table

    sent = inject_table(sent, defects)
    ObjectStore(settings).put(
        "inbox", f"bike_trips/{DAY:%Y%m%d}/rentals.csv", bikes.trips_csv(sent)
    )
    return sent


def bike_context(settings, run_id: str) -> RunContext:
    return RunContext.create("bike_trips", DAY, DAY + timedelta(days=1), run_id, settings=settings)


def quarantined(settings, feed: str, run_id: str) -> list[dict]:
    table = iceberg.table_catalog(settings).load_table(("quarantine", feed)).scan().to_arrow()
    return [r for r in table.to_pylist() if r["run_id"] == run_id]


def trusted_rows(settings, feed: str) -> int:
    from pyiceberg.exceptions import NoSuchTableError

    try:
        table = iceberg.table_catalog(settings).load_table(("trusted", feed))
    except NoSuchTableError:  # nothing was ever published
        return 0
    return 0 if table.current_snapshot() is None else table.scan().to_arrow().num_rows


def results(settings, feed: str, run_id: str) -> dict[str, list[QualityResult]]:
    out: dict[str, list[QualityResult]] = {}
    for r in entries.listing(settings.catalog_url, QualityResult, feed):
        if r.run_id == run_id:
            out.setdefault(r.check_label, []).append(r)
    return out


def trip_ids(sent: pa.Table, defect: Defect) -> set[str]:
    ids = sent["대여번호"].to_pylist()
    return {ids[i] for i in picked(TRIPS, defect)}


@pytest.mark.parametrize("backend", ["sqlite"])
def test_each_bike_defect_is_caught_by_its_expectation_and_quarantined(hub_settings):
    old = Defect("out_of_range", "출생연도", rows=3, value="1800", seed=1)
    nonsense = Defect("bad_code", "성별", rows=2, value="X", seed=2)
    backwards = Defect("swap", "대여일시", other="반납일시", rows=4, seed=3)
    twice = Defect("duplicate_id", "대여번호", rows=1, seed=4)
    sent = drop_bikes(hub_settings, [old, nonsense, backwards, twice])
    run_pipeline(bike_context(hub_settings, "defects"))

    rows = quarantined(hub_settings, "bike_trips", "defects")
    by_reason: dict[str, set[str]] = {}
    for row in rows:
        for reason in row["reason"].split("; "):
            by_reason.setdefault(reason, set()).add(json.loads(row["record"])["trip_id"])
    ids = sent["대여번호"].to_pylist()
    dup = ids[picked(TRIPS, twice)[0]]
    assert by_reason == {
        "expect_column_values_to_be_between failed: between(birth_year)": trip_ids(sent, old),
        "expect_column_values_to_be_in_set failed: in_set(sex)": trip_ids(sent, nonsense),
        "expect_column_pair_values_a_to_be_greater_than_b failed: "
        "greater_than(return_at, rent_at)": trip_ids(sent, backwards),
        "expect_column_values_to_be_unique failed: unique(trip_id)": {dup},
    }
    assert len([r for r in rows if json.loads(r["record"])["trip_id"] == dup]) == 2  # both copies
    assert trusted_rows(hub_settings, "bike_trips") == TRIPS - len(rows)

    stored = results(hub_settings, "bike_trips", "defects")
    assert sum(len(rs) for rs in stored.values()) == 20  # every declared check has its result
    assert stored["in_set(sex)"][0].unexpected_count == 2
    assert json.loads(stored["in_set(sex)"][0].examples) == ["X", "X"]
    assert stored["unique(trip_id)"][0].unexpected_count == 2
    assert all(
        r.success
        for label, rs in stored.items()
        for r in rs
        if label
        not in {
            "between(birth_year)",
            "in_set(sex)",
            "greater_than(return_at, rent_at)",
            "unique(trip_id)",
        }
    )


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_delivery_over_the_gate_publishes_nothing_and_a_clean_one_publishes(hub_settings):
    too_many = Defect("out_of_range", "이용거리(km)", rows=600, value="250", seed=5)  # 3% > 2%
    drop_bikes(hub_settings, [too_many])
    with pytest.raises(QualityGateError) as err:
        run_pipeline(bike_context(hub_settings, "over"))
    message = str(err.value)
    assert "feed bike_trips" in message and "600 of 20000 delivered rows (3.0%)" in message
    assert "above the gate's 2.0%" in message
    assert trusted_rows(hub_settings, "bike_trips") == 0
    assert len(quarantined(hub_settings, "bike_trips", "over")) == 600
    run = entries.runs(hub_settings.catalog_url, "bike_trips")[-1]
    assert run.status == "failed" and "2.0%" in run.error

    drop_bikes(hub_settings, [])  # the department fixes the export and sends it again
    run_pipeline(bike_context(hub_settings, "clean"))
    assert trusted_rows(hub_settings, "bike_trips") == TRIPS
    assert quarantined(hub_settings, "bike_trips", "clean") == []
    scores = entries.listing(hub_settings.catalog_url, QualityScore, "bike_trips")
    assert [s.run_id for s in scores] == ["over", "clean"]
    assert scores[1].error_rate == 0 and scores[1].score > scores[0].score


def air_context(settings, run_id: str) -> RunContext:
    return RunContext.create("air_quality_hourly", AIR_START, AIR_END, run_id, settings=settings)


def test_agency_api_defects_are_caught_by_the_standards_checks(hub_settings, agency_api):
    haze = Defect("out_of_range", "pm10Value", rows=2, value=9999, seed=6)
    nowhere = Defect("bad_code", "sggCode", rows=1, value="99999", seed=7)
    gap = Defect("missing_hour", "dataTime", hour=4, fmt="%Y-%m-%d %H:%M")
    agency_api.state.defects = [gap, haze, nowhere]
    run_pipeline(air_context(hub_settings, "api"))

    reasons = sorted(r["reason"] for r in quarantined(hub_settings, "air_quality_hourly", "api"))
    assert reasons == [
        "expect_column_values_to_be_between failed: between(pm10)",
        "expect_column_values_to_be_between failed: between(pm10)",
        "expect_column_values_to_match_regex failed: regex(gu_code); "
        "expect_column_values_to_be_in_set failed: in_set(gu_code)",
    ]
    stored = results(hub_settings, "air_quality_hourly", "api")
    count = stored["row_count"][0]  # two hours of 40 stations, where three were due
    assert not count.success and count.observed_value == "80"
    assert json.loads(count.kwargs)["min_value"] == 108
    assert trusted_rows(hub_settings, "air_quality_hourly") == 77  # a missing hour is no reason
    # to withhold the hours that came


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_failed_hard_check_stops_the_run_whatever_the_error_rate(hub_settings, agency_api):
    agency_api.state.defects = [Defect("bad_code", "stationCode", rows=1, value="A-1", seed=8)]
    ctx = air_context(hub_settings, "hard")
    checks = [
        Regex(expect="regex", column="station_id", pattern="^[0-9]{5}$", hard=True)
        if c.label == "regex(station_id)"
        else c
        for c in ctx.feed.checks
    ]
    ctx = replace(ctx, feed=ctx.feed.model_copy(update={"checks": checks}))
    with pytest.raises(
        QualityGateError, match=r"hard quality checks failed.*regex\(station_id\) \(1 rows\)"
    ):
        run_pipeline(ctx)
    assert trusted_rows(hub_settings, "air_quality_hourly") == 0


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_stale_feed_fails_its_freshness_check_and_loses_score(hub_settings, agency_api):
    run_pipeline(air_context(hub_settings, "fresh"))
    runner = CliRunner(env=CLI_ENV)
    operator, auditor = acting_as("operator"), acting_as("auditor")
    soon = runner.invoke(
        app,
        [
            "quality",
            "freshness",
            "air_quality_hourly",
            "--at",
            (AIR_END + timedelta(minutes=50)).isoformat(),
            *operator,
        ],
    )
    assert soon.exit_code == 0, soon.output
    assert "air_quality_hourly: fresh" in soon.output
    late = runner.invoke(
        app,
        [
            "quality",
            "freshness",
            "air_quality_hourly",
            "--at",
            (AIR_END + timedelta(hours=6)).isoformat(),
            *operator,
        ],
    )
    assert late.exit_code == 1
    assert "air_quality_hourly: STALE" in late.output

    shown = runner.invoke(app, ["quality", "show", "air_quality_hourly", "--json", *auditor])
    assert shown.exit_code == 0, shown.output
    view = json.loads(shown.output)
    fresh_checks = [
        (c["check"], c["success"]) for c in view["checks"] if c["check"].startswith("fresh(")
    ]  # the delivery's rows were recent; the sweep finds five hourly windows missing
    assert fresh_checks == [("fresh(measured_at)", True), ("fresh(schedule)", False)]
    delivered, swept_ok, swept_stale = view["history"]
    assert swept_ok["score"] == delivered["score"]
    assert swept_stale["score"] < delivered["score"]
    assert view["parts"]["timeliness"] == 0 and view["parts"]["content"] > 0.9

    text = runner.invoke(app, ["quality", "show", "air_quality_hourly", *auditor]).output
    assert "FAIL fresh(schedule)" in text and "quality score" in text


@pytest.mark.parametrize("backend", ["sqlite"])
def test_quality_report_is_readable_html_with_failing_checks(hub_settings, agency_api, tmp_path):
    agency_api.state.defects = [Defect("out_of_range", "pm10Value", rows=2, value=9999, seed=6)]
    run_pipeline(air_context(hub_settings, "r1"))
    args = ["quality", "report", "--out", str(tmp_path), *acting_as("operator")]
    result = CliRunner(env=CLI_ENV).invoke(app, args)
    assert result.exit_code == 0, result.output
    page = (tmp_path / "air_quality_hourly.html").read_text(encoding="utf-8")
    assert "대기오염" in page or "대기" in page
    assert "between(pm10)" in page and "9999" in page and "<svg" in page
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert 'href="air_quality_hourly.html"' in index and 'href="bike_trips.html"' in index


@pytest.mark.parametrize("backend", ["sqlite"])
def test_reference_data_is_timely_by_its_deliveries_not_its_validity_dates(hub_settings):
    from hub.registry import load_registry
    from hub.registry.schedule import last_window
    from quality.freshness import sweep
    from simulators import drops

    feed = load_registry(hub_settings.feeds_dir)["street_segments"]  # rows valid from Jan 1
    start, end = last_window(feed.schedule, AIR_END)
    for key, data in drops.DROPS["street_segments"](start, 7).items():
        ObjectStore(hub_settings).put("inbox", key, data)
    run_pipeline(RunContext.create("street_segments", start, end, "ref", settings=hub_settings))
    (score,) = entries.listing(hub_settings.catalog_url, QualityScore, "street_segments")
    assert score.timeliness == 1.0 and score.score == 100.0

    # judged by the windows delivered, not by the rows' validity dates: fresh until the next
    # window has closed and its grace (one window) has passed too
    fresh, _ = sweep(hub_settings, feed, end + 1.5 * (end - start))
    stale, rescored = sweep(hub_settings, feed, end + 2.5 * (end - start))
    assert fresh.success and not stale.success and rescored.timeliness < 1
