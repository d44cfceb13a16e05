"""The hub's web app (FastAPI): the open data map, catalog endpoints, DCAT-AP 3 for harvesters.

``hub serve`` runs it on 127.0.0.1:8000. The sharing API (partners, records) extends it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from cachetools import TTLCache
from fastapi import FastAPI, Form, Header, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from hub.core.settings import HubSettings, get_settings
from hub.web.catalog_view import DatasetCard
from hub.web.schemas import (
    FILES,
    STREAMED,
    DataRequestOut,
    ExportFileOut,
    LineageOut,
    PortalEnvelope,
    RecordsPage,
    RequestFiled,
)

#: Seconds a rendered metadata answer is reused (also its Cache-Control max-age).
METADATA_TTL_S = 2.0


class Refusal(BaseModel):
    """Why a request was not answered with data."""

    detail: str


#: The refusals any route may answer with, documented once for the whole API.
REFUSALS: dict[int | str, dict[str, Any]] = {
    400: {"model": Refusal, "description": "A parameter the dataset cannot answer"},
    401: {"model": Refusal, "description": "No valid API key where one is needed"},
    403: {"model": Refusal, "description": "Not granted (dataset class, purpose, columns)"},
    404: {"model": Refusal, "description": "No such dataset, version or file"},
    429: {"model": Refusal, "description": "The key's quota is used up (see Retry-After)"},
}


class DataRequestIn(BaseModel):
    """A citizen's data request, from the map's form or as JSON."""

    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=4000)
    dataset_id: str | None = Field(default=None, max_length=63)
    contact: str | None = Field(default=None, max_length=200)


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def aware(value: datetime | None) -> datetime | None:
    """A time without an offset is read as UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


LIMIT = "Rows (JSON: 100 by default, at most 10,000; CSV and Parquet: all by default)."
FROM = "The time column at or after this instant (ISO 8601; UTC without an offset)."
TO = "The time column before this instant (ISO 8601; UTC without an offset)."
MAX_ROW = 2**31 - 1  # offsets and page numbers: what every catalog backend's integer holds
SNAPSHOT_ID = {"ge": 0, "le": 2**63 - 1}  # Iceberg snapshot ids are positive 64-bit integers
Version = Annotated[int | None, Query(description="A published version (snapshot id; the "
                                      "catalog's version works too).", **SNAPSHOT_ID)]  # fmt: skip
Since = Annotated[int | None, Query(description="Only the changes after this version.",
                                    **SNAPSHOT_ID)]  # fmt: skip
Lang = Annotated[Literal["ko", "en"], Query(description="Page language.")]


