"""Every step of a run can be retried or cleared after failing at any line (issue 15).

Stages and the identified raw delivery stay until the cleanup step, the run's last; a retried
step finds its input, commits nothing twice and registers nothing twice; cleanup leaves no
stage behind and destroys the delivery once. Real SeaweedFS, real catalog databases.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
from sqlalchemy import func, select

from catalog import entries
from catalog.db import session_for
from catalog.models import AuditEntry, DestructionRecord, ProcessingRecord, Release
from hub.core.errors import LakeError
from hub.lake import iceberg
from hub.lake.objectstore import ObjectStore
from hub.steps import stage
from hub.steps.context import RunContext
from hub.steps.pipeline import run_pipeline, run_step
from hub.steps.plan import steps_for
from privacy.errors import ReleaseRefused
from simulators import bikes

KST = ZoneInfo("Asia/Seoul")
DAY = datetime(2026, 11, 1, tzinfo=KST)
FEED = "bike_trips"
TRIPS = 20_000  # enough riders for the open release to reach k ≥ 5


def drop(settings, trips: int = TRIPS) -> pa.Table:
    sent = bikes.trips_table(DAY.date(), trips=trips)
    ObjectStore(settings).put("inbox", f"{FEED}/{DAY:%Y%m%d}/rentals.csv", bikes.trips_csv(sent))
    return sent


def context(settings, run_id: str) -> RunContext:
    return RunContext.create(FEED, DAY, DAY + timedelta(days=1), run_id, settings=settings)


def trusted(settings) -> pa.Table:
    table = iceberg.table_catalog(settings).load_table(("trusted", FEED)).scan().to_arrow()
    return table.sort_by("trip_id")


def run_snapshots(settings, zone: str, run_id: str) -> list[int]:
    table = iceberg.table_catalog(settings).load_table((zone, FEED))
    return [
        s.snapshot_id
        for s in table.snapshots()
        if s.summary is not None and s.summary.get("hub.run-id") == run_id
    ]


def audited(settings, action: str, run_id: str) -> int:
    with session_for(settings.catalog_url) as session:
        return session.scalar(
            select(func.count(AuditEntry.id)).where(
                AuditEntry.action == action, AuditEntry.detail.contains(f'"run_id": "{run_id}"')
            )
        )


def stages(settings, ctx: RunContext) -> list[str]:
    return list(ObjectStore(settings).list("raw", stage.run_prefix(ctx)))


def raw_delivery(settings) -> list[str]:
    return list(ObjectStore(settings).list("raw", f"{FEED}/"))


def crash_after_last_record(monkeypatch: pytest.MonkeyPatch) -> None:
    """The step's last write to the catalog lands, then the worker loses S3 (a transient error)."""
    original = RunContext.record

    def record(self: RunContext, **fields: Any) -> None:
        original(self, **fields)
        raise LakeError("injected: S3 did not answer after the step's last line")

    monkeypatch.setattr(RunContext, "record", record)


def run_until(ctx: RunContext, last: str) -> dict[str, dict[str, Any]]:
    """Run the steps in order up to and including ``last``; each step's result by name."""
    results: dict[str, dict[str, Any]] = {}
    previous = None
    for s in steps_for(ctx.feed):
        previous = run_step(ctx, s.name, previous)
        results[s.name] = previous
        if s.name == last:
            break
    return results


