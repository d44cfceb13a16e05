"""The open data map as HTML: the map itself, a page per dataset and the spatial map."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from hub.registry.spec import DatasetSpec
from hub.web.deps import Hub, HubDep, client_of
from hub.web.pages import (
    PREVIEW_ROWS,
    Filters,
    dataset_page,
    lineage_svg,
    map_page,
    preview_of,
    spatial_map_page,
)
from hub.web.params import Lang
from hub.web.query import RecordQuery, newest
from hub.web.records import first_rows, served_table
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
    return hub.indexed_page(  # the catalog of the last METADATA_TTL_S, as the JSON API has it
        ("map", asked.lang, query.model_dump_json()),
        lambda indexed: map_page(
            search(indexed, query), query, [d.card for d in indexed], asked.lang
        ),
    )


@router.get("/datasets/{dataset_id}", response_class=HTMLResponse, summary="A dataset's page")
def dataset_html(
    dataset_id: str,
    request: Request,
    hub: HubDep,
    lang: Lang = "ko",
    filter_column: Annotated[str | None, Query(max_length=63)] = None,
    filter_value: Annotated[str | None, Query(max_length=200)] = None,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
) -> HTMLResponse:
    card, spec = hub.card(dataset_id), hub.spec(dataset_id)
    filters = Filters(filter_column or None, filter_value or None, start, end)
    since, until = filters.instants()
    query = RecordQuery(start=since, end=until)
    read = first_rows(hub.settings, spec, PREVIEW_ROWS, client_of(request), query, filters.equals())
    page = dataset_page(
        card,
        spec,
        lineage_svg(hub.lineage(dataset_id), lang),
        lang,
        base=str(request.base_url),
        preview=None if read is None else preview_of(spec, read, filters, lang),
        filters=filters,
        tiles=hub.settings.map_tiles_url,
        newest=_newest(hub, spec),
    )
    return HTMLResponse(page, status_code=read.status if read else 200)


@router.get("/map", response_class=HTMLResponse, summary="The spatial data map (HTML)")
def spatial_map(hub: HubDep, lang: Lang = "ko", dataset: str | None = None) -> str:
    mapped = [s for s in hub.specs() if s.display.map is not None and s.is_public]
    if dataset is not None and dataset not in {s.id for s in mapped}:
        raise HTTPException(404, f"{dataset!r} is not an open dataset with places to map")
    chosen = next((s for s in mapped if s.id == dataset), mapped[0] if mapped else None)
    newest = _newest(hub, chosen) if chosen else None
    return spatial_map_page(mapped, chosen, lang, hub.settings.map_tiles_url, newest)


def _newest(hub: Hub, spec: DatasetSpec) -> datetime | date | None:
    """The newest value of a drawn dataset's time column (None when nothing is drawn)."""
    if not spec.is_public or not (spec.display.chart or spec.display.map):
        return None
    return newest(served_table(hub.settings, spec), spec.partition.column)
