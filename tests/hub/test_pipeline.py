"""Land -> validate -> publish against a real S3 server, on SQLite and PostgreSQL catalogs."""

from __future__ import annotations

import hashlib
import json

import pytest

from catalog import entries
from hub.core.errors import DeliveryError, TransientDeliveryError
from hub.lake import iceberg
from hub.lake.objectstore import ObjectStore
from hub.lake.raw import manifests
from hub.steps import stage
from hub.steps.context import RunContext
from hub.steps.land import land
from hub.steps.pipeline import run_pipeline
from hub.steps.validate import validate
from simulators.agency_api import Fault

START, END = "2026-11-01T03:00:00+09:00", "2026-11-01T05:00:00+09:00"


def _run(settings, run_id="run-1"):
    ctx = RunContext.create("air_quality_hourly", START, END, run_id, settings=settings)
    return ctx, run_pipeline(ctx)


def _table(settings):
    return iceberg.table_catalog(settings).load_table(("trusted", "air_quality_hourly"))


def test_publishes_every_row_once_and_a_rerun_adds_no_duplicates(hub_settings, agency_api):
    _ctx, first = _run(hub_settings, "run-1")
    assert first["rows_published"] == 80
    _, second = _run(hub_settings, "run-2")
    table = _table(hub_settings)
    rows = table.scan().to_arrow()
    assert rows.num_rows == 80
    keys = set(zip(rows["station_id"].to_pylist(), rows["measured_at"].to_pylist(), strict=True))
    assert len(keys) == 80
    # each publish is exactly one snapshot, and the catalog knows both versions
    assert [s.snapshot_id for s in table.snapshots()][-2:] == [
        first["snapshot_id"],
        second["snapshot_id"],
    ]
    versions = entries.versions(hub_settings.catalog_url, "air_quality_hourly")
    assert [v.snapshot_id for v in versions] == [first["snapshot_id"], second["snapshot_id"]]
    assert versions[-1].total_rows == 80


def test_raw_zone_keeps_the_agency_bytes_with_a_manifest(hub_settings, agency_api):
    ctx, _ = _run(hub_settings)
    store_ = ObjectStore(hub_settings)
    (manifest,) = manifests(store_, "air_quality_hourly", ctx.window)
    assert manifest.status == "complete" and manifest.rows_reported == 80
    for obj in manifest.objects:
        data = store_.get("raw", obj.key)
        assert hashlib.sha256(data).hexdigest() == obj.sha256 and len(data) == obj.size
        assert json.loads(data)["response"]["header"]["resultCode"] == "00"


def test_landing_the_same_bytes_twice_is_one_delivery(hub_settings, agency_api):
    ctx, _ = _run(hub_settings, "run-1")
    _run(hub_settings, "run-2")
    assert len(manifests(ObjectStore(hub_settings), "air_quality_hourly", ctx.window)) == 1


@pytest.mark.parametrize(
    ("fault", "error", "cause"),
    [
        (Fault("result_code", code="99", times=5), DeliveryError, "resultCode 99"),
        (Fault("http_500", times=50), TransientDeliveryError, "HTTP 500"),
        (Fault("malformed_json", times=5), DeliveryError, "malformed JSON"),
    ],
)
def test_agency_failure_names_feed_and_cause_and_publishes_nothing(
    hub_settings, agency_api, fault, error, cause
):
    ctx = RunContext.create("air_quality_hourly", START, END, "run-bad", settings=hub_settings)
    ctx = _fast(ctx)
    agency_api.state.faults = [fault]
    with pytest.raises(error, match=cause) as err:
        land(ctx)
    assert "feed air_quality_hourly" in str(err.value)
    assert not iceberg.table_catalog(hub_settings).table_exists(("trusted", "air_quality_hourly"))
    (run,) = entries.runs(hub_settings.catalog_url, "air_quality_hourly")
    assert run.status == "failed" and cause in run.error


def test_pages_landed_before_a_failure_stay_in_the_raw_zone(hub_settings, agency_api):
    ctx = _fast(RunContext.create("air_quality_hourly", START, END, "r", settings=hub_settings))
    ctx = _with_options(ctx, page_size=30)
    agency_api.state.faults = [Fault("result_code", code="99", page=2)]
    with pytest.raises(DeliveryError):
        land(ctx)
    (manifest,) = manifests(ObjectStore(hub_settings), "air_quality_hourly", ctx.window)
    assert manifest.status == "incomplete"
    # the good page, then the agency's error answer kept as evidence
    assert [o.evidence for o in manifest.objects] == [False, True]
    assert "resultCode 99" in manifest.error
    with pytest.raises(Exception, match="no complete delivery"):
        validate(ctx)


def test_a_delivery_where_every_row_fails_publishes_nothing_and_keeps_the_old_version(
    hub_settings, agency_api
):
    _ctx, first = _run(hub_settings, "good")
    # the same window delivered again, but with every reading for the wrong hours
    agency_api.state.seed = 7
    bad = RunContext.create(
        "air_quality_hourly",
        "2026-11-01T05:00:00+09:00",
        "2026-11-01T06:00:00+09:00",
        "bad",
        settings=hub_settings,
    )
    bad = _with_options(bad, params={"inqBginDt": "2026110103", "inqEndDt": "2026110104"})
    landed = land(bad)
    with pytest.raises(DeliveryError, match="all 40 delivered rows failed validation"):
        validate(bad, landed)
    assert _table(hub_settings).current_snapshot().snapshot_id == first["snapshot_id"]
    quarantined = iceberg.table_catalog(hub_settings).load_table(
        ("quarantine", "air_quality_hourly")
    )
    assert quarantined.scan().to_arrow().num_rows == 40


def _with_options(ctx: RunContext, **options) -> RunContext:
    from dataclasses import replace

    delivery = ctx.feed.delivery
    config = delivery.config.model_copy(update=options)
    new_delivery = delivery.model_copy()
    new_delivery._config = config
    return replace(ctx, feed=ctx.feed.model_copy(update={"delivery": new_delivery}))


def _fast(ctx: RunContext) -> RunContext:
    return _with_options(ctx, backoff_max_s=0.01, max_attempts=2, timeout_s=2.0)


def test_an_empty_answer_is_retried_later_and_never_empties_a_published_window(
    hub_settings, agency_api
):
    _, first = _run(hub_settings, "good")
    # the agency has nothing for the window yet (data.go.kr answers resultCode 03 NODATA)
    late = _with_options(
        RunContext.create("air_quality_hourly", START, END, "late", settings=hub_settings),
        params={"inqBginDt": "2026110103", "inqEndDt": "2026110103"},
    )
    with pytest.raises(TransientDeliveryError, match="delivered no rows for this window yet"):
        land(late)
    assert _table(hub_settings).current_snapshot().snapshot_id == first["snapshot_id"]
    assert _table(hub_settings).scan().to_arrow().num_rows == 80


def test_a_run_leaves_no_stage_and_keeps_the_raw_delivery_of_a_feed_without_personal_data(
    hub_settings, agency_api
):
    ctx, result = _run(hub_settings, "run-1")
    store_ = ObjectStore(hub_settings)
    assert result["cleanup"] == {"stages_removed": 2, "destroyed_objects": 0}
    assert list(store_.list("raw", stage.run_prefix(ctx))) == []
    assert list(store_.list("raw", "_stage/")) == []
    (manifest,) = manifests(store_, "air_quality_hourly", ctx.window)  # raw is kept (ADR 1)
    assert manifest.status == "complete"
    (run,) = entries.runs(hub_settings.catalog_url, "air_quality_hourly")
    assert (run.status, run.step) == ("published", "done")
