"""Publish: commit the window's rows to the trusted zone as one Iceberg snapshot, and record it."""

from __future__ import annotations

import io
import logging
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from catalog import entries
from hub.core.time import utc_now
from hub.lake import iceberg
from hub.lake.raw import Manifest, load_manifest
from hub.steps.context import RunContext
from hub.steps.destroy import destroy_identified
from hub.steps.protect import scanned_columns
from hub.steps.release import facts, record_release
from privacy.anonymity import measure
from privacy.policy import ColumnClass

log = logging.getLogger(__name__)


def publish_table(ctx: RunContext, data: pa.Table, manifest: Manifest) -> dict[str, Any]:
    """Replace the window in ``trusted.<feed>`` with ``data`` and register the version."""
    table = iceberg.feed_table(ctx.settings, ctx.feed)
    properties = {
        "hub.feed": ctx.feed.id,
        "hub.run-id": ctx.run_id,
        "hub.delivery-id": manifest.delivery_id,
        "hub.raw-checksum": manifest.checksum,
        "hub.window-start": ctx.window.start.isoformat(),
        "hub.window-end": ctx.window.end.isoformat(),
    }
    if ctx.feed.upserts:
        if manifest.watermark_to:
            properties["hub.watermark"] = manifest.watermark_to
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
    snapshot = table.current_snapshot()
    total = int(snapshot.summary.get("total-records", 0)) if snapshot and snapshot.summary else 0
    if snapshot_id is not None:
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
    """Publish what the protect step staged, drop the stage, then destroy what is due."""
    store = ctx.store()
    manifest = load_manifest(store, protected["manifest"])
    data = pq.read_table(io.BytesIO(store.get("raw", protected["stage"])))
    result = publish_table(ctx, data, manifest)
    store.delete("raw", [protected["stage"]])
    if manifest.watermark_to:  # only now is the change set in the lake: advance the cursor
        connector_config = ctx.feed.delivery.config
        entries.set_watermark(
            ctx.settings.catalog_url,
            ctx.feed.id,
            connector_config.cursor_column,
            manifest.watermark_to,
            ctx.run_id,
        )
    ctx.audit(
        "publish",
        result["table"],
        snapshot_id=result["snapshot_id"],
        rows=result["rows_published"],
        total_rows=result["total_rows"],
    )
    destroyed = destroy_identified(ctx, store)
    if ctx.feed.privacy is not None:
        record_trusted_release(ctx, data, result, protected, destroyed=len(destroyed))
    ctx.record(
        status="published",
        step="release" if ctx.feed.is_public else "done",
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
    return {**result, "destroyed_objects": len(destroyed)}


def record_trusted_release(
    ctx: RunContext,
    data: pa.Table,
    result: dict[str, Any],
    protected: dict[str, Any],
    *,
    destroyed: int,
) -> None:
    """The pseudonymized version's report: techniques, key, scan, measured risk, destruction."""

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
        destroyed_objects=destroyed,
    )
    record_release(ctx, f, result["snapshot_id"], {"techniques": protected.get("techniques", {})})
