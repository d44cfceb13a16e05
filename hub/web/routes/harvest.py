"""The catalog for harvesters: DCAT-AP 3 for data portals, schema.org for search engines."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from catalog.dcat import dcat_catalog, schemaorg_catalog
from hub.web.deps import HubDep

router = APIRouter()
# A route's docstring becomes its description in /openapi.json: the routes here have none.


@router.get("/catalog.jsonld", summary="The catalog as DCAT-AP 3 (JSON-LD)")
def catalog_jsonld(hub: HubDep) -> JSONResponse:
    doc = dcat_catalog(hub.settings.catalog_url, *hub.registry())
    return JSONResponse(doc, media_type="application/ld+json")


@router.get("/catalog.schemaorg.jsonld", summary="The catalog as schema.org (JSON-LD)")
def catalog_schemaorg(hub: HubDep) -> JSONResponse:
    doc = schemaorg_catalog(hub.settings.catalog_url, *hub.registry())
    return JSONResponse(doc, media_type="application/ld+json")
