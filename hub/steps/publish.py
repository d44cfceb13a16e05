"""Publish: commit the window's rows to the trusted zone as one Iceberg snapshot, and record it."""

from __future__ import annotations

import io
import logging
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from catalog import store as catalog
from hub.lake import iceberg
from hub.lake.raw import Manifest, load_manifest
from hub.steps.context import RunContext

log = logging.getLogger(__name__)


def publish_table(ctx: RunContext, data: pa.Table, manifest: Manifest) -> dict[str, Any]:
    """Replace the window in ``trusted.<feed>`` with ``data`` and register the version."""
    table = iceberg.feed_table(ctx.settings, ctx.feed)
    snapshot_id = iceberg.replace_window(
        table, data, ctx.feed.partition.column, ctx.window,
        {
            "hub.feed": ctx.feed.id, "hub.run-id": ctx.run_id,
            "hub.delivery-id": manifest.delivery_id, "hub.raw-checksum": manifest.checksum,
            "hub.window-start": ctx.window.start.isoformat(),
            "hub.window-end": ctx.window.end.isoformat(),
        },
        timezone=ctx.feed.schedule.timezone,
    )  # fmt: skip
    snapshot = table.current_snapshot()
    total = int(snapshot.summary.get("total-records", 0)) if snapshot and snapshot.summary else 0
    if snapshot_id is not None:
        catalog.upsert_dataset(ctx.settings.catalog_url, ctx.feed, f"trusted.{ctx.feed.id}")
        catalog.add_version(
            ctx.settings.catalog_url, dataset_id=ctx.feed.id, snapshot_id=snapshot_id,
            window_start=ctx.window.start, window_end=ctx.window.end,
            rows_in_window=data.num_rows, total_rows=total, run_id=ctx.run_id,
            delivery_id=manifest.delivery_id, raw_checksum=manifest.checksum,
        )  # fmt: skip
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


def publish(ctx: RunContext, validated: dict[str, Any]) -> dict[str, Any]:
    """Publish what the validate step staged, then drop the stage."""
    store = ctx.store()
    manifest = load_manifest(store, validated["manifest"])
    data = pq.read_table(io.BytesIO(store.get("raw", validated["stage"])))
    result = publish_table(ctx, data, manifest)
    store.delete("raw", [validated["stage"]])
    ctx.record(status="published",
        step="done", rows_published=result["rows_published"], snapshot_id=result["snapshot_id"],
        finished_at=catalog.now(),
    )  # fmt: skip
    log.info(
        "%s: published %d rows to %s (snapshot %s, %d rows in table)", ctx.where,
        result["rows_published"], result["table"], result["snapshot_id"], result["total_rows"],
    )  # fmt: skip
    return result
