"""``/ngsi-ld/v1``: the public feeds that declare ``ngsi_ld``, as a read-only context broker.
Every answer is authorized, audited and registered as the sharing API's are."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from catalog import audit
from hub.core.settings import HubSettings
from hub.registry.spec import FeedSpec
from hub.web.deps import Hub, HubDep, client_of
from hub.web.ngsi_ld.errors import NgsiError, ProblemDetails, bad
from hub.web.ngsi_ld.params import (
    ApiKey,
    Ask,
    OptionsParam,
    Span,
    one_params,
    query_params,
    shape,
    single,
    span_params,
)
from hub.web.ngsi_ld.reading import DISTANCE, Read, read, sources
from hub.web.ngsi_ld.rendering import Entity, entity, respond, temporal_entities
from hub.web.records import record_refusal, served


class NgsiRoute(APIRoute):
    """A route whose bad parameters answer 400 BadRequestData, as NGSI-LD wants (not
    FastAPI's 422), and whose every refusal is in the audit log."""

    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                why = "; ".join(
                    f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'request'}: {e.get('msg')}"
                    for e in exc.errors()
                )
                error = bad(why, "Invalid request parameters")
            except NgsiError as exc:
                error = exc
            if not error.audited:
                hub: Hub = request.app.state.hub
                await run_in_threadpool(_audit_refusal, hub.settings, request, error)
            return error.response()

        return route


def _audit_refusal(settings: HubSettings, request: Request, error: NgsiError) -> None:
    """A request refused before any dataset was chosen (bad parameters)."""
    audit.record(
        settings.catalog_url,
        "api_refused",
        "ngsi-ld",
        purpose="",
        detail={
            "ngsi_ld": request.url.path,
            "query": str(request.query_params),
            "status": error.status,
            "reason": error.detail,
        },
        who="anonymous",
        origin=client_of(request),
    )


def _docs(many: bool) -> dict[int | str, dict[str, Any]]:
    """OpenAPI: entities as JSON or JSON-LD, errors as ProblemDetails."""
    ref: dict[str, Any] = {"$ref": "#/components/schemas/Entity"}
    schema = {"type": "array", "items": ref} if many else ref
    headers = {
        "Link": {
            "description": "The JSON-LD @context (JSON answers).",
            "schema": {"type": "string"},
        }
    }
    if many:
        headers["NGSILD-Results-Count"] = {
            "description": "Matching entities (count=true).",
            "schema": {"type": "integer"},
        }
    docs: dict[int | str, dict[str, Any]] = {
        200: {
            "model": list[Entity] if many else Entity,
            "headers": headers,
            "content": {"application/ld+json": {"schema": schema}},
        },
    }
    reasons = {
        400: "Bad request data",
        401: "Unknown, expired or revoked API key",
        403: "Not served (non-public, no grant)",
        404: "No such entity",
        422: "Operation not supported",
        429: "Quota used up (see Retry-After)",
    }
    for status, reason in reasons.items():
        docs[status] = {"model": ProblemDetails, "description": reason}
    return docs


def _read_all(
    settings: HubSettings, feeds: dict[str, FeedSpec], request: Request, ask: Ask, key: str | None
) -> tuple[list[Read], dict[str, dict[str, Any]]]:
    """Every matching source's rows, and what was asked of each (for its audit entry)."""
    details: dict[str, dict[str, Any]] = {}
    reads: list[Read] = []
    for source in (s for s in sources(feeds) if s.matches(ask)):
        details[source.spec.id] = {"ngsi_ld": request.url.path, **ask.raw}
        got = read(settings, source, ask, key, client_of(request), details[source.spec.id])
        if got is not None:
            reads.append(got)
    return reads, details


def _order(reads: list[Read], ask: Ask) -> list[tuple[Any, int, Any]]:
    """Every entity of the answer as (sort key, read, row or entity id), in answer order:
    by id, or nearest first for a near query."""
    keys: list[tuple[Any, int, Any]] = []
    for r, one in enumerate(reads):
        ids = one.data.column(one.source.ngsi.id).to_pylist()
        if ask.temporal:
            keys += [(entity_id, r, entity_id) for entity_id in set(ids)]
        elif ask.geo:
            metres = one.data.column(DISTANCE).to_pylist()
            keys += [((metres[i], entity_id), r, i) for i, entity_id in enumerate(ids)]
        else:
            keys += [(entity_id, r, i) for i, entity_id in enumerate(ids)]
    keys.sort(key=lambda k: (k[0], k[1]))
    return keys


