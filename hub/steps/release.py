"""Release: the open zone's copy of a public dataset's window, anonymized past the risk gate.

It reads the trusted snapshot just published (never raw data), drops direct identifiers (tokens
are pseudonymous, not anonymous), generalizes or suppresses until k-anonymity and l-diversity
hold, and registers the release, its report, and the provision to the public. A rerun of a
run whose open snapshot is already committed commits nothing again and registers nothing twice.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pyarrow as pa

from catalog import entries
from catalog.models import Provision, Release
from hub.core.time import utc_now
from hub.lake import iceberg
from hub.registry.spec import FieldSpec
from hub.steps.context import RunContext
from hub.steps.export import export_due, export_version
from hub.steps.protect import pii_scan, scanned_columns
from hub.steps.registers import audit_once, committed_by, run_rows
from privacy.anonymity import release_gate
from privacy.errors import ReleaseRefused
from privacy.policy import ColumnClass
from privacy.report import ReleaseFacts, render

log = logging.getLogger(__name__)

#: the snapshot properties that say which run released which trusted version
RELEASE_MARKS = ("hub.run-id", "hub.step", "hub.trusted-snapshot")


def facts(ctx: RunContext, zone: str, status: str, rows: int, **extra: Any) -> ReleaseFacts:
    return ReleaseFacts(
        feed_id=ctx.feed.id,
        title_ko=ctx.feed.title.ko,
        title_en=ctx.feed.title.en,
        zone=zone,
        status=status,
        rows=rows,
        window=f"{ctx.window.start.isoformat()} .. {ctx.window.end.isoformat()}",
        **extra,
    )


def record_release(
    ctx: RunContext, f: ReleaseFacts, snapshot_id: int | None, detail: dict[str, Any]
) -> Release:
    """Store one release with its report; an open release is also a provision to the public."""
    rows = release_rows(ctx, f, snapshot_id, detail)
    entries.add(ctx.settings.catalog_url, *rows)
    return rows[0]


def release_rows(
    ctx: RunContext, f: ReleaseFacts, snapshot_id: int | None, detail: dict[str, Any]
) -> list[Any]:
    """One release with its report, and for an open release the provision to the public."""
    report_ko, report_en = render(f, ctx.feed.privacy)
    policy = ctx.feed.privacy
    row = Release(
        dataset_id=ctx.feed.id,
        run_id=ctx.run_id,
        zone=f.zone,
        status=f.status,
        snapshot_id=snapshot_id,
        window_start=ctx.window.start,
        window_end=ctx.window.end,
        rows=f.rows,
        rows_suppressed=f.rows_suppressed,
        k=f.k,
        l=f.l,
        k_required=f.k_required,
        l_required=f.l_required,
        pii_scan=json.dumps(f.pii_scan, ensure_ascii=False),
        detail=json.dumps(detail, ensure_ascii=False, default=str),
        report_ko=report_ko,
        report_en=report_en,
        created_at=utc_now(),
    )
    rows: list[Any] = [row]
    if f.zone == "open" and f.status == "released":
        rows.append(
            Provision(
                dataset_id=ctx.feed.id,
                snapshot_id=snapshot_id,
                recipient="public",
                channel="open_release",
                purpose="open data (공공데이터 개방)",
                legal_basis=(policy.legal_basis.en if policy else ctx.feed.licence.title),
                rows=f.rows,
                client_address=None,
                provided_at=utc_now(),
            )
        )
    return rows


def open_fields(ctx: RunContext, columns: list[str]) -> list[FieldSpec]:
    """The open table's columns; a QI the ladder may blank out must be nullable."""
    ladder = ctx.feed.privacy.release.ladder if ctx.feed.privacy else {}
    return [
        f.model_copy(update={"required": False}) if "suppress" in ladder.get(f.name, []) else f
        for f in ctx.feed.published_fields
        if f.name in columns
    ]


def refusal(ctx: RunContext, exc: ReleaseRefused, published: dict[str, Any]) -> str:
    """The gate's reason, then exactly what the run has and has not done by now: the trusted
    snapshot stands, the open zone is untouched, raw data and stages wait for a rerun."""
    feed = ctx.feed
    reason = exc.message.removesuffix("; nothing was released")
    before = (
        "keeps the version it had"
        if iceberg.table_catalog(ctx.settings).table_exists(("open", feed.id))
        else "has no version yet"
    )
    rows = published.get("rows_published")
    return (
        f"{reason}. What was done: trusted.{feed.id} snapshot {published.get('snapshot_id')} "
        f"is published{f' ({rows} rows)' if rows is not None else ''}; the open release was "
        f"refused, so open.{feed.id} {before} and no download was written; the identified "
        "raw delivery and this run's stages are kept until the run succeeds (change the "
        "release ladder or wait for more rows, then clear the release task)"
    )


