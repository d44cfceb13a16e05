"""An empty delivery never empties a published window: every format, through ``hub run``.

A file with only its header, a workbook sheet with only its header, a JSON document whose
record list is empty and a Parquet file with no row are each refused with the feed, the file
and the reason; the window's published rows stay in trusted and open; a clean redelivery then
publishes exactly the expected rows. A feed that declares ``allow_empty`` may publish nothing.
"""

from __future__ import annotations

import shutil

import pytest

from hub.core.settings import PROJECT_ROOT
from simulators import drops, hostile
from tests.support.runs import drop, feed, hub_run, last_run, rows, window

EMPTY = {
    "csv header only, all three institutes": ("pm_composition", hostile.header_only_pm),
    "csv header only, one institute of three": (
        "pm_composition",
        lambda start: hostile.header_only_pm(start, ["incheon"]),
    ),
    "excel sheet with only its header": ("childcare_capacity", hostile.header_only_workbook),
    "json documents with empty record lists": (
        "resident_council_activity",
        hostile.empty_council_lists,
    ),
    "parquet with 0 rows": ("night_floating_population", hostile.empty_parquet),
}


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("case", sorted(EMPTY))
def test_an_empty_delivery_is_refused_and_the_published_window_stays(hub_settings, case):
    feed_id, make = EMPTY[case]
    start, _ = window(feed_id)
    prefix = f"{feed_id}/"
    drop(hub_settings, drops.DROPS[feed_id](start, 7))
    first = hub_run(feed_id)
    assert first.exit_code == 0, first.error
    published = first.result["rows_published"]
    assert published > 0
    opened = rows(hub_settings, "open", feed_id)

    drop(hub_settings, make(start), clear=prefix)
    ran = hub_run(feed_id)

    assert ran.exit_code == 1
    assert ran.error.startswith(f"feed {feed_id}: file {feed_id}/partition=")
    assert "holds no rows" in ran.error and "allow_empty" in ran.error
    assert rows(hub_settings, "trusted", feed_id) == published  # not emptied, not shrunk
    assert rows(hub_settings, "open", feed_id) == opened
    failed = last_run(hub_settings, feed_id)
    assert failed.status == "failed" and failed.error == ran.error
    assert not failed.rows_published

    drop(hub_settings, drops.DROPS[feed_id](start, 7), clear=prefix)
    again = hub_run(feed_id)
    assert again.exit_code == 0, again.error
    assert again.result["rows_published"] == published
    assert rows(hub_settings, "trusted", feed_id) == published
    run = last_run(hub_settings, feed_id)
    assert run.rows_published + run.rows_quarantined == run.rows_landed


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_feed_that_allows_empty_windows_publishes_an_empty_one(
    hub_settings, tmp_path, monkeypatch
):
    feeds = tmp_path / "feeds"
    shutil.copytree(PROJECT_ROOT / "feeds", feeds)
    path = feeds / "pm_composition.yaml"
    path.write_text(path.read_text() + "allow_empty: true\n")
    monkeypatch.setenv("HUB_FEEDS_DIR", str(feeds))
    assert feed("pm_composition").allow_empty is False  # the real feed is untouched
    start, _ = window("pm_composition")
    drop(hub_settings, hostile.header_only_pm(start))

    ran = hub_run("pm_composition")

    assert ran.exit_code == 0, ran.error
    assert ran.result["rows_published"] == 0
    assert rows(hub_settings, "trusted", "pm_composition") == 0
