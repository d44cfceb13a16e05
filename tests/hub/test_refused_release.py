"""A refused open release tells the truth: the message and the catalog say the trusted
snapshot is published, the open zone untouched, and the identified raw delivery kept (it is
destroyed only once every step of the run has succeeded)."""

from __future__ import annotations

import re

import pytest

from catalog import entries
from catalog.models import DestructionRecord, Release
from hub.lake.objectstore import ObjectStore
from simulators import bikes
from tests.support.runs import drop, hub_run, last_run, rows, window

FEED = "bike_trips"


def _drop_trips(settings, trips: int) -> int:
    start, _ = window(FEED)
    sent = bikes.trips_table(start.date(), trips=trips)
    drop(settings, {f"{FEED}/{start:%Y%m%d}/rentals.csv": bikes.trips_csv(sent)}, clear=f"{FEED}/")
    return sent.num_rows


def _raw_delivery(settings) -> list[str]:
    return [k for k in ObjectStore(settings).list("raw", f"{FEED}/") if k.endswith(".csv")]


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("trips", [40, 150])
def test_a_refused_first_release_says_trusted_is_published_and_raw_kept(hub_settings, trips):
    _drop_trips(hub_settings, trips)

    ran = hub_run(FEED)

    assert ran.exit_code == 1
    assert re.search(
        rf"^feed {FEED}: the open release cannot reach k ≥ 5.*\. What was done: "
        rf"trusted\.{FEED} snapshot \d+ is published \({trips} rows\); the open release was "
        rf"refused, so open\.{FEED} has no version yet and no download was written; the "
        "identified raw delivery and this run's stages are kept until the run succeeds",
        ran.error,
    ), ran.error
    assert "nothing was released" not in ran.error  # trusted was: the message must not deny it
    assert rows(hub_settings, "trusted", FEED) == trips
    assert rows(hub_settings, "open", FEED) == 0
    run = last_run(hub_settings, FEED)
    assert (run.status, run.step, run.error) == ("failed", "release", ran.error)
    assert run.rows_published == trips
    refused = entries.listing(hub_settings.catalog_url, Release, FEED)[-1]
    assert (refused.zone, refused.status) == ("open", "refused")
    assert "What was done" in refused.report_en
    assert _raw_delivery(hub_settings)  # kept for the retry
    assert entries.listing(hub_settings.catalog_url, DestructionRecord, FEED) == []


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_refused_redelivery_leaves_the_earlier_open_version_and_says_so(hub_settings):
    _drop_trips(hub_settings, 20_000)
    first = hub_run(FEED)
    assert first.exit_code == 0, first.error
    opened = rows(hub_settings, "open", FEED)
    assert opened and entries.listing(hub_settings.catalog_url, DestructionRecord, FEED)

    _drop_trips(hub_settings, 40)  # a corrected file with far fewer rows: too few to release
    ran = hub_run(FEED)

    assert ran.exit_code == 1
    assert f"open.{FEED} keeps the version it had" in ran.error
    assert "snapshot" in ran.error and "(40 rows)" in ran.error
    assert rows(hub_settings, "trusted", FEED) == 40
    assert rows(hub_settings, "open", FEED) == opened
    assert _raw_delivery(hub_settings)

    _drop_trips(hub_settings, 20_000)  # the agency sends the full day again
    again = hub_run(FEED)
    assert again.exit_code == 0, again.error
    assert rows(hub_settings, "trusted", FEED) == 20_000
    run = last_run(hub_settings, FEED)
    assert run.rows_published + run.rows_quarantined == run.rows_landed == 20_000
    assert _raw_delivery(hub_settings) == []  # destroyed once the whole run succeeded