def _build(reads: list[Read], page: list[tuple[Any, int, Any]], ask: Ask) -> list[dict[str, Any]]:
    """The entities of one page, in its order; counts what each read serves."""
    built: dict[tuple[int, Any], dict[str, Any]] = {}
    for r, one in enumerate(reads):
        mine = [k[2] for k in page if k[1] == r]
        if not mine:
            continue
        if ask.temporal:
            for shaped in temporal_entities(one, mine, ask):
                built[r, shaped["id"]] = shaped
        else:
            rows = one.data.take(mine).to_pylist()
            built.update(
                ((r, i), entity(one.source, row, ask)) for i, row in zip(mine, rows, strict=True)
            )
            one.served = len(mine)
    return [built[k[1], k[2]] for k in page if (k[1], k[2]) in built]


def _register(
    settings: HubSettings,
    request: Request,
    ask: Ask,
    reads: list[Read],
    details: dict[str, dict[str, Any]],
    single_id: str | None,
    found: bool,
) -> None:
    """The audit log and the provision register: each source served (or, for one entity
    not found, refused); a query no dataset holds is logged all the same."""
    client = client_of(request)
    if not reads and single_id is None:  # no dataset holds such entities: an empty answer
        audit.record(
            settings.catalog_url,
            "api_pull",
            "ngsi-ld",
            purpose="",
            detail={"ngsi_ld": request.url.path, **ask.raw, "rows": 0},
            who="anonymous",
            origin=client,
        )
    for one in reads:
        detail = details[one.source.spec.id]
        if single_id is not None and not found:
            record_refusal(
                settings,
                one.source.spec,
                one.decision,
                404,
                f"no entity {single_id}",
                client=client,
                detail=detail,
            )
            continue
        served(
            settings,
            one.source.spec,
            one.decision,
            rows=one.served,
            snapshot=one.snapshot,
            client=client,
            detail=detail,
            channel="ngsi-ld",
            action="api_pull",
        )


def answer(
    hub: Hub, request: Request, ask: Ask, key: str | None, *, single_id: str | None = None
) -> Response:
    """Authorize, read, shape, audit and register one NGSI-LD query."""
    feeds, _ = hub.registry()
    reads, details = _read_all(hub.settings, feeds, request, ask, key)
    keys = _order(reads, ask)
    page = keys[min(ask.offset, len(keys)) :][: ask.limit]
    body = _build(reads, page, ask)
    _register(hub.settings, request, ask, reads, details, single_id, found=bool(body))
    if single_id is not None:
        if not body:
            raise NgsiError(
                404,
                "ResourceNotFound",
                "Entity not found",
                f"no entity {single_id} (or none of the attributes asked for)",
                audited=bool(reads),
            )
        return respond(request, body[0], None)
    return respond(request, body, len(keys) if ask.count else None)


router = APIRouter(prefix="/ngsi-ld/v1", tags=["NGSI-LD"], route_class=NgsiRoute)
# A route's docstring becomes its description in /openapi.json: the routes here have none.


@router.get(
    "/entities",
    summary="Entities (current state) by type, id, attrs, q, near",
    response_model=None,
    responses=_docs(True),
)
def query_entities(
    request: Request,
    hub: HubDep,
    ask: Annotated[Ask, Depends(query_params)],
    options: OptionsParam = None,
    x_api_key: ApiKey = None,
) -> Response:
    return answer(hub, request, shape(ask, options), x_api_key)


@router.get(
    "/entities/{entityId}",
    summary="One entity (current state)",
    response_model=None,
    responses=_docs(False),
)
def retrieve_entity(
    entityId: str,
    request: Request,
    hub: HubDep,
    ask: Annotated[Ask, Depends(one_params)],
    options: OptionsParam = None,
    x_api_key: ApiKey = None,
) -> Response:
    ask = single(entityId, shape(ask, options))
    return answer(hub, request, ask, x_api_key, single_id=entityId)


@router.get(
    "/temporal/entities",
    summary="Entities' history (temporal representation)",
    response_model=None,
    responses=_docs(True),
)
def query_temporal(
    request: Request,
    hub: HubDep,
    ask: Annotated[Ask, Depends(query_params)],
    span: Annotated[Span, Depends(span_params)],
    options: OptionsParam = None,
    x_api_key: ApiKey = None,
) -> Response:
    return answer(hub, request, shape(ask, options, span), x_api_key)


@router.get(
    "/temporal/entities/{entityId}",
    summary="One entity's history",
    response_model=None,
    responses=_docs(False),
)
def retrieve_temporal(
    entityId: str,
    request: Request,
    hub: HubDep,
    ask: Annotated[Ask, Depends(one_params)],
    span: Annotated[Span, Depends(span_params)],
    options: OptionsParam = None,
    x_api_key: ApiKey = None,
) -> Response:
    ask = single(entityId, shape(ask, options, span))
    return answer(hub, request, ask, x_api_key, single_id=entityId)
