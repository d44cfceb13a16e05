"""The open data map as HTML: the map itself and a page per dataset."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from hub.web.deps import HubDep
from hub.web.pages import dataset_page, lineage_svg, map_page
from hub.web.params import Lang

router = APIRouter()
# A route's docstring becomes its description in /openapi.json: the routes here have none.


@router.get("/", response_class=HTMLResponse, summary="The open data map (HTML)")
def data_map(hub: HubDep, lang: Lang = "ko") -> str:
    return map_page(hub.cards(), lang)


@router.get("/datasets/{dataset_id}", response_class=HTMLResponse, summary="A dataset's page")
def dataset_html(dataset_id: str, hub: HubDep, lang: Lang = "ko") -> str:
    card = hub.card(dataset_id)
    graph = lineage_svg(hub.lineage(dataset_id))
    return dataset_page(card, graph, lang, public=hub.spec(dataset_id).is_public)
