"""A dataset's rows, as granted: JSON pages, or CSV / Parquet streamed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from hub.web.deps import HubDep, client_of
from hub.web.params import FROM, LIMIT, MAX_ROW, TO, ApiKey, Purpose, Since, Version
from hub.web.query import RecordQuery
from hub.web.records import serve_records
from hub.web.schemas import STREAMED, RecordsPage

router = APIRouter()
# A route's docstring becomes its description in /openapi.json: the routes here have none.


@router.get(
    "/api/v1/datasets/{dataset_id}/records",
    summary="A dataset's rows, as granted",
    response_model=RecordsPage,
    responses={200: {"content": STREAMED}},
    description=(
        "JSON pages, or CSV (UTF-8 with BOM) / Parquet streamed batch by batch: without "
        "`limit` the whole version. Any query parameter named after a served column filters "
        "on it (`?gu_code=11680`); `from`/`to` bound the dataset's time column. `version` "
        "reads a published snapshot; `since` answers only what changed after a snapshot "
        "(rows removed, then rows added, in `_change`)."
    ),
)
def records(
    dataset_id: str,
    request: Request,
    hub: HubDep,
    x_api_key: ApiKey = None,
    purpose: Purpose = None,
    columns: Annotated[str | None, Query(description="Comma-separated columns.")] = None,
    format: Annotated[Literal["json", "csv", "parquet"], Query()] = "json",
    limit: Annotated[int | None, Query(ge=1, description=LIMIT)] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_ROW)] = 0,
    version: Version = None,
    since: Since = None,
    start: Annotated[datetime | None, Query(alias="from", description=FROM)] = None,
    end: Annotated[datetime | None, Query(alias="to", description=TO)] = None,
) -> Response:
    wanted = [c for c in (columns or "").split(",") if c] or None
    return serve_records(
        hub.settings,
        hub.spec(dataset_id),
        key=x_api_key,
        purpose=purpose,
        columns=wanted,
        fmt=format,
        limit=limit,
        offset=offset,
        client=client_of(request),
        query=RecordQuery(version=version, since=since, start=start, end=end),
        params=dict(request.query_params),
    )
