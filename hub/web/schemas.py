"""The shapes of the web API's requests and answers, as documented in /openapi.json (and
checked against it by the Schemathesis test)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from hub.web.catalog_view import DatasetCard


class Refusal(BaseModel):
    """Why a request was not answered with data."""

    detail: str


#: The refusals any route may answer with, documented once for the whole API.
REFUSALS: dict[int | str, dict[str, Any]] = {
    400: {"model": Refusal, "description": "A parameter the dataset cannot answer"},
    401: {"model": Refusal, "description": "No valid API key where one is needed"},
    403: {"model": Refusal, "description": "Not granted (dataset class, purpose, columns)"},
    404: {"model": Refusal, "description": "No such dataset, version or file"},
    429: {
        "model": Refusal,
        "description": "A key's quota, an address's rate or its data requests used up (see Retry-After)",
    },
}


class DataRequestIn(BaseModel):
    """A citizen's data request, from the map's form or as JSON."""

    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=4000)
    dataset_id: str | None = Field(default=None, max_length=63)
    contact: str | None = Field(default=None, max_length=200)


class RecordsPage(BaseModel):
    """One JSON page of a dataset's rows."""

    dataset: str
    version: int | None = Field(description="The snapshot the rows come from.")
    since: int | None = Field(description="With ?since=: rows carry `_change`.")
    offset: int
    rows: int
    items: list[dict[str, Any]]


class ExportFileOut(BaseModel):
    """A citizen download file of one published version."""

    format: str
    version: int
    rows: int
    bytes: int
    sha256: str = Field(pattern="^[0-9a-f]{64}$")
    media_type: str
    url: str
    created_at: str


class LineageOut(BaseModel):
    centre: str
    upstream: dict[str, int] = Field(description="Dataset -> hops upstream.")
    downstream: dict[str, int] = Field(description="Dataset -> hops downstream.")
    edges: list[list[str]]


class PortalHeader(BaseModel):
    """The portal's own field names (camelCase), which its clients read."""

    resultCode: str
    resultMsg: str


class PortalBody(BaseModel):
    items: list[dict[str, Any]]
    numOfRows: int
    pageNo: int
    totalCount: int


class PortalResponse(BaseModel):
    header: PortalHeader
    body: PortalBody


class PortalEnvelope(BaseModel):
    """The national portal's envelope: errors too are answered with HTTP 200."""

    response: PortalResponse


class RequestFiled(BaseModel):
    id: int
    status: str


class DataRequestOut(BaseModel):
    """A citizen's request as the public sees it (the contact stays in the catalog)."""

    id: int
    title: str
    description: str
    dataset_id: str | None
    status: str
    created_at: str


#: Streamed bodies the records and download routes may answer with.
STREAMED = {
    "text/csv": {"schema": {"type": "string"}},
    "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}},
}
FILES = {**STREAMED, "application/geo+json": {"schema": {"type": "object"}}}


class FacetCount(BaseModel):
    value: str
    count: int


class SearchOut(BaseModel):
    """A search's datasets in order, and for each facet the datasets each value would give."""

    total: int
    results: list[DatasetCard]
    facets: dict[str, list[FacetCount]]
