"""Records in the data.go.kr envelope, for clients written for the national portal."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from hub.web.deps import HubDep, client_of
from hub.web.params import MAX_ROW, Purpose
from hub.web.records import serve_portal_page
from hub.web.schemas import PortalEnvelope

router = APIRouter()
# A route's docstring becomes its description in /openapi.json: the routes here have none.


@router.get(
    "/api/v1/portal/{dataset_id}",
    summary="Records in the data.go.kr envelope, for clients of the national portal",
    response_model=PortalEnvelope,
)
def portal(
    dataset_id: str,
    request: Request,
    hub: HubDep,
    serviceKey: Annotated[str | None, Query(description="The partner's API key.")] = None,
    pageNo: Annotated[int, Query(ge=1, le=MAX_ROW)] = 1,
    numOfRows: Annotated[int, Query(ge=1, le=10_000)] = 10,
    purpose: Purpose = None,
) -> Response:
    return serve_portal_page(
        hub.settings,
        hub.spec(dataset_id),
        key=serviceKey,
        purpose=purpose,
        page=pageNo,
        rows=numOfRows,
        client=client_of(request),
    )