def create_app(settings: HubSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="City Data Hub",
        description="Seoul's open data map and sharing hub: catalog, lineage, DCAT-AP 3.",
        version="1",
        responses=REFUSALS,
    )

    from hub.registry.loader import load_registry
    from products import load_products

    # the feeds and products, read once per app (the YAML only changes with a deployment)
    specs = (load_registry(settings.feeds_dir), load_products())
    migrated: list[bool] = []

    def registry() -> tuple[dict[str, Any], dict[str, Any]]:
        """Feeds and products, with the catalog brought to the current schema on first use."""
        if not migrated:
            from catalog.db import ensure_current

            ensure_current(settings.catalog_url)
            migrated.append(True)
        return specs

    def cards():
        from hub.web.catalog_view import all_cards

        return all_cards(settings.catalog_url, *registry())

    def one(dataset_id: str):
        from hub.web.catalog_view import card

        feeds, products = registry()
        if dataset_id in feeds:
            return card(settings.catalog_url, feeds[dataset_id], "feed")
        if dataset_id in products:
            return card(settings.catalog_url, products[dataset_id], "product")
        raise HTTPException(status_code=404, detail=f"no dataset {dataset_id!r}")

    def lineage(dataset_id: str) -> dict[str, Any]:
        from catalog import lineage as ol

        url = settings.catalog_url
        zones = {f"s3://{bucket}": zone for zone, bucket in settings.buckets.items()}
        centre = f"s3://{settings.bucket('trusted')}/{dataset_id}"
        up, down = ol.upstream(url, centre), ol.downstream(url, centre)
        edges = [list(e) for e in ol.edges_among(url, {centre, *up, *down})]

        def label(name: str) -> str:
            base, _, dataset = name.rpartition("/")
            return f"{zones[base]}.{dataset}" if base in zones else name

        return {"centre": centre, "upstream": up, "downstream": down, "edges": edges,
                "label": label}  # fmt: skip

    @app.get("/", response_class=HTMLResponse, summary="The open data map (HTML)")
    def data_map(lang: Lang = "ko") -> str:
        from hub.web.pages import map_page

        return map_page(cards(), lang)

    @app.get("/datasets/{dataset_id}", response_class=HTMLResponse, summary="A dataset's page")
    def dataset_html(dataset_id: str, lang: Lang = "ko") -> str:
        from hub.web.pages import dataset_page, lineage_svg

        c = one(dataset_id)
        ln = lineage(dataset_id)
        svg = lineage_svg(ln["centre"], ln["upstream"], ln["downstream"], ln["edges"], ln["label"])
        return dataset_page(c, svg, lang)

    rendered: TTLCache[tuple, bytes] = TTLCache(maxsize=512, ttl=METADATA_TTL_S)
    rendering = threading.Lock()

    async def cached_json(key: tuple, make: Callable[[], Any]) -> Response:
        """Metadata rendered once per few seconds: the catalog is read by every portal and
        harvester, and changes only when a run publishes."""
        with rendering:
            body = rendered.get(key)
        if body is None:
            value = await run_in_threadpool(make)
            body = json.dumps(value, ensure_ascii=False, default=str).encode()
            with rendering:
                rendered[key] = body
        return Response(body, media_type="application/json",
                        headers={"Cache-Control": f"max-age={int(METADATA_TTL_S)}"})  # fmt: skip

    @app.get(
        "/api/v1/datasets", summary="Every dataset's metadata (no rows)",
        response_model=list[DatasetCard],
    )  # fmt: skip
    async def list_datasets(
        q: Annotated[str | None, Query(description="Text in the id or title.")] = None,
    ) -> Response:
        def make() -> list[dict[str, Any]]:
            found = [c.as_dict() for c in cards()]
            if q:
                needle = q.lower()
                found = [
                    c for c in found
                    if needle in c["id"] or needle in c["title_ko"] or needle in c["title_en"].lower()
                ]  # fmt: skip
            return found

        return await cached_json(("datasets", q), make)

    @app.get(
        "/api/v1/datasets/{dataset_id}", summary="One dataset's metadata",
        response_model=DatasetCard,
    )  # fmt: skip
    async def get_dataset(dataset_id: str) -> Response:
        return await cached_json(("dataset", dataset_id), lambda: one(dataset_id).as_dict())

    @app.get(
        "/api/v1/datasets/{dataset_id}/lineage", summary="Upstream and downstream datasets",
        response_model=LineageOut,
    )  # fmt: skip
    def get_lineage(dataset_id: str) -> dict[str, Any]:
        one(dataset_id)
        ln = lineage(dataset_id)
        return {k: v for k, v in ln.items() if k != "label"}

    def spec_of(dataset_id: str) -> Any:
        feeds, products = registry()
        spec = feeds.get(dataset_id) or products.get(dataset_id)
        if spec is None:
            raise HTTPException(status_code=404, detail=f"no dataset {dataset_id!r}")
        return spec

    @app.get(
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
        x_api_key: Annotated[str | None, Header(description="The partner's API key.")] = None,
        purpose: Annotated[str | None, Query(description="Why (restricted datasets).")] = None,
        columns: Annotated[str | None, Query(description="Comma-separated columns.")] = None,
        format: Annotated[Literal["json", "csv", "parquet"], Query()] = "json",
        limit: Annotated[int | None, Query(ge=1, description=LIMIT)] = None,
        offset: Annotated[int, Query(ge=0, le=MAX_ROW)] = 0,
        version: Version = None,
        since: Since = None,
        start: Annotated[datetime | None, Query(alias="from", description=FROM)] = None,
        end: Annotated[datetime | None, Query(alias="to", description=TO)] = None,
    ) -> Response:
        from hub.web.query import RecordQuery
        from hub.web.records import serve_records

        spec = spec_of(dataset_id)
        wanted = [c for c in (columns or "").split(",") if c] or None
        return serve_records(
            settings, spec, key=x_api_key, purpose=purpose, columns=wanted, fmt=format,
            limit=limit, offset=offset, client=client_of(request),
            query=RecordQuery(version=version, since=since, start=aware(start), end=aware(end)),
            params=dict(request.query_params),
        )  # fmt: skip

    @app.get(
        "/api/v1/datasets/{dataset_id}/files", summary="Citizen download files",
        response_model=list[ExportFileOut],
    )  # fmt: skip
    def files(
        dataset_id: str,
        version: Version = None,
    ) -> list[dict[str, Any]]:
        from hub.web.catalog_view import files_of

        return files_of(settings.catalog_url, spec_of(dataset_id), version)

    @app.get(
        "/api/v1/datasets/{dataset_id}/files/{fmt}",
        summary="Download one file (CSV with BOM, Parquet or GeoJSON), with its SHA-256",
        response_class=StreamingResponse,
        responses={200: {"content": FILES}},
    )
    def download(
        dataset_id: str,
        fmt: Literal["csv", "parquet", "geojson"],
        request: Request,
        version: Version = None,
        x_api_key: Annotated[str | None, Header(description="The partner's API key.")] = None,
    ) -> Response:
        from hub.web.records import serve_file

        return serve_file(settings, spec_of(dataset_id), fmt=fmt, version=version, key=x_api_key,
                          client=client_of(request))  # fmt: skip

    @app.get(
        "/api/v1/portal/{dataset_id}",
        summary="Records in the data.go.kr envelope, for clients of the national portal",
        response_model=PortalEnvelope,
    )
    def portal(
        dataset_id: str,
        request: Request,
        serviceKey: Annotated[str | None, Query(description="The partner's API key.")] = None,
        pageNo: Annotated[int, Query(ge=1, le=MAX_ROW)] = 1,
        numOfRows: Annotated[int, Query(ge=1, le=10_000)] = 10,
        purpose: Annotated[str | None, Query(description="Why (restricted datasets).")] = None,
    ) -> Response:
        from hub.web.records import serve_portal_page

        return serve_portal_page(
            settings, spec_of(dataset_id), key=serviceKey, purpose=purpose, page=pageNo,
            rows=numOfRows, client=client_of(request),
        )  # fmt: skip

    def file_request(fields: DataRequestIn, lang: str, client: str) -> int:
        from catalog import audit, store
        from catalog.models import DataRequest

        registry()  # the catalog is migrated once the registry is read
        if fields.dataset_id:
            spec_of(fields.dataset_id)
        row = DataRequest(title=fields.title, description=fields.description,
                          dataset_id=fields.dataset_id or None, contact=fields.contact or None,
                          lang=lang, status="received", created_at=store.now())  # fmt: skip
        store.add(settings.catalog_url, row)
        audit.record(settings.catalog_url, "data_request", fields.dataset_id or "catalog",
                     purpose="citizen data request", detail={"request": row.id,
                     "title": fields.title}, who="citizen", origin=client)  # fmt: skip
        return row.id

    @app.post("/requests", response_class=HTMLResponse, summary="The data-request form (HTML)")
    def request_form(
        request: Request, fields: Annotated[DataRequestIn, Form()], lang: Lang = "ko"
    ) -> str:
        from hub.web.pages import request_received

        return request_received(lang, file_request(fields, lang, client_of(request)))

    @app.post(
        "/api/v1/requests", status_code=201, summary="Ask for data the hub does not open",
        response_model=RequestFiled,
    )  # fmt: skip
    def request_api(request: Request, fields: DataRequestIn, lang: Lang = "ko") -> dict[str, Any]:
        return {"id": file_request(fields, lang, client_of(request)), "status": "received"}

    @app.get(
        "/api/v1/requests", summary="Citizens' data requests (without their contacts)",
        response_model=list[DataRequestOut],
    )  # fmt: skip
    def requests_list(
        offset: Annotated[int, Query(ge=0, le=MAX_ROW)] = 0,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[dict[str, Any]]:
        """Free text is published scrubbed of personal data (phone numbers, RRNs, ...)."""
        from sqlalchemy import select

        from catalog.db import session_for
        from catalog.models import DataRequest
        from privacy.scanner import scrub_text

        registry()
        with session_for(settings.catalog_url) as session:
            query = select(DataRequest).order_by(DataRequest.id).offset(offset).limit(limit)
            rows = session.scalars(query)
            return [{"id": r.id, "title": scrub_text(r.title),
                     "description": scrub_text(r.description),
                     "dataset_id": r.dataset_id, "status": r.status,
                     "created_at": r.created_at.isoformat()} for r in rows]  # fmt: skip

    @app.get("/catalog.jsonld", summary="The catalog as DCAT-AP 3 (JSON-LD)")
    def catalog_jsonld() -> JSONResponse:
        from catalog.dcat import dcat_catalog

        doc = dcat_catalog(settings.catalog_url, *registry())
        return JSONResponse(doc, media_type="application/ld+json")

    @app.get("/catalog.schemaorg.jsonld", summary="The catalog as schema.org (JSON-LD)")
    def catalog_schemaorg() -> JSONResponse:
        from catalog.dcat import schemaorg_catalog

        doc = schemaorg_catalog(settings.catalog_url, *registry())
        return JSONResponse(doc, media_type="application/ld+json")

    from hub.web.ngsi_ld import ngsi_router

    app.include_router(ngsi_router(settings, registry))
    app.openapi = lambda: document(app, sorted([*specs[0], *specs[1]]))  # type: ignore[method-assign]
    return app


def document(app: FastAPI, ids: list[str]) -> dict[str, Any]:
    """The OpenAPI document, with the registry's dataset ids listed for ``{dataset_id}``
    (other ids are answered 404, as documented)."""
    if app.openapi_schema is None:
        from fastapi.openapi.utils import get_openapi

        doc = get_openapi(title=app.title, version=app.version, description=app.description,
                          routes=app.routes)  # fmt: skip
        for path in doc["paths"].values():
            for operation in path.values():
                for param in operation.get("parameters", []):
                    if param["name"] == "dataset_id" and param["in"] == "path":
                        param["schema"]["enum"] = ids
        app.openapi_schema = doc
    return app.openapi_schema
