"""The auditor's workspace: the audit log with its filters and its chain verified on screen,
and the same selection as CSV. Reading needs ``audit.read``; nothing here changes anything."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import pyarrow as pa
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from catalog import audit, entries, registers
from catalog.inspection import inspect
from catalog.models import (
    AuditEntry,
    Release,
)
from hub.lake.formats import csv_chunks
from hub.registry.roles import Permission
from hub.web.access import PersonDep, PolicyDep, permit
from hub.web.deps import HubDep
from hub.web.pages import lineage_svg
from hub.web.params import Lang
from hub.web.templating import N_, gettext, respond

router = APIRouter()
# Pages for people, not machines: left out of /openapi.json.

PAGE = 100
COLUMNS = ("id", "at", "actor", "action", "target", "purpose", "origin", "detail")
#: The log's columns and filters, as the page heads them (catalog words).
HEADS = {
    "id": "#",
    "at": N_("Time"),
    "actor": N_("Actor"),
    "action": N_("Action"),
    "target": N_("Target (dataset)"),
    "purpose": N_("Purpose"),
    "origin": N_("Origin"),
    "detail": N_("Detail"),
}
FILTERS = [
    ("actor", N_("Actor")),
    ("action", N_("Action")),
    ("target", N_("Target (dataset)")),
    ("since", N_("From")),
    ("until", N_("To")),
]
REGISTER_TITLES = {
    "processing": N_("Pseudonymization (processing register)"),
    "provision": N_("Provisions (provision register)"),
    "destruction": N_("Destructions (destruction register)"),
}

Text = Annotated[str | None, Query(max_length=200)]
When = Annotated[datetime | None, Query()]


def _selection(hub, actor, action, target, since, until, limit, offset) -> list[AuditEntry]:
    return audit.entries(
        hub.settings.catalog_url,
        actor=actor or None,
        action=action or None,
        target=target or None,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )


@router.get("/audit", response_class=HTMLResponse, include_in_schema=False)
async def audit_log(
    request: Request,
    hub: HubDep,
    policy: PolicyDep,
    person: PersonDep,
    lang: Lang = "ko",
    actor: Text = None,
    action: Text = None,
    target: Text = None,
    since: When = None,
    until: When = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    await run_in_threadpool(permit, request, hub, policy, person, Permission.audit_read)
    rows = await run_in_threadpool(
        _selection, hub, actor, action, target, since, until, PAGE, offset
    )
    count, broken = await run_in_threadpool(audit.verify, hub.settings.catalog_url)
    kept = {
        k: v
        for k, v in {
            "actor": actor,
            "action": action,
            "target": target,
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
        }.items()
        if v
    }
    more = {**kept, "lang": lang, "offset": offset + PAGE}
    return respond(
        request,
        "audit_log.html",
        lang,
        N_("Audit log"),
        count=count,
        broken=broken,
        filters=FILTERS,
        kept=kept,
        csv_url=f"/audit.csv?{urlencode(kept)}",
        next_url=f"/audit?{urlencode(more)}" if len(rows) == PAGE else None,
        heads=[gettext(lang, HEADS[c]) for c in COLUMNS],
        rows=[[getattr(e, c) for c in COLUMNS] for e in rows],
    )


@router.get("/audit.csv", include_in_schema=False)
async def audit_csv(
    request: Request,
    hub: HubDep,
    policy: PolicyDep,
    person: PersonDep,
    actor: Text = None,
    action: Text = None,
    target: Text = None,
    since: When = None,
    until: When = None,
) -> Response:
    await run_in_threadpool(permit, request, hub, policy, person, Permission.audit_read)
    rows = await run_in_threadpool(_selection, hub, actor, action, target, since, until, None, 0)
    schema = pa.schema([(c, pa.string()) for c in COLUMNS])
    batch = pa.record_batch([[str(getattr(e, c)) for e in rows] for c in COLUMNS], schema=schema)
    # the hub's one CSV writer: a BOM for Excel, and no cell a spreadsheet would run as a formula
    return Response(
        b"".join(csv_chunks(schema, [batch])),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'},
    )


def _cells(records: list[Any], names: str) -> list[list[Any]]:
    """Each record's named attributes as a table row (an unset one blank)."""
    return [
        ["" if getattr(r, n) is None else getattr(r, n) for n in names.split()] for r in records
    ]


def _half_year(now: datetime) -> tuple[datetime, datetime]:
    """The last half year that has ended: January-June or July-December."""
    first = now.replace(
        month=1 if now.month <= 6 else 7, day=1, hour=0, minute=0, second=0, microsecond=0
    )
    back = (
        first.replace(year=first.year - 1, month=7) if first.month == 1 else first.replace(month=1)
    )
    return back, first


