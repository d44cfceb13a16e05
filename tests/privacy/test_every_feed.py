"""Every feed of the registry through every step into one lake: no identifier the simulators
generated reaches the trusted or open zones, and the PII scanner agrees."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq
import pytest

from hub.lake.objectstore import ObjectStore
from hub.registry import load_registry
from hub.registry.schedule import last_window
from hub.steps.context import RunContext
from hub.steps.pipeline import run_pipeline
from privacy.policy import Token
from privacy.scanner import scan_table
from simulators import bikes, drops
from simulators.sources import SOURCES
from tests.privacy.test_protect_pipeline import _applications, leaked

AT = datetime(2026, 11, 1, 5, tzinfo=ZoneInfo("Asia/Seoul"))


@pytest.mark.parametrize("backend", ["sqlite"])
def test_no_simulated_identifier_reaches_the_trusted_or_open_zone(
    hub_settings, agency_api, tmp_path, monkeypatch
):
    feeds = load_registry(hub_settings.feeds_dir)
    store = ObjectStore(hub_settings)
    originals: set[str] = set()
    for feed in feeds.values():
        start, end = last_window(feed.schedule, AT)
        files = drops.DROPS.get(feed.id, lambda *_: {})(start, 7)
        for key, data in files.items():
            store.put("inbox", key, data)
        if feed.id in SOURCES:  # the agency's database, as of the window's end
            variable, write = SOURCES[feed.id]
            monkeypatch.setenv(variable, f"sqlite:///{tmp_path}/{feed.id}.db")
            write(f"sqlite:///{tmp_path}/{feed.id}.db", end)
        if feed.id == "bike_trips":
            originals |= set(bikes.trips_table(start.date())["회원번호"].to_pylist())
        if feed.id == "childcare_applications":
            names, rrns = _applications(files)
            originals |= names | rrns
        run_pipeline(RunContext.create(feed.id, start, end, "run-1", settings=hub_settings))
    assert len(originals) > 10_000
    assert leaked(hub_settings, originals) == set()

    tokens = {
        name
        for f in feeds.values()
        if f.privacy
        for name, r in f.privacy.columns.items()
        if isinstance(r, Token)
    }
    scanned = 0
    for zone in ("trusted", "open"):
        for key in store.list(zone, ""):
            if key.endswith(".parquet"):
                table = pq.read_table(io.BytesIO(store.get(zone, key)))
                table = table.drop_columns([c for c in table.column_names if c in tokens])
                assert scan_table(table) == {}, f"{zone}/{key}"
                scanned += 1
    assert scanned >= len(feeds)
