"""Citizens' data requests: filed from the map's form (answered in HTML) or as JSON, and
listed for everyone (scrubbed of personal data, without the contacts)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from catalog import audit, entries
from catalog.db import session_for
from catalog.models import AuditEntry, DataRequest
from hub.core.time import utc_now
from hub.web.deps import Hub, HubDep, client_of
from hub.web.pages import request_received
from hub.web.params import MAX_ROW, Lang
from hub.web.schemas import DataRequestIn, DataRequestOut, RequestFiled
from privacy.scanner import scrub_text

router = APIRouter()
# A route's docstring becomes its description in /openapi.json: only requests_list has one.


#: Data requests one address may file in an hour: a citizen files a few, a script thousands.
PER_ADDRESS_PER_HOUR = 10


def _too_many(url: str, client: str) -> int:
    """Seconds until ``client`` may file again (0: now), counted from the audit log, which
    every web worker shares."""
    since = utc_now() - timedelta(hours=1)
    with session_for(url) as session:
        recent = list(
            session.scalars(
                select(AuditEntry.at)
                .where(AuditEntry.action == "data_request", AuditEntry.origin == client)
                .where(AuditEntry.at >= since)
                .order_by(AuditEntry.at.desc())
                .limit(PER_ADDRESS_PER_HOUR)
            )
        )
    if len(recent) < PER_ADDRESS_PER_HOUR:
        return 0
    return max(1, int((recent[-1] + timedelta(hours=1) - utc_now()).total_seconds()))


def file_request(hub: Hub, fields: DataRequestIn, lang: str, client: str) -> int:
    """Store a request in the catalog and the audit log; its number. 404 for an unknown
    dataset named in it; 429 for an address that filed too many in the last hour."""
    url = hub.settings.catalog_url
    hub.registry()  # the catalog is migrated once the registry is read
    wait = _too_many(url, client)
    if wait:
        raise HTTPException(
            429,
            detail=f"{PER_ADDRESS_PER_HOUR} requests an hour from one address; try in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    if fields.dataset_id:
        hub.spec(fields.dataset_id)
    row = DataRequest(
        title=fields.title,
        description=fields.description,
        dataset_id=fields.dataset_id or None,
        contact=fields.contact or None,
        lang=lang,
        status="received",
        created_at=utc_now(),
    )
    entries.add(url, row)
    audit.record(
        url,
        "data_request",
        fields.dataset_id or "catalog",
        purpose="citizen data request",
        detail={"request": row.id, "title": fields.title},
        who="citizen",
        origin=client,
    )
    return row.id


@router.post("/requests", response_class=HTMLResponse, summary="The data-request form (HTML)")
def request_form(
    request: Request, fields: Annotated[DataRequestIn, Form()], hub: HubDep, lang: Lang = "ko"
) -> str:
    return request_received(lang, file_request(hub, fields, lang, client_of(request)))


@router.post(
    "/api/v1/requests",
    status_code=201,
    summary="Ask for data the hub does not open",
    response_model=RequestFiled,
)
def request_api(
    request: Request, fields: DataRequestIn, hub: HubDep, lang: Lang = "ko"
) -> dict[str, Any]:
    return {"id": file_request(hub, fields, lang, client_of(request)), "status": "received"}


@router.get(
    "/api/v1/requests",
    summary="Citizens' data requests (without their contacts)",
    response_model=list[DataRequestOut],
)
def requests_list(
    hub: HubDep,
    offset: Annotated[int, Query(ge=0, le=MAX_ROW)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    """Free text is published scrubbed of personal data (phone numbers, RRNs, ...)."""
    hub.registry()
    with session_for(hub.settings.catalog_url) as session:
        query = select(DataRequest).order_by(DataRequest.id).offset(offset).limit(limit)
        rows = session.scalars(query)
        return [
            {
                "id": r.id,
                "title": scrub_text(r.title),
                "description": scrub_text(r.description),
                "dataset_id": r.dataset_id,
                "status": r.status,
                "created_at": r.created_at.isoformat(),
            }
            for r in rows
        ]
