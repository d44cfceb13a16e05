"""Provision requests on the web: a partner's person files one and follows its status; the
personal-data manager or protection officer decides it (approve, narrow, refuse with a reason)
and revokes grants. The rules live in ``catalog.provisioning``; here are the forms."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from catalog import provisioning, signins
from hub.registry.roles import Permission
from hub.registry.spec import AccessClass
from hub.web.access import SIGNIN_COOKIE, PersonDep, PolicyDep, check_form, permit
from hub.web.deps import Hub, HubDep
from hub.web.params import Lang
from hub.web.templating import N_, respond

router = APIRouter()
# Pages for people, not machines: left out of /openapi.json.

#: A request's status in words (catalog words).
STATUS = {
    provisioning.FILED: N_("filed"),
    provisioning.APPROVED: N_("approved"),
    provisioning.NARROWED: N_("approved, narrowed"),
    provisioning.REFUSED: N_("refused"),
}


def _restricted(hub: Hub) -> dict[str, list[str]]:
    """The datasets a partner can ask for, with their columns."""
    feeds, products = hub.registry()
    return {
        id_: [f.name for f in spec.published_fields]
        for id_, spec in {**feeds, **products}.items()
        if spec.access_class is AccessClass.restricted
    }


@router.get("/provisions", response_class=HTMLResponse, include_in_schema=False)
async def provisions_page(
    request: Request, hub: HubDep, policy: PolicyDep, person: PersonDep, lang: Lang = "ko"
) -> Response:
    readers = (Permission.provisions_own, Permission.provisions_decide, Permission.registers_read)
    if not any(policy.allows(person.roles, p) for p in readers):  # audited, then 303 or 403
        await run_in_threadpool(permit, request, hub, policy, person, Permission.provisions_own)
    url = hub.settings.catalog_url
    rows = await run_in_threadpool(provisioning.requests, url, policy, person)
    shown = [
        {
            **{c: getattr(r, c) for c in ("id", "partner_id", "dataset_id", "purpose")},
            **{c: getattr(r, c) for c in ("legal_basis", "status", "decided_by", "reason")},
            "columns": json.loads(r.columns),
            "until": r.until.date().isoformat(),
        }
        for r in rows
    ]
    asks = policy.allows(person.roles, Permission.provisions_request)
    return respond(
        request,
        "provisions.html",
        lang,
        N_("Provision requests"),
        rows=shown,
        csrf=signins.csrf_token(request.cookies.get(SIGNIN_COOKIE, "")),
        decides=policy.allows(person.roles, Permission.provisions_decide),
        datasets=list(_restricted(hub).items()) if asks else [],
        STATUS=STATUS,
        FILED=provisioning.FILED,
    )


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
