"""The catalog's metadata as JSON: every dataset, one dataset, and its lineage. No rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from hub.web.catalog_view import DatasetCard
from hub.web.deps import METADATA_TTL_S, Hub, HubDep, as_json
from hub.web.schemas import LineageOut, SearchOut
from hub.web.search import SearchQuery

router = APIRouter()
# A route's docstring becomes its description in /openapi.json: the routes here have none.


async def cached_json(hub: Hub, key: tuple[Any, ...], make: Callable[[], Any]) -> Response:
    """Metadata rendered once per few seconds: the catalog is read by every portal and
    harvester, and changes only when a run publishes."""
    return Response(
        await hub.rendered(key, make),
        media_type="application/json",
        headers={"Cache-Control": f"max-age={int(METADATA_TTL_S)}"},
    )


Search = Annotated[SearchQuery, Query()]


@router.get(
    "/api/v1/datasets",
    summary="Every dataset's metadata (no rows), or those a search finds",
    response_model=list[DatasetCard],
)
async def list_datasets(hub: HubDep, query: Search) -> Response:
    if query == SearchQuery():  # the whole catalog, as harvesters read it (never paged)
        return await cached_json(hub, ("datasets",), lambda: [c.as_dict() for c in hub.cards()])
    found = await run_in_threadpool(hub.search, query)
    return Response(as_json([c.as_dict() for c in found.cards]), media_type="application/json")


@router.get(
    "/api/v1/search",
    summary="Search datasets: words in Korean or English, facets with counts",
    response_model=SearchOut,
)
async def search_datasets(hub: HubDep, query: Search) -> Response:
    found = await run_in_threadpool(hub.search, query)
    body = {
        "total": found.total,
        "results": [c.as_dict() for c in found.cards],
        "facets": {
            name: [{"value": v, "count": n} for v, n in counts]
            for name, counts in found.facets.items()
        },
    }
    return Response(as_json(body), media_type="application/json")


@router.get(
    "/api/v1/datasets/{dataset_id}",
    summary="One dataset's metadata",
    response_model=DatasetCard,
)
async def get_dataset(dataset_id: str, hub: HubDep) -> Response:
    return await cached_json(hub, ("dataset", dataset_id), lambda: hub.card(dataset_id).as_dict())


@router.get(
    "/api/v1/datasets/{dataset_id}/lineage",
    summary="Upstream and downstream datasets",
    response_model=LineageOut,
)
def get_lineage(dataset_id: str, hub: HubDep) -> dict[str, Any]:
    hub.spec(dataset_id)  # 404 for an unknown id
    return hub.lineage(dataset_id).as_dict()
