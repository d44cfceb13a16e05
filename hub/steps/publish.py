"""Publish: commit the window's rows to the trusted zone as one Iceberg snapshot, and record it.

Publish deletes nothing: its stage stays for a retry, and the identified delivery is destroyed
by the cleanup step once every step of the run has succeeded. A rerun of a run that already
committed its delivery finds its snapshot by the snapshot's properties and commits nothing
again, so the table, the version row and the audit log say the run published once.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from catalog import entries
from catalog.models import Release
from hub.core.time import utc_now
from hub.lake import iceberg
from hub.lake.raw import Manifest, load_manifest
from hub.steps import stage
from hub.steps.context import RunContext
from hub.steps.protect import scanned_columns
from hub.steps.registers import audit_once, committed_by, replace_run_rows
from hub.steps.release import facts, release_rows
from privacy.anonymity import measure
from privacy.policy import ColumnClass

if TYPE_CHECKING:
    from pyiceberg.table import Table
    from pyiceberg.table.snapshots import Snapshot

log = logging.getLogger(__name__)

#: the snapshot properties that say which run committed which delivery of which window
RUN_MARKS = ("hub.run-id", "hub.delivery-id", "hub.raw-checksum", "hub.window-start")


def publish_table(
    ctx: RunContext, data: pa.Table, manifest: Manifest, watermark: str | None = None
) -> dict[str, Any]:
    """Replace the window in ``trusted.<feed>`` with ``data`` and register the version;
    ``watermark`` is where an incremental feed's cursor stands once it is published."""
    table = iceberg.feed_table(ctx.settings, ctx.feed)
    properties = {
        "hub.feed": ctx.feed.id,
        "hub.run-id": ctx.run_id,
        "hub.delivery-id": manifest.delivery_id,
        "hub.raw-checksum": manifest.checksum,
        "hub.window-start": ctx.window.start.isoformat(),
        "hub.window-end": ctx.window.end.isoformat(),
    }
    earlier = committed_by(table, properties, RUN_MARKS)
    if earlier is not None:
        log.info("%s: snapshot %s already holds this run", ctx.where, earlier.snapshot_id)
        return _result(ctx, table, data, manifest, earlier.snapshot_id, earlier)
    if ctx.feed.upserts:
        if watermark:
            properties["hub.watermark"] = watermark
        snapshot_id = iceberg.upsert_rows(table, data, ctx.feed.key, properties)
    else:
        snapshot_id = iceberg.replace_window(
            table,
            data,
            ctx.feed.partition.column,
            ctx.window,
            properties,
            timezone=ctx.feed.schedule.timezone,
        )
    return _result(ctx, table, data, manifest, snapshot_id, table.current_snapshot())


def _result(
    ctx: RunContext,
    table: Table,
    data: pa.Table,
    manifest: Manifest,
    snapshot_id: int | None,
    snapshot: Snapshot | None,
) -> dict[str, Any]:
    """Register the version ``snapshot_id`` (once), and say what the table holds now."""
    total = int(snapshot.summary.get("total-records", 0)) if snapshot and snapshot.summary else 0
    if snapshot_id is not None and not entries.has_version(ctx.settings.catalog_url, snapshot_id):
        entries.upsert_dataset(ctx.settings.catalog_url, ctx.feed, f"trusted.{ctx.feed.id}")
        entries.add_version(
            ctx.settings.catalog_url,
            dataset_id=ctx.feed.id,
            snapshot_id=snapshot_id,
            window_start=ctx.window.start,
            window_end=ctx.window.end,
            rows_in_window=data.num_rows,
            total_rows=total,
            run_id=ctx.run_id,
            delivery_id=manifest.delivery_id,
            raw_checksum=manifest.checksum,
        )
    return {
        "table": f"trusted.{ctx.feed.id}",
        "location": table.location(),
        "snapshot_id": snapshot_id
        if snapshot_id is not None
        else (snapshot.snapshot_id if snapshot else None),
        "changed": snapshot_id is not None,
        "rows_published": data.num_rows,
        "total_rows": total,
    }


def publish(ctx: RunContext, protected: dict[str, Any]) -> dict[str, Any]:
    """Publish what the protect step staged; the stage and the raw delivery stay for cleanup."""
    store = ctx.store()
    manifest = load_manifest(store, protected["manifest"])
    data = stage.read(store, protected["stage"])
    # never past a quarantined change (validate says where it may stand)
    watermark = protected.get("watermark_to", manifest.watermark_to)
    result = publish_table(ctx, data, manifest, watermark)
    if watermark:  # only now is the change set in the lake: advance the cursor
        connector_config = ctx.feed.delivery.config
        entries.set_watermark(
            ctx.settings.catalog_url,
            ctx.feed.id,
            connector_config.cursor_column,
            watermark,
            ctx.run_id,
        )
    audit_once(
        ctx,
        "publish",
        result["table"],
        snapshot_id=result["snapshot_id"],
        rows=result["rows_published"],
        total_rows=result["total_rows"],
    )
    if ctx.feed.privacy is not None:
        record_trusted_release(ctx, data, result, protected)
    ctx.record(
        status="published",
        step="release" if ctx.feed.is_public else "cleanup",
        rows_published=result["rows_published"],
        snapshot_id=result["snapshot_id"],
        finished_at=utc_now(),
    )
    log.info(
        "%s: published %d rows to %s (snapshot %s, %d rows in table)",
        ctx.where,
        result["rows_published"],
        result["table"],
        result["snapshot_id"],
        result["total_rows"],
    )
    return result


def record_trusted_release(
    ctx: RunContext,
    data: pa.Table,
    result: dict[str, Any],
    protected: dict[str, Any],
) -> None:
    """The pseudonymized version's report: techniques, key, scan, measured risk. The cleanup
    step adds the destruction of the identified delivery once it happened (from the facts kept
    in the row's detail); a rerun's report replaces the previous attempt's."""

    policy = ctx.feed.privacy
    quasi = [c for c in policy.of_class(ColumnClass.quasi) if c in data.column_names]
    sensitive = [c for c in policy.of_class(ColumnClass.sensitive) if c in data.column_names]
    risk = measure(data, quasi, sensitive)
    f = facts(
        ctx,
        "trusted",
        "released",
        data.num_rows,
        k=risk.k,
        l=risk.l,
        key_versions=protected.get("key_versions", []),
        pii_scan=protected.get("pii_scan", {}),
        scanned_columns=scanned_columns(policy, data),
    )
    detail = {"techniques": protected.get("techniques", {}), "facts": asdict(f)}
    rows = release_rows(ctx, f, result["snapshot_id"], detail)
    replace_run_rows(ctx, Release, rows, zone="trusted")
