"""Destroying identified raw deliveries of personal-data feeds when their retention ends.

By default (retention 0) a window's deliveries go as soon as the run that published their
protected rows has succeeded (the cleanup step, the run's last); each object destroyed is
registered once with its checksum, so an auditor can match it to the manifest it was landed
with. A retry after a failed delete deletes what is registered without registering it again.
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
from hub.steps.registers import destroyed_keys

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
    bucket = ctx.settings.bucket("raw")
    for prefix in _due(ctx, store, now):
        keys = list(store.list("raw", prefix))
        registered = destroyed_keys(ctx, bucket, keys)
        fresh: list[DestructionRecord] = []
        checksums = {}
        for key in keys:
            if key.endswith("/" + MANIFEST):
                manifest = Manifest.model_validate_json(store.get("raw", key))
                checksums.update({o.key: (o.sha256, o.size) for o in manifest.objects})
        for key in keys:
            if key in registered:  # an earlier attempt registered it, then failed to delete
                continue
            if key not in checksums:  # a manifest, or a part whose delivery never sealed
                data = store.get("raw", key)
                checksums[key] = (hashlib.sha256(data).hexdigest(), len(data))
            sha, size = checksums[key]
            fresh.append(
                DestructionRecord(
                    dataset_id=ctx.feed.id,
                    run_id=ctx.run_id,
                    bucket=bucket,
                    object_key=key,
                    sha256=sha,
                    size=size,
                    destroyed_at=now,
                    reason=f"retention {ctx.feed.privacy.retention} after a verified protect step",
                )
            )
        if fresh:  # registered first: a failed delete is retried, an unregistered one is lost
            entries.add(ctx.settings.catalog_url, *fresh)
            ctx.audit(
                "destroy",
                f"s3://{bucket}/{prefix}",
                objects={r.object_key: r.sha256 for r in fresh},
            )
            records.extend(fresh)
        if keys:
            store.delete("raw", keys)
    if records:
        log.info("%s: destroyed %d identified raw objects", ctx.where, len(records))
    return records
