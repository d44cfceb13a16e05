"""Retention: what a dataset leaves behind besides its tables, kept only as long as declared.

Raw deliveries without personal data, quarantined rows, stages of runs that never finished,
old export files and old lineage events (archived to the lake first, never lost). Identified
raw deliveries are not touched here: the destruction step and its register govern them. Each
deletion is an audit entry; nothing in the audit log is ever deleted.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import delete, select

from catalog import audit, entries
from catalog.db import session_for
from catalog.models import LineageEvent
from hub.core.errors import LakeError
from hub.core.settings import HubSettings
from hub.lake import iceberg
from hub.lake.objectstore import ObjectStore
from hub.lake.raw import MANIFEST, Manifest
from hub.registry.spec import DatasetSpec, FeedSpec

log = logging.getLogger(__name__)

PURPOSE = "retention declared for the dataset"
STAGES = "_stage/"
LINEAGE_ARCHIVE = "_archive/lineage/"


@dataclass
class Swept:
    """What retention removed of one dataset."""

    dataset_id: str
    raw_deliveries: int = 0
    raw_objects: int = 0
    raw_bytes: int = 0
    quarantine_rows: int = 0
    stage_objects: int = 0
    export_versions: list[int] = field(default_factory=list)
    lineage_archived: int = 0


def sweep(settings: HubSettings, spec: DatasetSpec, now: datetime) -> Swept:
    """Apply the dataset's retention at ``now``."""
    swept = Swept(spec.id)
    store = ObjectStore(settings)
    if isinstance(spec, FeedSpec):
        if spec.privacy is None:
            _raw(settings, store, spec, now, swept)
        _quarantine(settings, spec, now, swept)
        _stages(settings, store, spec, swept)
    if spec.is_public:
        _exports(settings, store, spec, swept)
    _lineage(settings, store, spec, now, swept)
    return swept


def _partition_start(key: str) -> datetime | None:
    """The window start a raw key's ``partition=`` names (see ``hub.lake.raw``)."""
    for part in key.split("/"):
        if part.startswith("partition="):
            try:
                return datetime.strptime(part[len("partition=") :], "%Y%m%dT%H%M%SZ").replace(
                    tzinfo=UTC
                )
            except ValueError:
                return None
    return None


def _raw(
    settings: HubSettings, store: ObjectStore, spec: FeedSpec, now: datetime, swept: Swept
) -> None:
    """Deliveries received longer ago than the retention, whole (manifest last, so a delivery
    half deleted by a crash reads as incomplete, never as a different delivery)."""
    cutoff = now - spec.retention.raw
    deliveries: dict[str, list[tuple[str, int]]] = defaultdict(list)
    # S3 lists keys in order, and ``partition=<UTC start>`` sorts as time does: the listing
    # stops at the first window within retention instead of reading a year of keys each night
    for obj in store.listing("raw", f"{spec.id}/partition="):
        start = _partition_start(obj.key)
        if start is None:
            continue
        if start >= cutoff:  # only windows this old can hold old deliveries
            break
        deliveries[obj.key.rsplit("/", 1)[0] + "/"].append((obj.key, obj.size))
    for prefix, objects in sorted(deliveries.items()):
        keys = [k for k, _ in objects]
        manifest_key = prefix + MANIFEST
        if manifest_key in keys:
            manifest = Manifest.model_validate_json(store.get("raw", manifest_key))
            if manifest.received_at > cutoff:  # a late (backfilled) delivery of an old window
                continue
        data = sorted(k for k in keys if k != manifest_key)
        store.delete("raw", data)
        if manifest_key in keys:
            store.delete("raw", [manifest_key])
        size = sum(s for _, s in objects)
        swept.raw_deliveries += 1
        swept.raw_objects += len(keys)
        swept.raw_bytes += size
        audit.record(
            settings.catalog_url,
            "retention.raw",
            f"s3://{settings.bucket('raw')}/{prefix}",
            purpose=PURPOSE,
            detail={"objects": len(keys), "bytes": size, "kept_for": str(spec.retention.raw)},
        )


def _quarantine(settings: HubSettings, spec: FeedSpec, now: datetime, swept: Swept) -> None:
    """Rejected rows of windows older than the retention (their files go with the snapshots
    that held them, at the quarantine table's next expiry)."""
    from pyiceberg.expressions import LessThan

    catalog = iceberg.table_catalog(settings)
    if not catalog.table_exists(("quarantine", spec.id)):
        return
    table = catalog.load_table(("quarantine", spec.id))
    cutoff = now - spec.retention.quarantine
    old = LessThan("window_start", cutoff.isoformat())
    if not any(True for _ in table.scan(row_filter=old).plan_files()):
        return
    before = table.current_snapshot()
    table.delete(delete_filter=old, snapshot_properties=iceberg.stamped({"hub.step": "retention"}))
    snapshot_id = iceberg.committed_snapshot(table, before)
    if snapshot_id is None:
        return
    summary = table.snapshot_by_id(snapshot_id).summary
    rows = int(summary.get("deleted-records", 0)) if summary else 0
    swept.quarantine_rows += rows
    audit.record(
        settings.catalog_url,
        "retention.quarantine",
        f"quarantine.{spec.id}",
        purpose=PURPOSE,
        detail={"rows": rows, "before": cutoff, "snapshot_id": snapshot_id},
    )


