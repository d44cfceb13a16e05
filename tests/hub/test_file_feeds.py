"""The file-delivered feeds end to end on a real S3 server, on SQLite and PostgreSQL catalogs."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from hub.core.errors import DeliveryError
from hub.core.settings import PROJECT_ROOT
from hub.lake import iceberg
from hub.lake.objectstore import ObjectStore
from hub.registry import load_feed
from hub.registry.schedule import last_window
from hub.steps.context import RunContext
from hub.steps.land import land
from hub.steps.pipeline import run_pipeline
from hub.steps.validate import validate
from simulators import drops

KST = ZoneInfo("Asia/Seoul")
AT = datetime(2026, 11, 1, 5, tzinfo=KST)
EXPECTED = {"pm_composition": 18, "night_floating_population": 208_320, "childcare_capacity": 300}


def drop_for(settings, feed_id: str) -> RunContext:
    feed = load_feed(PROJECT_ROOT / "feeds" / f"{feed_id}.yaml")
    start, end = last_window(feed.schedule, AT)
    store = ObjectStore(settings)
    for key, data in drops.DROPS[feed_id](start, 7).items():
        store.put("inbox", key, data)
    return RunContext.create(feed_id, start, end, "run-1", settings=settings)


@pytest.mark.parametrize("feed_id", sorted(EXPECTED))
def test_file_feed_publishes_every_row_once_even_when_rerun(hub_settings, feed_id):
    ctx = drop_for(hub_settings, feed_id)
    for run in ("run-1", "run-2"):
        ctx = RunContext.create(
            feed_id, ctx.window.start, ctx.window.end, run, settings=hub_settings
        )
        result = run_pipeline(ctx)
        assert result["rows_published"] == EXPECTED[feed_id]
    table = iceberg.table_catalog(hub_settings).load_table(("trusted", feed_id))
    assert table.scan().to_arrow().num_rows == EXPECTED[feed_id]


def test_cp949_hangul_survives_into_the_published_table(hub_settings):
    ctx = drop_for(hub_settings, "pm_composition")
    run_pipeline(ctx)
    rows = (
        iceberg.table_catalog(hub_settings)
        .load_table(("trusted", "pm_composition"))
        .scan()
        .to_arrow()
    )
    assert set(rows.column("province").to_pylist()) == {"서울특별시", "인천광역시", "경기도"}


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_renamed_header_fails_the_run_and_keeps_the_delivery_in_raw(hub_settings):
    ctx = drop_for(hub_settings, "pm_composition")
    store = ObjectStore(hub_settings)
    key = "pm_composition/20261031/incheon_20261031.csv"
    renamed = store.get("inbox", key).decode("utf-8").replace("측정소코드", "지점코드", 1)
    store.put("inbox", key, renamed.encode("utf-8"))
    landed = land(ctx)
    with pytest.raises(
        DeliveryError,
        match=re.escape("incheon_20261031.csv: the delivery's columns differ from the declared")
        + ".*"
        + re.escape("missing '측정소코드'; looks renamed: '측정소코드' -> '지점코드'"),
    ):
        validate(ctx, landed)
    assert landed["objects"] == 3
    assert not iceberg.table_catalog(hub_settings).table_exists(("trusted", "pm_composition"))


@pytest.mark.parametrize("backend", ["sqlite"])
def test_raw_copies_of_dropped_files_are_byte_identical_and_checksummed(hub_settings):
    import hashlib

    from hub.lake.raw import load_manifest

    ctx = drop_for(hub_settings, "pm_composition")
    store = ObjectStore(hub_settings)
    manifest = load_manifest(store, land(ctx)["manifest"])
    for obj in manifest.objects:
        dropped = store.get("inbox", obj.source.split(f"{hub_settings.bucket('inbox')}/", 1)[1])
        landed = store.get("raw", obj.key)
        assert landed == dropped
        assert hashlib.sha256(landed).hexdigest() == obj.sha256
