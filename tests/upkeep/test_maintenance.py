"""The lake's upkeep on real S3 and both catalog databases: compaction keeps every row, and the
nightly round deletes what retention lets go while every promised version still answers."""

from __future__ import annotations

import gzip
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from catalog import audit, entries
from catalog.db import session_for
from catalog.models import AuditEntry, LineageEvent, Provision
from hub.core.time import utc_now
from hub.lake import iceberg, maintenance
from hub.lake.objectstore import ObjectStore
from hub.steps.context import RunContext
from hub.steps.export import export_owed, export_version
from hub.steps.pipeline import run_pipeline
from hub.upkeep import rounds
from hub.web.app import create_app

FEED = "air_quality_hourly"
KST = ZoneInfo("Asia/Seoul")
HOURS = 5


def _publish_hours(settings, hours: int = HOURS, *, export_each: bool = False) -> list[dict]:
    """Run ``hours`` consecutive windows; ``export_each`` also writes every version's download
    files (the feed's own cadence writes them daily), so retention has export versions to sort."""
    start = datetime(2026, 11, 1, tzinfo=KST)
    results = []
    for h in range(hours):
        ctx = RunContext.create(
            FEED,
            start + timedelta(hours=h),
            start + timedelta(hours=h + 1),
            f"hour-{h}",
            settings=settings,
        )
        results.append(run_pipeline(ctx))
        if export_each:
            export_version(settings, FEED)
    return results


def _table(settings, zone: str = "trusted"):
    return iceberg.table_catalog(settings).load_table((zone, FEED))


def _sorted_rows(table) -> list[tuple]:
    rows = table.scan().to_arrow()
    return sorted(zip(*(rows[c].to_pylist() for c in rows.column_names), strict=True))


def _actions(settings, action: str) -> list[AuditEntry]:
    with session_for(settings.catalog_url) as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_compaction_merges_small_files_in_one_snapshot_keeping_every_row(hub_settings, agency_api):
    _publish_hours(hub_settings)
    table = _table(hub_settings)
    before_rows = _sorted_rows(table)
    before = maintenance.shape(table)
    assert before.most_files_in_a_partition == HOURS  # one small file per hourly run

    done = rounds.compaction(hub_settings, rounds.datasets(hub_settings)[FEED])

    table = _table(hub_settings)
    after = maintenance.shape(table)
    assert after.most_files_in_a_partition <= maintenance.MAX_FILES_PER_PARTITION
    assert after.snapshots == before.snapshots + 1  # one atomic swap, no gap for readers
    assert _sorted_rows(table) == before_rows
    trusted = next(t for t in done.tables if t.zone == "trusted")
    assert (trusted.compacted_files, trusted.written_files) == (HOURS, 1)
    assert _actions(hub_settings, "maintenance.compact")
    # a second round finds nothing crowded and commits nothing
    rounds.compaction(hub_settings, rounds.datasets(hub_settings)[FEED])
    assert len(_table(hub_settings).snapshots()) == after.snapshots


def test_the_nightly_round_deletes_what_retention_lets_go_and_keeps_every_promise(
    hub_settings, agency_api
):
    settings, spec = hub_settings, rounds.datasets(hub_settings)[FEED]
    _publish_hours(settings, export_each=True)
    open_table = _table(settings, "open")
    released = [s.snapshot_id for s in open_table.snapshots() if s.summary.get("hub.run-id")]
    assert len(released) == HOURS
    # a partner was given the first open version: the provision register promises it
    pinned = released[0]
    entries.add(
        settings.catalog_url,
        Provision(
            dataset_id=FEED,
            snapshot_id=pinned,
            recipient="seoul-police",
            channel="api",
            purpose="traffic safety analysis",
            legal_basis="PIPA art. 17",
            rows=40,
            client_address="127.0.0.1",
            provided_at=utc_now(),
        ),
    )
    exported = [e for e in entries.live_exports(settings.catalog_url, FEED)]
    export_versions = list(dict.fromkeys(e.snapshot_id for e in exported))  # newest first
    assert len(export_versions) == HOURS
    store = ObjectStore(settings)
    later = utc_now() + max(spec.retention.versions, spec.retention.raw) + timedelta(days=1)

    done = rounds.daily(settings, spec, later, orphan_min_age=timedelta(0))

    # exports: the newest N versions and the partner's keep their files; the others are gone
    kept_exports = set(export_versions[: spec.retention.exports]) | {pinned}
    live = {e.snapshot_id for e in entries.live_exports(settings.catalog_url, FEED)}
    assert live == kept_exports
    for e in exported:
        assert store.exists("open", e.object_key) == (e.snapshot_id in kept_exports)
    assert sorted(done.swept.export_versions) == sorted(set(export_versions) - kept_exports)
    assert len(_actions(settings, "retention.export")) == HOURS - len(kept_exports)

    # raw deliveries past their retention are gone, each deletion audited
    assert not list(store.list("raw", f"{FEED}/"))
    assert len(_actions(settings, "retention.raw")) == done.swept.raw_deliveries >= HOURS

    # snapshots: only the promised ones stay, and every promised version answers
    open_table = _table(settings, "open")
    kept = {s.snapshot_id for s in open_table.snapshots()}
    assert kept == kept_exports | {open_table.current_snapshot().snapshot_id}
    client = TestClient(create_app(settings))
    path = f"/api/v1/datasets/{FEED}/records"
    for snapshot_id in kept:
        answer = client.get(path, params={"version": snapshot_id, "limit": 5})
        assert answer.status_code == 200, answer.text
        assert answer.json()["version"] == snapshot_id and answer.json()["items"]
    gone = next(s for s in released if s not in kept)
    assert client.get(path, params={"version": gone}).status_code in (400, 404)
    # the catalog says which versions expired, and still answers for the rest
    versions = entries.versions(settings.catalog_url, FEED)
    assert [v.expired_at is None for v in versions] == [False] * (HOURS - 1) + [True]
    # the files no kept snapshot refers to were removed
    for zone in ("trusted", "open"):
        table = _table(settings, zone)
        data_keys = set(store.list(zone, f"{FEED}/data/"))
        referenced = {p.split("/", 3)[3] for p in maintenance.referenced(table)}
        assert data_keys <= referenced

    # a year on, lineage events are archived to the lake, not lost
    with session_for(settings.catalog_url) as session:
        events = session.scalar(select(func.count()).where(LineageEvent.job_name.like(f"{FEED}.%")))
    assert events
    year = later + spec.retention.lineage
    swept = rounds.daily(settings, spec, year, orphan_min_age=timedelta(0)).swept
    assert swept.lineage_archived == events
    with session_for(settings.catalog_url) as session:
        assert not session.scalar(
            select(func.count()).where(LineageEvent.job_name.like(f"{FEED}.%"))
        )
    (archive,) = _actions(settings, "retention.lineage")
    key = archive.target.split("/", 3)[3]
    lines = gzip.decompress(store.get("raw", key)).decode().splitlines()
    assert len(lines) == events
    assert audit.verify(settings.catalog_url)[1] is None


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_compaction_racing_a_publish_loses_no_row(hub_settings, agency_api):
    """A publish committing while compaction rewrites the partition: both land, in order."""
    _publish_hours(hub_settings, 4)
    spec = rounds.datasets(hub_settings)[FEED]
    errors: list[Exception] = []

    def publish_next() -> None:
        try:
            _publish_late_hour(hub_settings)
        except Exception as exc:  # collected: an assert in a thread would go unseen
            errors.append(exc)

    thread = threading.Thread(target=publish_next)
    thread.start()
    rounds.compaction(hub_settings, spec)
    thread.join()
    assert not errors
    rows = _table(hub_settings).scan().to_arrow()
    keys = set(zip(rows["station_id"].to_pylist(), rows["measured_at"].to_pylist(), strict=True))
    assert len(keys) == rows.num_rows == 5 * 40


