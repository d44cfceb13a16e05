"""Land: pull the delivery through the feed's connector into the raw zone, byte for byte."""

from __future__ import annotations

import logging
from typing import Any

import connectors
from catalog import db, entries
from connectors.base import FetchContext
from hub.core.errors import HubError, TransientDeliveryError
from hub.lake.raw import Manifest, RawLanding, manifest_key
from hub.steps.context import RunContext
from hub.steps.registers import audit_once

log = logging.getLogger(__name__)


def with_evidence(ctx: RunContext, exc: HubError, manifest: Manifest) -> HubError:
    """The error, naming where the unusable answer's bytes are kept (same type, so retries
    and Airflow see it as before)."""
    kept = [o.key for o in manifest.objects if o.evidence]
    if not kept:
        return exc
    bucket = ctx.settings.bucket("raw")
    return type(exc)(
        f"{exc.message}; the answer as received is kept at s3://{bucket}/{kept[-1]} (incomplete "
        "delivery, never published)"
    )


def land(ctx: RunContext) -> dict[str, Any]:
    """Fetch and land one window. Parts already landed stay even when the fetch fails.

    Raises:
        DeliveryError: the source answered something unusable (terminal).
        TransientDeliveryError: the source failed in a way a retry may not (transient).
    """

    db.ensure_current(ctx.settings.catalog_url)  # once per process; safe when workers race
    entries.upsert_dataset(ctx.settings.catalog_url, ctx.feed, f"trusted.{ctx.feed.id}")
    ctx.record(
        status="running",
        step="land",
        error=None,
    )
    store = ctx.store()
    landing = RawLanding(store, ctx.feed.id, ctx.window, ctx.run_id)
    fetch = connectors.fetcher(ctx.feed.delivery.connector)
    mark = entries.watermark(ctx.settings.catalog_url, ctx.feed.id)
    newest = entries.latest_version(ctx.settings.catalog_url, ctx.feed.id) if mark else None
    fetch_ctx = FetchContext(
        feed_id=ctx.feed.id,
        window=ctx.window,
        timezone=ctx.feed.schedule.timezone,
        inbox=store,
        watermark=mark,
        key=tuple(ctx.feed.key),
        published_rows=newest.total_rows if newest else None,
    )
    try:
        result = fetch(ctx.feed.delivery.config, fetch_ctx, landing)
    except HubError as exc:
        if landing.objects:
            manifest = landing.seal(rows_reported=None, error=str(exc))
            exc = with_evidence(ctx, exc, manifest)
        ctx.fail(exc)
        raise exc from None
    if not landing.objects and not ctx.feed.allow_empty:
        # An empty answer is most often a provider that has not published the window yet;
        # publishing it would empty the window in the lake, so retry later instead.
        error = TransientDeliveryError(
            f"{ctx.where}: the source delivered no rows for this window yet; it will be retried "
            "(set allow_empty: true in the feed if an empty window is normal)"
        )
        ctx.fail(error)
        raise error
    manifest = landing.seal(
        rows_reported=result.rows_reported,
        watermarks=(mark, result.watermark) if result.watermark else (None, None),
    )
    ctx.record(
        rows_landed=manifest.rows_reported,
        step="validate",
    )
    audit_once(  # a land run again after it finished (killed, cleared) reuses its delivery
        ctx,
        "land",
        f"s3://{ctx.settings.bucket('raw')}/{manifest.prefix}",
        objects=len(manifest.objects),
        bytes=manifest.size,
        rows_reported=manifest.rows_reported,
    )
    log.info(
        "%s: landed %d objects, %d bytes, %s rows reported, in s3://%s/%s",
        ctx.where,
        len(manifest.objects),
        manifest.size,
        manifest.rows_reported,
        ctx.settings.bucket("raw"),
        manifest.prefix,
    )
    return {
        "manifest": manifest_key(manifest),
        "objects": len(manifest.objects),
        "bytes": manifest.size,
        "rows_reported": manifest.rows_reported,
    }
