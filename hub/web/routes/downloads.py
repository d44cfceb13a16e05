"""Citizen download files: the list of a version's files, and one file streamed."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from hub.web.catalog_view import files_of
from hub.web.deps import HubDep, client_of
from hub.web.params import ApiKey, Version
from hub.web.records import serve_file
from hub.web.schemas import FILES, ExportFileOut

router = APIRouter()
# A route's docstring becomes its description in /openapi.json: the routes here have none.


@router.get(
    "/api/v1/datasets/{dataset_id}/files",
    summary="Citizen download files",
    response_model=list[ExportFileOut],
)
def files(
    dataset_id: str,
    hub: HubDep,
    version: Version = None,
) -> list[dict[str, Any]]:
    return files_of(hub.settings.catalog_url, hub.spec(dataset_id), version)


@router.get(
    "/api/v1/datasets/{dataset_id}/files/{fmt}",
    summary="Download one file (CSV with BOM, Parquet or GeoJSON), with its SHA-256",
    response_class=StreamingResponse,
    responses={200: {"content": FILES}},
)
def download(
    dataset_id: str,
    fmt: Literal["csv", "parquet", "geojson"],
    request: Request,
    hub: HubDep,
    version: Version = None,
    x_api_key: ApiKey = None,
) -> Response:
    return serve_file(
        hub.settings,
        hub.spec(dataset_id),
        fmt=fmt,
        version=version,
        key=x_api_key,
        client=client_of(request),
    )