def previous_of(ctx: RunContext, name: str, results: dict[str, dict[str, Any]]) -> Any:
    names = [s.name for s in steps_for(ctx.feed)]
    index = names.index(name)
    return results[names[index - 1]] if index else None


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("failing", ["validate", "protect", "publish", "release", "cleanup"])
def test_a_step_failing_at_its_last_line_is_retried_to_the_rows_of_a_clean_run(
    hub_settings, monkeypatch, failing
):
    drop(hub_settings)
    run_pipeline(context(hub_settings, "clean"))
    clean = trusted(hub_settings)
    processing = len(entries.listing(hub_settings.catalog_url, ProcessingRecord, FEED, "clean"))

    ctx = context(hub_settings, "retried")
    names = [s.name for s in steps_for(ctx.feed)]
    results = run_until(ctx, names[names.index(failing) - 1])
    with monkeypatch.context() as patch:
        crash_after_last_record(patch)
        with pytest.raises(LakeError, match="injected"):
            run_step(ctx, failing, previous_of(ctx, failing, results))
    results[failing] = run_step(ctx, failing, previous_of(ctx, failing, results))
    for name in names[names.index(failing) + 1 :]:
        results[name] = run_step(ctx, name, previous_of(ctx, name, results))

    assert trusted(hub_settings).equals(clean)  # same rows, same tokens, nothing twice
    assert len(run_snapshots(hub_settings, "trusted", "retried")) == 1
    assert len(run_snapshots(hub_settings, "open", "retried")) == 1
    url = hub_settings.catalog_url
    assert [v.run_id for v in entries.versions(url, FEED)].count("retried") == 1
    assert len(entries.listing(url, ProcessingRecord, FEED, "retried")) == processing
    releases = Counter((r.zone, r.status) for r in entries.listing(url, Release, FEED, "retried"))
    assert releases == {("trusted", "released"): 1, ("open", "released"): 1}
    assert audited(hub_settings, "publish", "retried") == 1
    assert audited(hub_settings, "release", "retried") == 1
    (run,) = [r for r in entries.runs(url, FEED) if r.run_id == "retried"]
    assert (run.status, run.step, run.error) == ("published", "done", None)
    assert stages(hub_settings, ctx) == [] and raw_delivery(hub_settings) == []


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_failed_release_keeps_stages_and_raw_and_a_retry_then_cleanup_converges(
    hub_settings, monkeypatch
):
    sent = drop(hub_settings)
    ctx = context(hub_settings, "run-1")
    results = run_until(ctx, "publish")
    with monkeypatch.context() as patch:

        def export_fails(*args: Any, **kwargs: Any) -> None:
            raise LakeError("injected: the open bucket did not answer")

        patch.setattr("hub.steps.release.export_version", export_fails)
        with pytest.raises(LakeError, match="injected"):
            run_step(ctx, "release", results["publish"])

    url = hub_settings.catalog_url
    assert {k.rsplit("/", 1)[-1] for k in stages(hub_settings, ctx)} == {
        "valid.parquet",
        "protected.parquet",
    }
    assert any(k.endswith(".csv") for k in raw_delivery(hub_settings))
    assert entries.listing(url, DestructionRecord, FEED) == []

    released = run_step(ctx, "release", results["publish"])
    cleaned = run_step(ctx, "cleanup", released)

    assert cleaned["destroyed_objects"] >= 2  # the CSV and its manifest
    assert stages(hub_settings, ctx) == [] and raw_delivery(hub_settings) == []
    assert trusted(hub_settings).num_rows == sent.num_rows
    assert len(run_snapshots(hub_settings, "open", "run-1")) == 1
    opened = [r for r in entries.listing(url, Release, FEED, "run-1") if r.zone == "open"]
    assert [(r.status, r.snapshot_id) for r in opened] == [("released", released["snapshot_id"])]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_refused_release_leaves_the_stages_and_the_identified_delivery_in_place(
    hub_settings,
):
    drop(hub_settings, trips=40)
    ctx = context(hub_settings, "run-1")
    results = run_until(ctx, "publish")
    with pytest.raises(ReleaseRefused):
        run_step(ctx, "release", results["publish"])
    assert len(stages(hub_settings, ctx)) == 2
    assert any(k.endswith(".csv") for k in raw_delivery(hub_settings))
    assert entries.listing(hub_settings.catalog_url, DestructionRecord, FEED) == []


