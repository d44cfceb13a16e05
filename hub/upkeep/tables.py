"""Maintenance of the lake's tables, keeping every version the hub has promised.

Compaction runs often (an hourly feed adds a small file per run); snapshot expiry and orphan
removal run daily. Expiry keeps the versions a dataset's retention promises (``?version=``
and ``?since=`` answers for its declared period), the versions whose download files are
still offered, and those a partner was provided (for the provision register's retention).
Each change is in the audit log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from catalog import audit, entries
from hub.core.settings import HubSettings
from hub.lake import iceberg, maintenance
from hub.lake.objectstore import ObjectStore
from hub.registry.spec import DatasetSpec

if TYPE_CHECKING:
    from pyiceberg.table import Table

log = logging.getLogger(__name__)

#: The zones whose tables are maintained; quarantine snapshots are no promised version.
ZONES = ("trusted", "open", "quarantine")
QUARANTINE_SNAPSHOTS_KEPT = timedelta(days=1)
#: The day the orphan search runs even when nothing expired (Sunday).
ORPHAN_SEARCH_WEEKDAY = 6
PURPOSE = "lake maintenance under the dataset's declared retention"


@dataclass
class TableUpkeep:
    """What maintenance did to one table."""

    zone: str
    dataset_id: str
    compacted_files: int = 0
    written_files: int = 0
    manifests_rewritten: bool = False
    expired: list[int] = field(default_factory=list)
    orphans: int = 0
    shape: maintenance.Shape | None = None


def existing_table(settings: HubSettings, zone: str, dataset_id: str) -> Table | None:
    catalog = iceberg.table_catalog(settings)
    if not catalog.table_exists((zone, dataset_id)):
        return None
    return catalog.load_table((zone, dataset_id))


def compact(settings: HubSettings, zone: str, dataset_id: str) -> TableUpkeep:
    """Merge the small files of the table's crowded partitions (one snapshot), then gather
    its manifests into one if they piled up (another)."""
    done = TableUpkeep(zone, dataset_id)
    table = existing_table(settings, zone, dataset_id)
    if table is None:
        return done
    result = maintenance.compact(table, {"hub.dataset": dataset_id})
    done.manifests_rewritten = (
        maintenance.rewrite_manifests(table, {"hub.dataset": dataset_id}) is not None
    )
    if result.snapshot_id is not None:
        done.compacted_files, done.written_files = result.files_before, result.files_after
        audit.record(
            settings.catalog_url,
            "maintenance.compact",
            f"{zone}.{dataset_id}",
            purpose=PURPOSE,
            detail={
                "snapshot_id": result.snapshot_id,
                "partitions": result.partitions,
                "files_before": result.files_before,
                "files_after": result.files_after,
                "rows": result.rows,
            },
        )
    return done


def promised(
    settings: HubSettings, spec: DatasetSpec, zone: str, table: Table, now: datetime
) -> set[int]:
    """The snapshots of ``zone.spec.id`` the hub still owes its users at ``now``."""
    keep = spec.retention.versions if zone != "quarantine" else QUARANTINE_SNAPSHOTS_KEPT
    snapshots = table.snapshots()
    owed = {s.snapshot_id for s in snapshots if iceberg.committed_at(s) >= now - keep}
    current = table.current_snapshot()
    if current is not None:
        owed.add(current.snapshot_id)
    # the newest version a run published stays answerable after maintenance commits (a
    # compaction's snapshot holds the same rows but is no version anyone was given)
    published = [s for s in snapshots if s.summary and s.summary.get("hub.run-id")]
    if published:
        owed.add(max(published, key=lambda s: s.timestamp_ms).snapshot_id)
    if zone == "quarantine":
        return owed
    url = settings.catalog_url
    owed |= entries.provided_snapshots(url, spec.id, now - spec.retention.provisions)
    if zone == "open":
        owed |= {e.snapshot_id for e in entries.live_exports(url, spec.id)}
    return owed


def expire(settings: HubSettings, spec: DatasetSpec, zone: str, now: datetime) -> TableUpkeep:
    """Expire the table's snapshots nobody is owed any more; the catalog's versions of them
    are marked expired (their history stays listed)."""
    done = TableUpkeep(zone, spec.id)
    table = existing_table(settings, zone, spec.id)
    if table is None:
        return done
    owed = promised(settings, spec, zone, table, now)
    done.expired = maintenance.expire(
        table, [s.snapshot_id for s in table.snapshots() if s.snapshot_id not in owed]
    )
    if not done.expired:
        return done
    entries.mark_versions_expired(settings.catalog_url, spec.id, done.expired, now)
    audit.record(
        settings.catalog_url,
        "maintenance.expire",
        f"{zone}.{spec.id}",
        purpose=PURPOSE,
        detail={
            "expired": len(done.expired),
            "snapshot_ids": done.expired,
            "kept": len(table.snapshots()),
            "versions_kept_for": str(spec.retention.versions),
        },
    )
    return done


def remove_orphans(
    settings: HubSettings,
    zone: str,
    dataset_id: str,
    *,
    min_age: timedelta = maintenance.ORPHAN_MIN_AGE,
) -> TableUpkeep:
    """Delete the table's files no kept snapshot refers to (after ``expire``)."""
    done = TableUpkeep(zone, dataset_id)
    table = existing_table(settings, zone, dataset_id)
    if table is None:
        return done
    removed = maintenance.remove_orphans(table, ObjectStore(settings), zone, min_age=min_age)
    done.orphans = len(removed)
    if removed:
        audit.record(
            settings.catalog_url,
            "maintenance.orphans",
            f"{zone}.{dataset_id}",
            purpose=PURPOSE,
            detail={"removed": len(removed), "examples": removed[:5]},
        )
    return done


def maintain(
    settings: HubSettings,
    spec: DatasetSpec,
    zone: str,
    now: datetime,
    *,
    orphan_min_age: timedelta = maintenance.ORPHAN_MIN_AGE,
    report: bool = True,
) -> TableUpkeep:
    """The daily round of one table: compact, expire, remove orphans, and report its shape.

    Files become orphans when the last snapshot referring to them expires, so the orphan
    search (which reads every kept manifest) runs after an expiry, and weekly for the files
    of writers that died before committing.
    """
    compacted = compact(settings, zone, spec.id)
    expired = expire(settings, spec, zone, now)
    tidied = TableUpkeep(zone, spec.id)
    if expired.expired or now.weekday() == ORPHAN_SEARCH_WEEKDAY:
        tidied = remove_orphans(settings, zone, spec.id, min_age=orphan_min_age)
    table = existing_table(settings, zone, spec.id) if report else None
    return TableUpkeep(
        zone,
        spec.id,
        compacted.compacted_files,
        compacted.written_files,
        compacted.manifests_rewritten,
        expired.expired,
        tidied.orphans,
        maintenance.shape(table) if table is not None else None,
    )
