"""The catalog's metadata as JSON: every dataset, one dataset, and its lineage. No rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from hub.web.catalog_view import DatasetCard
from hub.web.deps import METADATA_TTL_S, Hub, HubDep
from hub.web.schemas import LineageOut

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


@router.get(
    "/api/v1/datasets",
    summary="Every dataset's metadata (no rows)",
    response_model=list[DatasetCard],
)
async def list_datasets(
    hub: HubDep,
    q: Annotated[str | None, Query(description="Text in the id or title.")] = None,
) -> Response:
    def make() -> list[dict[str, Any]]:
        found = [c.as_dict() for c in hub.cards()]
        if q:
            needle = q.lower()
            found = [
                c
                for c in found
                if needle in c["id"] or needle in c["title_ko"] or needle in c["title_en"].lower()
            ]
        return found

    return await cached_json(hub, ("datasets", q), make)


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
