"""Freshness judged against the schedule (issue 17): a feed is fresh while its successful runs
cover the windows its schedule has closed, with one window of grace (or the feed's own); the
age of its rows plays no part. Checked on the catalog's run records, for the schedules the
city's feeds use."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from catalog import entries
from catalog.db import ensure_current
from hub.core.delivery import Window
from hub.core.settings import PROJECT_ROOT
from hub.registry import load_registry
from hub.registry.schedule import last_window
from quality.freshness import NeverPublished, judge

FEEDS = load_registry(PROJECT_ROOT / "feeds")
AT = datetime.fromisoformat("2026-11-01T05:00:00+09:00")


def following(schedule, end: datetime) -> datetime:
    """The end of the window after the one that ends at ``end``."""
    from zoneinfo import ZoneInfo

    from croniter import croniter

    return croniter(schedule.cron, end.astimezone(ZoneInfo(schedule.timezone))).get_next(datetime)


def delivered(settings, feed_id: str, windows: int, *, failed_after: int = 0) -> datetime:
    """Runs of the feed's ``windows`` latest windows up to AT, the newest ``failed_after`` of
    them failed; returns the end of the newest window (delivered or not)."""
    ensure_current(settings.catalog_url)
    schedule = FEEDS[feed_id].schedule
    at, newest = AT, None
    for i in range(windows):
        start, end = last_window(schedule, at)
        newest = newest or end
        status = "failed" if i < failed_after else "published"
        entries.update_run(
            settings.catalog_url, feed_id, f"w{i}", Window(start, end), status=status
        )
        at = start
    return newest


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize(
    "feed_id",
    ["air_quality_hourly", "bike_trips", "childcare_applications", "startup_tenants"],
)
def test_a_feed_is_fresh_through_one_missing_window_and_stale_at_two(hub_settings, feed_id):
    schedule = FEEDS[feed_id].schedule
    newest = delivered(hub_settings, feed_id, 3)
    url = hub_settings.catalog_url
    one, two = following(schedule, newest), following(schedule, following(schedule, newest))
    # right after its newest window, and however old the rows in it are
    assert judge(url, feed_id, schedule, newest + timedelta(minutes=5)).fresh
    # the source stops: one window closed and missing is within the grace
    one_missing = judge(url, feed_id, schedule, one + timedelta(minutes=5))
    assert one_missing.fresh and one_missing.timeliness == 1.0
    # a second window closed too: the first is past its grace, the feed is stale
    two_missing = judge(url, feed_id, schedule, two + timedelta(minutes=5))
    assert not two_missing.fresh and two_missing.missing == 1
    assert two_missing.due == one and two_missing.timeliness == 0.5
    much_later = judge(url, feed_id, schedule, two + 10 * (two - one))
    assert not much_later.fresh and much_later.timeliness == 0.0


@pytest.mark.parametrize("backend", ["sqlite"])
def test_failed_runs_do_not_count_and_a_grace_can_be_declared(hub_settings):
    feed = FEEDS["air_quality_hourly"]
    newest = delivered(hub_settings, feed.id, 4, failed_after=2)  # the last two hours failed
    url = hub_settings.catalog_url
    found = judge(url, feed.id, feed.schedule, newest + timedelta(minutes=5))
    assert not found.fresh and found.covered_until == newest - timedelta(hours=2)
    patient = feed.schedule.model_copy(update={"grace": timedelta(hours=3)})
    assert judge(url, feed.id, patient, newest + timedelta(minutes=5)).fresh


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_feed_never_run_is_not_judged(hub_settings):
    ensure_current(hub_settings.catalog_url)
    feed = FEEDS["bike_trips"]
    with pytest.raises(NeverPublished, match="bike_trips"):
        judge(hub_settings.catalog_url, feed.id, feed.schedule, AT)