def test_cleanup_leaves_no_stage_destroys_the_delivery_once_and_a_second_is_a_no_op(
    hub_settings, monkeypatch
):
    drop(hub_settings)
    ctx = context(hub_settings, "run-1")
    results = run_until(ctx, "release")
    landed = raw_delivery(hub_settings)
    url = hub_settings.catalog_url

    # the first attempt registers the delivery, then S3 fails before it is deleted
    with monkeypatch.context() as patch:
        original = ObjectStore.delete

        def delete(self: ObjectStore, zone: str, keys: list[str]) -> None:
            if any(k.startswith(f"{FEED}/") for k in keys):
                raise LakeError("injected: S3 did not answer the delete")
            original(self, zone, keys)

        patch.setattr(ObjectStore, "delete", delete)
        with pytest.raises(LakeError, match="injected"):
            run_step(ctx, "cleanup", results["release"])
    assert sorted(raw_delivery(hub_settings)) == sorted(landed)

    first = run_step(ctx, "cleanup", results["release"])
    assert first["stages_removed"] == 0  # the failed attempt already removed them
    assert list(ObjectStore(hub_settings).list("raw", "_stage/")) == []
    assert raw_delivery(hub_settings) == []
    destroyed = entries.listing(url, DestructionRecord, FEED)
    assert sorted(r.object_key for r in destroyed) == sorted(landed)  # each object once
    assert audited(hub_settings, "destroy", "run-1") == 1
    (report,) = [r for r in entries.listing(url, Release, FEED, "run-1") if r.zone == "trusted"]
    assert f"{len(landed)} objects, listed in the destruction register" in report.report_en

    second = run_step(ctx, "cleanup", results["release"])
    assert second == {"stages_removed": 0, "destroyed_objects": 0}
    assert len(entries.listing(url, DestructionRecord, FEED)) == len(landed)
    assert audited(hub_settings, "destroy", "run-1") == 1
    (again,) = [r for r in entries.listing(url, Release, FEED, "run-1") if r.zone == "trusted"]
    assert again.report_en == report.report_en


@pytest.mark.parametrize("backend", ["sqlite"])
def test_clearing_protect_after_publish_succeeded_works_and_changes_nothing(hub_settings):
    sent = drop(hub_settings)
    ctx = context(hub_settings, "run-1")
    results = run_until(ctx, "publish")
    url = hub_settings.catalog_url
    table = iceberg.table_catalog(hub_settings).load_table(("trusted", FEED))
    snapshot = table.current_snapshot().snapshot_id
    rows = trusted(hub_settings)
    processing = sorted(
        (r.column_name, r.technique, r.values_changed)
        for r in entries.listing(url, ProcessingRecord, FEED, "run-1")
    )

    # an engineer clears protect and everything after it in the Airflow UI
    protected = run_step(ctx, "protect", results["validate"])
    published = run_step(ctx, "publish", protected)
    released = run_step(ctx, "release", published)
    run_step(ctx, "cleanup", released)

    assert protected == results["protect"]
    assert published["snapshot_id"] == snapshot == results["publish"]["snapshot_id"]
    assert table.refresh().current_snapshot().snapshot_id == snapshot
    assert trusted(hub_settings).equals(rows) and rows.num_rows == sent.num_rows
    assert [v.snapshot_id for v in entries.versions(url, FEED)] == [snapshot]
    assert processing == sorted(
        (r.column_name, r.technique, r.values_changed)
        for r in entries.listing(url, ProcessingRecord, FEED, "run-1")
    )


@pytest.mark.parametrize("backend", ["sqlite"])
def test_land_run_again_after_it_finished_reuses_its_delivery_and_audits_it_once(hub_settings):
    """A land task killed after its last line is run again by Airflow: same delivery, one entry."""
    drop(hub_settings)
    ctx = context(hub_settings, "relanded")
    first = run_step(ctx, "land")
    again = run_step(ctx, "land")
    assert again["manifest"] == first["manifest"]
    assert audited(hub_settings, "land", "relanded") == 1