def release(ctx: RunContext, published: dict[str, Any]) -> dict[str, Any]:
    """Release the window to the open zone, if the dataset is public.

    Raises:
        ReleaseRefused: the risk gate cannot be met; the message says what was done (the
            trusted snapshot is published) and what was not (open zone, raw destruction).
    """

    feed, policy = ctx.feed, ctx.feed.privacy
    if not feed.is_public:
        log.info("%s: access class %s, so no open release", ctx.where, feed.access_class.value)
        return {"released": False, "reason": f"access class {feed.access_class.value}"}
    trusted = iceberg.feed_table(ctx.settings, feed)
    if feed.upserts:  # changes may touch any period: release the whole version
        data = trusted.scan(snapshot_id=published.get("snapshot_id")).to_arrow()
    else:
        data = iceberg.read_window(
            trusted,
            feed.partition.column,
            ctx.window,
            timezone=feed.schedule.timezone,
            snapshot_id=published.get("snapshot_id"),
        )
    direct = (
        set(policy.of_class(ColumnClass.direct)) | set(policy.release.drop) if policy else set()
    )
    data = data.select([c for c in data.column_names if c not in direct])
    gate = policy.release if policy else None
    required = {"k_required": gate.k, "l_required": gate.l} if gate else {}
    try:
        released = release_gate(data, policy, feed_id=feed.id, timezone=feed.schedule.timezone)
    except ReleaseRefused as exc:
        told = ReleaseRefused(refusal(ctx, exc, published))
        record_release(
            ctx, facts(ctx, "open", "refused", 0, message=told.message, **required), None, {}
        )
        ctx.fail(told, step="release")
        raise told from None
    out: pa.Table = released.table
    findings = pii_scan(ctx, out)
    table = iceberg.ensure_table(
        ctx.settings,
        "open",
        feed.id,
        open_fields(ctx, out.column_names),
        (feed.partition.column, feed.partition.transform),
        properties={"comment": f"{feed.title.en} (open release)"},
    )
    properties = {
        "hub.feed": feed.id,
        "hub.run-id": ctx.run_id,
        "hub.step": "release",
        "hub.trusted-snapshot": str(published.get("snapshot_id")),
    }
    earlier = committed_by(table, properties, RELEASE_MARKS)
    if earlier is not None:  # an earlier attempt of this run committed it: not twice
        snapshot_id: int | None = earlier.snapshot_id
    elif feed.upserts:
        snapshot_id = iceberg.replace_all(table, out, properties)
    else:
        snapshot_id = iceberg.replace_window(
            table,
            out,
            feed.partition.column,
            ctx.window,
            properties,
            timezone=feed.schedule.timezone,
        )
    current = table.current_snapshot()
    snapshot_id = (
        snapshot_id if snapshot_id is not None else (current.snapshot_id if current else None)
    )
    f = facts(
        ctx,
        "open",
        "released",
        out.num_rows,
        rows_suppressed=released.rows_suppressed,
        k=released.risk.k,
        l=released.risk.l,
        key_versions=[],
        pii_scan=findings,
        scanned_columns=scanned_columns(policy, out),
        ladder=released.settings,
        **required,
    )
    if not run_rows(ctx, Release, zone="open", status="released", snapshot_id=snapshot_id):
        detail = {"ladder_step": released.level, "dropped": sorted(direct)}
        record_release(ctx, f, snapshot_id, detail)
    audit_once(
        ctx,
        "release",
        f"open.{feed.id}",
        snapshot_id=snapshot_id,
        rows=out.num_rows,
        k=released.risk.k,
        l=released.risk.l,
        rows_suppressed=released.rows_suppressed,
    )

    if export_due(ctx.settings, feed.id, feed.exports_every, utc_now()):
        files = export_version(ctx.settings, feed.id, snapshot_id)
    else:  # the cadence's files are recent: none for this version (an earlier attempt's stay)
        files = entries.exports_of(ctx.settings.catalog_url, feed.id, snapshot_id)
        log.info("%s: download files are at most every %s", ctx.where, feed.exports_every)
    ctx.record(step="cleanup")
    log.info(
        "%s: released %d rows to open.%s (k=%s, l=%s, %d rows suppressed)",
        ctx.where,
        out.num_rows,
        feed.id,
        released.risk.k,
        released.risk.l,
        released.rows_suppressed,
    )
    return {
        "released": True,
        "table": f"open.{feed.id}",
        "snapshot_id": snapshot_id,
        "rows": out.num_rows,
        "rows_suppressed": released.rows_suppressed,
        "k": released.risk.k,
        "l": released.risk.l,
        "exports": {f.format: f.object_key for f in files},
    }
