"""Destroying identified raw deliveries of personal-data feeds when their retention ends.

By default (retention 0) a window's deliveries go as soon as its protected rows are published;
each object destroyed is registered with its checksum, so an auditor can match it to the
manifest it was landed with.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from catalog import entries
from catalog.models import DestructionRecord
from hub.core.time import utc_now
from hub.lake.objectstore import ObjectStore
from hub.lake.raw import MANIFEST, Manifest, partition_name
from hub.steps.context import RunContext

log = logging.getLogger(__name__)


def _due(ctx: RunContext, store: ObjectStore, now: datetime) -> list[str]:
    """Raw partitions whose identified deliveries are due: this window's at retention 0 (its
    protected rows were just published), else any delivery landed longer ago than the
    retention, protected or not: keeping identified data past it is not allowed either."""
    policy = ctx.feed.privacy
    if policy.retention.total_seconds() == 0:
        return [f"{ctx.feed.id}/partition={partition_name(ctx.window)}/"]
    due = []
    for key in store.list("raw", f"{ctx.feed.id}/partition="):
        if key.endswith("/" + MANIFEST):
            manifest = Manifest.model_validate_json(store.get("raw", key))
            if manifest.received_at + policy.retention <= now:
                due.append(manifest.prefix)
    return sorted(set(due))


def destroy_identified(ctx: RunContext, store: ObjectStore) -> list[DestructionRecord]:
    """Delete what is due and register each object; nothing happens for feeds without PD."""
    if ctx.feed.privacy is None:
        return []
    now = utc_now()
    records: list[DestructionRecord] = []
    for prefix in _due(ctx, store, now):
        keys = list(store.list("raw", prefix))
        checksums = {}
        for key in keys:
            if key.endswith("/" + MANIFEST):
                manifest = Manifest.model_validate_json(store.get("raw", key))
                checksums.update({o.key: (o.sha256, o.size) for o in manifest.objects})
        for key in keys:
            if key not in checksums:  # a manifest, or a part whose delivery never sealed
                data = store.get("raw", key)
                checksums[key] = (hashlib.sha256(data).hexdigest(), len(data))
            sha, size = checksums[key]
            records.append(
                DestructionRecord(
                    dataset_id=ctx.feed.id,
                    run_id=ctx.run_id,
                    bucket=ctx.settings.bucket("raw"),
                    object_key=key,
                    sha256=sha,
                    size=size,
                    destroyed_at=now,
                    reason=f"retention {ctx.feed.privacy.retention} after a verified protect step",
                )
            )
        if keys:  # registered first: a failed delete is retried, an unregistered one is lost
            entries.add(ctx.settings.catalog_url, *records[-len(keys) :])
            ctx.audit(
                "destroy",
                f"s3://{ctx.settings.bucket('raw')}/{prefix}",
                objects={r.object_key: r.sha256 for r in records[-len(keys) :]},
            )
            store.delete("raw", keys)
    if records:
        log.info("%s: destroyed %d identified raw objects", ctx.where, len(records))
    return records
