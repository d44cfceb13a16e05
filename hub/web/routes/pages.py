"""The open data map as HTML: the map itself and a page per dataset."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from hub.web.deps import HubDep
from hub.web.pages import dataset_page, lineage_svg, map_page
from hub.web.params import Lang
from hub.web.search import SearchQuery, search

router = APIRouter()
# A route's docstring becomes its description in /openapi.json: the routes here have none.


class MapQuery(SearchQuery):
    """The map's search and the page's language (FastAPI reads query parameters into one
    model only when it is the route's only query parameter)."""

    lang: Literal["ko", "en"] = "ko"


@router.get("/", response_class=HTMLResponse, summary="The open data map (HTML)")
def data_map(hub: HubDep, asked: Annotated[MapQuery, Query()]) -> str:
    query = SearchQuery.model_validate(asked.model_dump(exclude={"lang"}))
    indexed = hub.indexed()  # the catalog of the last METADATA_TTL_S, as the JSON API has it
    return map_page(search(indexed, query), query, [d.card for d in indexed], asked.lang)


@router.get("/datasets/{dataset_id}", response_class=HTMLResponse, summary="A dataset's page")
def dataset_html(dataset_id: str, hub: HubDep, lang: Lang = "ko") -> str:
    card = hub.card(dataset_id)
    graph = lineage_svg(hub.lineage(dataset_id))
    return dataset_page(card, graph, lang, public=hub.spec(dataset_id).is_public)
