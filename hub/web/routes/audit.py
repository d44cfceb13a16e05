"""The auditor's workspace: the audit log with its filters and its chain verified on screen,
and the same selection as CSV. Reading needs ``audit.read``; nothing here changes anything."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Annotated, Literal
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
from hub.core import html
from hub.lake.formats import csv_chunks
from hub.registry.roles import Permission
from hub.web.access import PersonDep, PolicyDep, permit
from hub.web.deps import HubDep
from hub.web.pages import lineage_svg
from hub.web.params import Lang

router = APIRouter()
# Pages for people, not machines: left out of /openapi.json.

PAGE = 100
COLUMNS = ("id", "at", "actor", "action", "target", "purpose", "origin", "detail")
WORDS = {
    "ko": {
        "title": "감사 기록",
        "intact": "체인 검증: 이상 없음 ({n}건)",
        "broken": "체인 검증: 항목 {id}에서 끊김 ({reason})",
        "filter": "조회",
        "actor": "행위자",
        "action": "행위",
        "target": "대상(데이터셋)",
        "since": "부터",
        "until": "까지",
        "csv": "CSV로 내려받기",
        "more": "다음",
        "none": "해당 기록이 없습니다.",
        "at": "시각",
        "purpose": "목적",
        "origin": "출처",
        "detail": "내용",
        "inspection": "개인정보 처리 현황 점검 보고서",
        "period": "점검 기간",
        "processing": "가명처리 (처리 대장)",
        "destruction": "파기 대장",
        "provisions": "제공 (제공 대장)",
        "destructions": "파기 (파기 대장)",
        "decisions": "제공 신청과 결정",
        "reidentifications": "재식별",
        "anomalies": "이상 사항",
        "totals": "합계",
        "lineage": "계보",
        "releases": "개방·제공 보고서",
    },
    "en": {
        "title": "Audit log",
        "intact": "Chain verified: intact ({n} entries)",
        "broken": "Chain verification: broken at entry {id} ({reason})",
        "filter": "Filter",
        "actor": "Actor",
        "action": "Action",
        "target": "Target (dataset)",
        "since": "From",
        "until": "To",
        "csv": "Download as CSV",
        "more": "Next",
        "none": "No entries match.",
        "at": "Time",
        "purpose": "Purpose",
        "origin": "Origin",
        "detail": "Detail",
        "inspection": "Personal-data inspection report",
        "period": "Period inspected",
        "processing": "Pseudonymization (processing register)",
        "destruction": "Destruction register",
        "provisions": "Provisions (provision register)",
        "destructions": "Destructions (destruction register)",
        "decisions": "Provision requests and decisions",
        "reidentifications": "Re-identifications",
        "anomalies": "Anomalies",
        "totals": "Totals",
        "lineage": "Lineage",
        "releases": "Release reports",
    },
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
    w = WORDS[lang]
    chain = (
        f'<p class="ok">{w["intact"].format(n=count)}</p>'
        if broken is None
        else f'<p class="fail" role="alert">'
        f"{escape(w['broken'].format(id=broken.entry_id, reason=broken.reason))}</p>"
    )
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

    def field(name: str, kind: str = "text") -> str:
        return (
            f'<label>{w[name]} <input name="{name}" type="{kind}" '
            f'value="{escape(str(kept.get(name, "")))}"></label> '
        )

    form = (
        f'<form method="get" action="/audit"><input type="hidden" name="lang" value="{lang}">'
        + "".join(field(n) for n in ("actor", "action", "target", "since", "until"))
        + f'<button type="submit">{w["filter"]}</button></form>'
    )
    head = "".join(f"<th>{w.get(c, c)}</th>" for c in COLUMNS)
    body_rows = "".join(
        "<tr>" + "".join(f"<td>{escape(str(getattr(e, c)))}</td>" for c in COLUMNS) + "</tr>"
        for e in rows
    )
    table = f"<table><tr>{head}</tr>{body_rows}</table>" if rows else f"<p>{w['none']}</p>"
    links = f'<p><a href="/audit.csv?{urlencode(kept)}">{w["csv"]}</a>'
    if len(rows) == PAGE:
        links += f' · <a href="/audit?{urlencode({**kept, "lang": lang, "offset": offset + PAGE})}">{w["more"]}</a>'
    links += "</p>"
    page = html.page(w["title"], f"<h1>{w['title']}</h1>{chain}{form}{links}{table}", lang=lang)
    return HTMLResponse(page)


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


def _table(heads: list[str], rows: list[list[object]]) -> str:
    cells = "".join(
        "<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return "<table><tr>" + "".join(f"<th>{escape(h)}</th>" for h in heads) + f"</tr>{cells}</table>"


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
    w = WORDS[lang]
    parts = [
        f"<h1>{w['inspection']}</h1><p>{w['period']}: {since.isoformat()} – {until.isoformat()}</p>",
        f"<h2>{w['totals']}</h2>" + _table(list(report.totals), [list(report.totals.values())]),
        f"<h2>{w['processing']}</h2>"
        + _table(
            ["dataset", "column", "technique", "records", "values changed"],
            [[*k, *v] for k, v in sorted(report.processing.items())],
        ),
        f"<h2>{w['provisions']}</h2>"
        + _table(
            ["recipient", "dataset", "channel", "answers", "rows"],
            [[*k, *v] for k, v in sorted(report.provisions.items())],
        ),
        f"<h2>{w['destructions']}</h2>"
        + _table(
            ["dataset", "reason", "objects", "bytes"],
            [[*k, *v] for k, v in sorted(report.destructions.items())],
        ),
        f"<h2>{w['decisions']}</h2>"
        + _table(
            ["#", "partner", "dataset", "purpose", "status", "decided by", "reason"],
            [
                [
                    r.id,
                    r.partner_id,
                    r.dataset_id,
                    r.purpose,
                    r.status,
                    r.decided_by or "",
                    r.reason or "",
                ]
                for r in report.decisions
            ],
        ),
        f"<h2>{w['reidentifications']}</h2>"
        + _table(
            ["#", "dataset", "asked by", "reason", "status", "approved by", "used at"],
            [
                [
                    q.id,
                    q.feed_id,
                    q.requested_by,
                    q.reason,
                    q.status,
                    q.decided_by or "",
                    q.used_at or "",
                ]
                for q in report.reidentifications
            ],
        ),
        f"<h2>{w['anomalies']}</h2>"
        + _table(["kind", "who", "what", "when"], [list(a) for a in report.anomalies]),
    ]
    return HTMLResponse(html.page(w["inspection"], "".join(parts), lang=lang))


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
    title = WORDS[lang][kind if kind != "provision" else "provisions"]
    kept = {k: v for k, v in (("dataset", dataset), ("lang", lang)) if v}
    body = (
        f"<h1>{escape(title)}</h1>"
        f'<p><a href="/audit/registers/{kind}?{urlencode({**kept, "format": "csv"})}">'
        f"{WORDS[lang]['csv']}</a></p>"
        + _table(list(columns), [[getattr(r, c) for c in columns] for r in rows])
    )
    return HTMLResponse(html.page(title, body, lang=lang))


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
    graph = lineage_svg(await run_in_threadpool(hub.lineage, dataset_id))
    releases = await run_in_threadpool(
        entries.listing, hub.settings.catalog_url, Release, dataset_id
    )
    w = WORDS[lang]
    reports = "".join(
        f"<h3>{escape(r.zone)} · {escape(r.status)} · {r.created_at.isoformat()}</h3>"
        f"<pre>{escape(r.report_ko if lang == 'ko' else r.report_en)}</pre>"
        for r in reversed(releases)
    )
    body = (
        f"<h1>{escape(dataset_id)}</h1><h2>{w['lineage']}</h2>{graph}"
        f"<h2>{w['releases']}</h2>{reports or '<p>' + w['none'] + '</p>'}"
    )
    return HTMLResponse(html.page(dataset_id, body, lang=lang))
