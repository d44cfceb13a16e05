"""The lake every product test starts from: each input feed run once, then every product built."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from hub.lake.objectstore import ObjectStore
from hub.registry import load_registry
from hub.registry.schedule import last_window
from hub.steps.context import RunContext
from hub.steps.derive import derive
from hub.steps.pipeline import run_pipeline
from products import load_products
from simulators import drops

AT = datetime(2026, 11, 1, 5, tzinfo=ZoneInfo("Asia/Seoul"))
PRODUCTS = load_products()
INPUTS = sorted({f for p in PRODUCTS.values() for f in p.inputs})


@pytest.fixture
def lake(hub_settings, agency_api):
    """Every input feed run once for the window before AT, then every product built."""
    feeds = load_registry(hub_settings.feeds_dir)
    store = ObjectStore(hub_settings)
    for feed_id in INPUTS:
        start, end = last_window(feeds[feed_id].schedule, AT)
        for key, data in drops.DROPS.get(feed_id, lambda *_: {})(start, 7).items():
            store.put("inbox", key, data)
        run_pipeline(RunContext.create(feed_id, start, end, "run-1", settings=hub_settings))
    built = {p: derive(p, "build-1", hub_settings) for p in PRODUCTS}
    return hub_settings, built