def _stages(settings: HubSettings, store: ObjectStore, spec: FeedSpec, swept: Swept) -> None:
    """Stages of runs that never finished (a finished run's cleanup removed its own), older
    than the retention by the object store's clock: a retry within it still finds them."""
    cutoff = datetime.now(UTC) - spec.retention.stages
    old = [
        (o.key, o.size)
        for o in store.listing("raw", f"{STAGES}{spec.id}/")
        if o.last_modified is not None and o.last_modified < cutoff
    ]
    if not old:
        return
    for start in range(0, len(old), 1000):
        store.delete("raw", [k for k, _ in old[start : start + 1000]])
    swept.stage_objects += len(old)
    audit.record(
        settings.catalog_url,
        "retention.stages",
        f"s3://{settings.bucket('raw')}/{STAGES}{spec.id}/",
        purpose=PURPOSE,
        detail={
            "objects": len(old),
            "bytes": sum(s for _, s in old),
            "kept_for": str(spec.retention.stages),
        },
    )


def _exports(settings: HubSettings, store: ObjectStore, spec: DatasetSpec, swept: Swept) -> None:
    """Download files of all but the newest ``exports`` versions (and those a partner was
    provided, for the provision register's retention); the catalog keeps their rows and
    checksums, marked deleted."""
    url = settings.catalog_url
    by_version: dict[int, list] = {}
    for export in entries.live_exports(url, spec.id):  # newest first
        by_version.setdefault(export.snapshot_id, []).append(export)
    pinned = entries.provided_snapshots(url, spec.id, datetime.min.replace(tzinfo=UTC))
    for snapshot_id in list(by_version)[spec.retention.exports :]:
        if snapshot_id in pinned:
            continue
        files = by_version[snapshot_id]
        keys = [k for f in files for k in (f.object_key, f"{f.object_key}.sha256")]
        store.delete("open", keys)
        entries.mark_exports_deleted(url, [f.id for f in files], datetime.now(UTC))
        swept.export_versions.append(snapshot_id)
        audit.record(
            url,
            "retention.export",
            f"open.{spec.id}",
            purpose=PURPOSE,
            detail={
                "snapshot_id": snapshot_id,
                "files": {f.format: {"key": f.object_key, "sha256": f.sha256} for f in files},
                "versions_kept": spec.retention.exports,
            },
        )


def _lineage(
    settings: HubSettings, store: ObjectStore, spec: DatasetSpec, now: datetime, swept: Swept
) -> None:
    """Lineage events of the dataset's jobs older than the retention, written to the lake as
    gzipped OpenLineage JSON lines (checksum in the audit entry), then removed from the
    catalog; the edges the lineage graph is drawn from stay."""
    url = settings.catalog_url
    cutoff = now - spec.retention.lineage
    job = LineageEvent.job_name.like(f"{spec.id}.%")
    with session_for(url) as session:
        old = list(
            session.scalars(
                select(LineageEvent)
                .where(job, LineageEvent.event_time < cutoff)
                .order_by(LineageEvent.id)
            )
        )
    if not old:
        return
    body = gzip.compress("".join(e.payload.rstrip("\n") + "\n" for e in old).encode(), mtime=0)
    key = f"{LINEAGE_ARCHIVE}{spec.id}/{old[0].id:012d}-{old[-1].id:012d}.jsonl.gz"
    store.put("raw", key, body, content_type="application/gzip")
    if store.get("raw", key) != body:
        raise LakeError(f"lineage archive s3://{settings.bucket('raw')}/{key} did not read back")
    ids = [e.id for e in old]
    with session_for(url) as session, session.begin():
        for start in range(0, len(ids), 500):
            session.execute(
                delete(LineageEvent).where(LineageEvent.id.in_(ids[start : start + 500]))
            )
    swept.lineage_archived += len(old)
    audit.record(
        url,
        "retention.lineage",
        f"s3://{settings.bucket('raw')}/{key}",
        purpose=PURPOSE,
        detail={
            "events": len(old),
            "sha256": hashlib.sha256(body).hexdigest(),
            "before": cutoff,
            "first_id": old[0].id,
            "last_id": old[-1].id,
        },
    )
    log.info("archived %d lineage events of %s to %s", len(old), spec.id, key)
