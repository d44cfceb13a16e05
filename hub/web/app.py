"""The hub's web app (FastAPI): the open data map, catalog endpoints, DCAT-AP 3 for harvesters.

``hub serve`` runs it on 127.0.0.1:8000. The sharing API (partners, records) extends it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from hub.settings import HubSettings, get_settings

Lang = Annotated[Literal["ko", "en"], Query(description="Page language.")]


def create_app(settings: HubSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="City Data Hub",
        description="Seoul's open data map and sharing hub: catalog, lineage, DCAT-AP 3.",
        version="1",
    )

    loaded: list[tuple[dict[str, Any], dict[str, Any]]] = []

    def registry() -> tuple[dict[str, Any], dict[str, Any]]:
        """Feeds and products, read once per app (the YAML only changes with a deployment)."""
        if not loaded:
            from catalog.db import ensure_current
            from hub.registry.loader import load_registry
            from products import load_products

            ensure_current(settings.catalog_url)
            loaded.append((load_registry(settings.feeds_dir), load_products()))
        return loaded[0]

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

    @app.get("/api/v1/datasets", summary="Every dataset's metadata (no rows)")
    def list_datasets(
        q: Annotated[str | None, Query(description="Text in the id or title.")] = None,
    ) -> list[dict[str, Any]]:
        found = [c.as_dict() for c in cards()]
        if q:
            needle = q.lower()
            found = [
                c for c in found
                if needle in c["id"] or needle in c["title_ko"] or needle in c["title_en"].lower()
            ]  # fmt: skip
        return found

    @app.get("/api/v1/datasets/{dataset_id}", summary="One dataset's metadata")
    def get_dataset(dataset_id: str) -> dict[str, Any]:
        return one(dataset_id).as_dict()

    @app.get("/api/v1/datasets/{dataset_id}/lineage", summary="Upstream and downstream datasets")
    def get_lineage(dataset_id: str) -> dict[str, Any]:
        one(dataset_id)
        ln = lineage(dataset_id)
        return {k: v for k, v in ln.items() if k != "label"}

    @app.get("/api/v1/datasets/{dataset_id}/records", summary="A dataset's rows, as granted")
    def records(
        dataset_id: str,
        request: Request,
        x_api_key: Annotated[str | None, Header(description="The partner's API key.")] = None,
        purpose: Annotated[str | None, Query(description="Why (restricted datasets).")] = None,
        columns: Annotated[str | None, Query(description="Comma-separated columns.")] = None,
        format: Annotated[Literal["json", "csv"], Query()] = "json",
        limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> Response:
        from hub.web.records import serve_records

        feeds, products = registry()
        spec = feeds.get(dataset_id) or products.get(dataset_id)
        if spec is None:
            raise HTTPException(status_code=404, detail=f"no dataset {dataset_id!r}")
        wanted = [c for c in (columns or "").split(",") if c] or None
        return serve_records(
            settings, spec, key=x_api_key, purpose=purpose, columns=wanted, fmt=format,
            limit=limit, offset=offset,
            client=request.client.host if request.client else "unknown",
        )  # fmt: skip

    @app.get(
        "/api/v1/portal/{dataset_id}",
        summary="Records in the data.go.kr envelope, for clients of the national portal",
    )
    def portal(
        dataset_id: str,
        request: Request,
        serviceKey: Annotated[str | None, Query(description="The partner's API key.")] = None,
        pageNo: Annotated[int, Query(ge=1)] = 1,
        numOfRows: Annotated[int, Query(ge=1, le=10_000)] = 10,
        purpose: Annotated[str | None, Query(description="Why (restricted datasets).")] = None,
    ) -> Response:
        from hub.web.records import serve_portal_page

        feeds, products = registry()
        spec = feeds.get(dataset_id) or products.get(dataset_id)
        if spec is None:
            raise HTTPException(status_code=404, detail=f"no dataset {dataset_id!r}")
        return serve_portal_page(
            settings, spec, key=serviceKey, purpose=purpose, page=pageNo, rows=numOfRows,
            client=request.client.host if request.client else "unknown",
        )  # fmt: skip

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

    return app