def _publish_late_hour(settings) -> None:
    start = datetime(2026, 11, 1, 4, tzinfo=KST)
    ctx = RunContext.create(FEED, start, start + timedelta(hours=1), "late", settings=settings)
    run_pipeline(ctx)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_piled_up_manifests_are_gathered_into_one_without_changing_a_row(hub_settings, agency_api):
    _publish_hours(hub_settings)
    table = _table(hub_settings)
    rows, files = _sorted_rows(table), maintenance.shape(table).data_files
    assert maintenance.shape(table).manifests == HOURS  # one per publish

    snapshot_id = maintenance.rewrite_manifests(table, {}, max_manifests=1)

    table = _table(hub_settings)
    assert table.current_snapshot().snapshot_id == snapshot_id
    assert table.current_snapshot().summary.operation.value == "replace"
    assert maintenance.shape(table).manifests == 1
    assert maintenance.shape(table).data_files == files and _sorted_rows(table) == rows
    assert maintenance.rewrite_manifests(table, {}, max_manifests=1) is None  # nothing to do


def test_a_feed_with_an_export_cadence_writes_its_files_at_most_that_often(
    hub_settings, agency_api
):
    """traffic_ped_counts declares exports_every: PT1H. Four consecutive 15-minute windows
    give download files for the first only, while the open table has every release; the
    hourly round writes the files the quiet feed is owed once they are due."""
    from hub.core.time import simulated
    from hub.registry import load_registry

    feed = "traffic_ped_counts"
    spec = load_registry(hub_settings.feeds_dir)[feed]
    assert spec.exports_every == timedelta(hours=1)
    start = datetime(2026, 11, 2, 8, tzinfo=KST)
    now = {"at": start}
    released = []
    with simulated(lambda: now["at"]):
        for q in range(4):
            begin = start + timedelta(minutes=15 * q)
            now["at"] = begin + timedelta(minutes=17)  # the run, just after its window closes
            ctx = RunContext.create(
                feed, begin, begin + timedelta(minutes=15), f"q-{q}", settings=hub_settings
            )
            released.append(run_pipeline(ctx)["release"])
        exported = entries.live_exports(hub_settings.catalog_url, feed)
        assert {e.snapshot_id for e in exported} == {released[0]["snapshot_id"]}
        assert [bool(r["exports"]) for r in released] == [True, False, False, False]

        opened = iceberg.table_catalog(hub_settings).load_table(("open", feed))
        open_now = opened.current_snapshot().snapshot_id
        assert open_now == released[-1]["snapshot_id"]  # the API serves the newest release
        now["at"] = start + timedelta(minutes=17 + 45)  # the hourly round: not due yet
        assert export_owed(hub_settings, spec, utc_now()) == []
        now["at"] = start + timedelta(minutes=17 + 60)
        owed = export_owed(hub_settings, spec, utc_now())
        now["at"] = start + timedelta(minutes=17 + 120)  # an hour on: it has its files
        assert export_owed(hub_settings, spec, utc_now()) == []
    assert {e.snapshot_id for e in owed} == {open_now}
    client = TestClient(create_app(hub_settings))
    files = client.get(f"/api/v1/datasets/{feed}").json()["files"]
    assert files and {f["version"] for f in files} == {open_now}
