"""Provision requests on the web: a partner's person files one and follows its status; the
personal-data manager or protection officer decides it (approve, narrow, refuse with a reason)
and revokes grants. The rules live in ``catalog.provisioning``; here are the forms."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html import escape
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from catalog import provisioning, signins
from catalog.models import ProvisionRequest
from hub.core import html
from hub.registry.roles import Permission
from hub.registry.spec import AccessClass
from hub.web.access import SIGNIN_COOKIE, PersonDep, PolicyDep, check_form, permit
from hub.web.deps import Hub, HubDep
from hub.web.params import Lang

router = APIRouter()
# Pages for people, not machines: left out of /openapi.json.

WORDS = {
    "ko": {
        "title": "데이터 제공 신청",
        "new": "새 신청",
        "dataset": "데이터셋",
        "purpose": "이용 목적",
        "law": "법적 근거",
        "columns": "항목(쉼표로 구분)",
        "until": "이용 기간 종료일",
        "file": "신청",
        "status": "상태",
        "decide": "결정",
        "approve": "승인",
        "refuse": "거절",
        "reason": "사유",
        "none": "신청이 없습니다.",
        "filed": "접수",
        "approved": "승인",
        "narrowed": "축소 승인",
        "refused": "거절",
        "by": "결정자",
    },
    "en": {
        "title": "Provision requests",
        "new": "New request",
        "dataset": "Dataset",
        "purpose": "Purpose",
        "law": "Legal basis",
        "columns": "Columns (comma-separated)",
        "until": "Period ends",
        "file": "File",
        "status": "Status",
        "decide": "Decide",
        "approve": "Approve",
        "refuse": "Refuse",
        "reason": "Reason",
        "none": "No requests.",
        "filed": "filed",
        "approved": "approved",
        "narrowed": "approved, narrowed",
        "refused": "refused",
        "by": "Decided by",
    },
}


def _restricted(hub: Hub) -> dict[str, list[str]]:
    """The datasets a partner can ask for, with their columns."""
    feeds, products = hub.registry()
    return {
        id_: [f.name for f in spec.published_fields]
        for id_, spec in {**feeds, **products}.items()
        if spec.access_class is AccessClass.restricted
    }


def _row(r: ProvisionRequest, w: dict[str, str], csrf: str, decides: bool, lang: str) -> str:
    cells = [
        str(r.id),
        escape(r.partner_id),
        escape(r.dataset_id),
        escape(r.purpose),
        escape(r.legal_basis),
        escape(", ".join(json.loads(r.columns))),
        r.until.date().isoformat(),
        w.get(r.status, r.status),
        escape(r.decided_by or ""),
        escape(r.reason or ""),
    ]
    action, asked, day = "", ", ".join(json.loads(r.columns)), r.until.date().isoformat()
    if decides and r.status == provisioning.FILED:
        action = (
            f'<form method="post" action="/provisions/{r.id}/decision?lang={lang}">'
            f'<input type="hidden" name="csrf" value="{csrf}">'
            f'<label>{w["columns"]} <input name="columns" value="{escape(asked)}"></label> '
            f'<label>{w["until"]} <input name="until" type="date" value="{day}"></label> '
            f'<label>{w["reason"]} <input name="reason" maxlength="500"></label> '
            f'<button name="decision" value="approve">{w["approve"]}</button> '
            f'<button name="decision" value="refuse">{w["refuse"]}</button></form>'
        )
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + f"<td>{action}</td></tr>"


@router.get("/provisions", response_class=HTMLResponse, include_in_schema=False)
async def provisions_page(
    request: Request, hub: HubDep, policy: PolicyDep, person: PersonDep, lang: Lang = "ko"
) -> Response:
    readers = (Permission.provisions_own, Permission.provisions_decide, Permission.registers_read)
    if not any(policy.allows(person.roles, p) for p in readers):  # audited, then 303 or 403
        await run_in_threadpool(permit, request, hub, policy, person, Permission.provisions_own)
    url, w = hub.settings.catalog_url, WORDS[lang]
    rows = await run_in_threadpool(provisioning.requests, url, policy, person)
    csrf = signins.csrf_token(request.cookies.get(SIGNIN_COOKIE, ""))
    decides = policy.allows(person.roles, Permission.provisions_decide)
    heads = ["#", "partner", w["dataset"], w["purpose"], w["law"], w["columns"], w["until"]]
    heads += [w["status"], w["by"], w["reason"], w["decide"] if decides else ""]
    table = (
        "<table><tr>"
        + "".join(f"<th>{h}</th>" for h in heads)
        + "</tr>"
        + "".join(_row(r, w, csrf, decides, lang) for r in rows)
        + "</table>"
        if rows
        else f"<p>{w['none']}</p>"
    )
    form = ""
    if policy.allows(person.roles, Permission.provisions_request):
        options = "".join(
            f'<option value="{escape(d)}">{escape(d)} ({escape(", ".join(cols))})</option>'
            for d, cols in _restricted(hub).items()
        )
        form = (
            f"<h2>{w['new']}</h2>"
            f'<form method="post" action="/provisions?lang={lang}">'
            f'<input type="hidden" name="csrf" value="{csrf}">'
            f'<p><label>{w["dataset"]}<br><select name="dataset_id">{options}</select>'
            "</label></p>"
            + "".join(
                f'<p><label>{w[word]}<br><input name="{name}" required size="60"></label></p>'
                for word, name in (("purpose", "purpose"), ("law", "legal_basis"))
            )
            + f'<p><label>{w["columns"]}<br><input name="columns" required size="60"></label></p>'
            f'<p><label>{w["until"]}<br><input name="until" type="date" required></label></p>'
            f'<p><button type="submit">{w["file"]}</button></p></form>'
        )
    body = f"<h1>{w['title']}</h1>{table}{form}"
    return HTMLResponse(html.page(w["title"], body, lang=lang))


def _columns(text: str) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()]


def _end_of(day: str) -> datetime:
    try:
        return datetime.fromisoformat(day).replace(hour=23, minute=59, tzinfo=UTC)
    except ValueError:
        raise HTTPException(400, detail=f"not a date: {day!r}") from None


@router.post("/provisions", include_in_schema=False)
async def file_request(
    request: Request,
    hub: HubDep,
    policy: PolicyDep,
    person: PersonDep,
    dataset_id: Annotated[str, Form(max_length=63)],
    purpose: Annotated[str, Form(max_length=500)],
    legal_basis: Annotated[str, Form(max_length=500)],
    columns: Annotated[str, Form(max_length=2000)],
    until: Annotated[str, Form(max_length=10)],
    csrf: Annotated[str, Form(max_length=100)],
    lang: Lang = "ko",
) -> Response:
    await run_in_threadpool(
        permit,
        request,
        hub,
        policy,
        person,
        Permission.provisions_request,
        partner_id=person.partner_id,
    )
    check_form(request, csrf)
    available = _restricted(hub).get(dataset_id)
    if available is None:
        raise HTTPException(400, detail=f"{dataset_id!r} is not a restricted dataset")
    try:
        await run_in_threadpool(
            lambda: provisioning.file(
                hub.settings.catalog_url,
                policy,
                person,
                dataset_id=dataset_id,
                purpose=purpose,
                legal_basis=legal_basis,
                columns=_columns(columns),
                until=_end_of(until),
                available=available,
            )
        )
    except provisioning.RequestError as exc:
        raise HTTPException(400, detail=exc.message) from None
    return RedirectResponse(f"/provisions?lang={lang}", status_code=303)


@router.post("/provisions/{request_id}/decision", include_in_schema=False)
async def decide_request(
    request_id: int,
    request: Request,
    hub: HubDep,
    policy: PolicyDep,
    person: PersonDep,
    decision: Annotated[str, Form(pattern="^(approve|refuse)$")],
    csrf: Annotated[str, Form(max_length=100)],
    columns: Annotated[str, Form(max_length=2000)] = "",
    until: Annotated[str, Form(max_length=10)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
    lang: Lang = "ko",
) -> Response:
    await run_in_threadpool(permit, request, hub, policy, person, Permission.provisions_decide)
    check_form(request, csrf)
    try:
        await run_in_threadpool(
            lambda: provisioning.decide(
                hub.settings.catalog_url,
                policy,
                person,
                request_id,
                approve=decision == "approve",
                reason=reason,
                columns=_columns(columns) if columns else None,
                until=_end_of(until) if until else None,
            )
        )
    except provisioning.RequestError as exc:
        raise HTTPException(400, detail=exc.message) from None
    return RedirectResponse(f"/provisions?lang={lang}", status_code=303)