@router.get("/audit/inspection", response_class=HTMLResponse, include_in_schema=False)
async def inspection_page(
    request: Request,
    hub: HubDep,
    policy: PolicyDep,
    person: PersonDep,
    lang: Lang = "ko",
    since: When = None,
    until: When = None,
) -> Response:
    await run_in_threadpool(permit, request, hub, policy, person, Permission.inspection_report)
    if since is None or until is None:
        since, until = _half_year(datetime.now(UTC))
    report = await run_in_threadpool(inspect, hub.settings.catalog_url, since, until)
    sections = [
        (N_("Totals"), list(report.totals), [list(report.totals.values())]),
        (
            N_("Pseudonymization (processing register)"),
            ["dataset", "column", "technique", "records", "values changed"],
            [[*k, *v] for k, v in sorted(report.processing.items())],
        ),
        (
            N_("Provisions (provision register)"),
            ["recipient", "dataset", "channel", "answers", "rows"],
            [[*k, *v] for k, v in sorted(report.provisions.items())],
        ),
        (
            N_("Destructions (destruction register)"),
            ["dataset", "reason", "objects", "bytes"],
            [[*k, *v] for k, v in sorted(report.destructions.items())],
        ),
        (
            N_("Provision requests and decisions"),
            ["#", "partner", "dataset", "purpose", "status", "decided by", "reason"],
            _cells(
                report.decisions,
                "id partner_id dataset_id purpose status decided_by reason",
            ),
        ),
        (
            N_("Re-identifications"),
            ["#", "dataset", "asked by", "reason", "status", "approved by", "used at"],
            _cells(
                report.reidentifications,
                "id feed_id requested_by reason status decided_by used_at",
            ),
        ),
        (N_("Anomalies"), ["kind", "who", "what", "when"], [list(a) for a in report.anomalies]),
    ]
    return respond(
        request,
        "inspection.html",
        lang,
        N_("Personal-data inspection report"),
        since=since.isoformat(),
        until=until.isoformat(),
        sections=sections,
    )


Kind = Literal["processing", "provision", "destruction"]


@router.get("/audit/registers/{kind}", response_class=HTMLResponse, include_in_schema=False)
async def register_page(
    kind: Kind,
    request: Request,
    hub: HubDep,
    policy: PolicyDep,
    person: PersonDep,
    lang: Lang = "ko",
    dataset: Text = None,
    since: When = None,
    until: When = None,
    format: Annotated[Literal["html", "csv"], Query()] = "html",
) -> Response:
    await run_in_threadpool(permit, request, hub, policy, person, Permission.registers_read)
    limit = None if format == "csv" else 500
    url = hub.settings.catalog_url
    rows = await run_in_threadpool(registers.read, url, kind, dataset, since, until, limit)
    columns = registers.REGISTERS[kind].columns
    if format == "csv":
        schema = pa.schema([(c, pa.string()) for c in columns])
        data = [[str(getattr(r, c)) for r in rows] for c in columns]
        return Response(
            b"".join(csv_chunks(schema, [pa.record_batch(data, schema=schema)])),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{kind}-register.csv"'},
        )
    kept = {k: v for k, v in (("dataset", dataset), ("lang", lang)) if v}
    return respond(
        request,
        "register.html",
        lang,
        REGISTER_TITLES[kind],
        csv_url=f"/audit/registers/{kind}?{urlencode({**kept, 'format': 'csv'})}",
        heads=list(columns),
        rows=[[getattr(r, c) for c in columns] for r in rows],
    )


@router.get("/audit/datasets/{dataset_id}", response_class=HTMLResponse, include_in_schema=False)
async def dataset_review(
    dataset_id: str,
    request: Request,
    hub: HubDep,
    policy: PolicyDep,
    person: PersonDep,
    lang: Lang = "ko",
) -> Response:
    """A dataset as the auditor reviews it: its lineage drawn, then every release with the
    measured risk and its report in the page's language, newest first."""
    await run_in_threadpool(permit, request, hub, policy, person, Permission.audit_read)
    hub.spec(dataset_id)  # 404 for an unknown id
    graph = lineage_svg(await run_in_threadpool(hub.lineage, dataset_id), lang)
    releases = await run_in_threadpool(
        entries.listing, hub.settings.catalog_url, Release, dataset_id
    )
    return respond(
        request,
        "audit_dataset.html",
        lang,
        N_("Release reports"),
        dataset_id=dataset_id,
        lineage=graph,
        releases=list(reversed(releases)),
    )
