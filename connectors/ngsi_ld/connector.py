"""Paging through an NGSI-LD broker's entities and flattening them into records.

Each page (a JSON array of normalized entities) is landed as sent. ``read`` flattens each
entity: a Property becomes its value (``@value`` of a typed literal), a GeoProperty point
becomes ``<name>_lon`` and ``<name>_lat``, a Relationship becomes its target ``object``.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pyarrow as pa

from connectors.base import FetchContext, FetchResult, Sink, expand_env, keep_evidence
from connectors.http_common import sender
from connectors.ngsi_ld.config import NgsiLdConfig
from connectors.records import records_table
from connectors.redaction import redact_url
from hub.core.delivery import RawPart
from hub.core.errors import DeliveryError, TransientDeliveryError

log = logging.getLogger(__name__)

CONFIG = NgsiLdConfig


def _problem(response: httpx.Response) -> str:
    """NGSI-LD errors are problem details: say their type, title and detail."""
    try:
        doc = response.json()
        return f"{doc.get('type', '').rsplit('/', 1)[-1]} {doc.get('title', '')}: {doc.get('detail', '')}".strip()
    except ValueError:
        return repr(response.text[:200])


def fetch(config: NgsiLdConfig, ctx: FetchContext, sink: Sink) -> FetchResult:
    """Land every page of entities for the window.

    Raises:
        DeliveryError: the broker refused the query (4xx) or answered something unusable.
        TransientDeliveryError: 5xx/429/time-outs persisted, or the count changed while paging.
    """
    base = expand_env(config.url, feed_id=ctx.feed_id, what="delivery.options.url").rstrip("/")
    tz = ZoneInfo(ctx.timezone)
    window = {"start": ctx.window.start.astimezone(tz), "end": ctx.window.end.astimezone(tz)}
    params: dict[str, Any] = {"type": config.entity_type, "count": "true", "limit": config.limit}
    if config.q:
        params["q"] = config.q.format(**window)
    headers = {"Accept": "application/json"}
    secrets = []
    if config.context:
        headers["Link"] = (
            f'<{config.context}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
        )
    if config.tenant:
        headers["NGSILD-Tenant"] = config.tenant
    if config.token:
        token = expand_env(config.token, feed_id=ctx.feed_id, what="delivery.options.token")
        headers["Authorization"] = f"Bearer {token}"
        secrets.append(token)

    send = sender(
        config.max_attempts, config.backoff_max_s, config.retry_budget_s, config.timeout_s
    )
    result = FetchResult()
    total: int | None = None
    seen = 0
    with httpx.Client(timeout=config.timeout_s, headers=headers) as client:
        for page in range(config.max_pages):
            request = httpx.Request(
                "GET",
                f"{base}/ngsi-ld/v1/entities",
                params={**params, "offset": page * config.limit},
            )
            where = f"feed {ctx.feed_id}: GET {redact_url(str(request.url), secrets)}"
            response = send(client, request, where, _problem)
            try:
                entities = _entities(response.content, where)
                count = _results_count(response.headers.get("NGSILD-Results-Count"), where)
            except DeliveryError:
                keep_evidence(
                    sink,
                    f"page-{page + 1:05d}.unusable",
                    response.content,
                    response.headers.get("content-type", "application/octet-stream"),
                    redact_url(str(request.url), secrets),
                )
                raise
            if count is not None:
                if total is not None and count != total:
                    raise TransientDeliveryError(
                        f"{where}: NGSILD-Results-Count changed from {total} to {count} while paging; retry later"
                    )
                total = count
            if entities:
                sink(
                    RawPart(
                        f"page-{page + 1:05d}.json",
                        response.content,
                        "application/json",
                        redact_url(str(request.url), secrets),
                        len(entities),
                    )
                )
                result.parts += 1
            seen += len(entities)
            if len(entities) < config.limit or (total is not None and seen >= total):
                break
        else:
            raise DeliveryError(f"feed {ctx.feed_id}: more than max_pages={config.max_pages} pages")
    if total is not None and seen != total:
        raise DeliveryError(
            f"feed {ctx.feed_id}: the broker counted {total} entities but sent {seen}"
        )
    result.rows_reported = seen
    return result


def _entities(body: bytes, where: str) -> list[Any]:
    try:
        entities = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise DeliveryError(f"{where}: answered malformed JSON ({exc})") from None
    if not isinstance(entities, list):
        raise DeliveryError(f"{where}: expected a JSON array of entities")
    return entities


def _results_count(header: str | None, where: str) -> int | None:
    """The broker's ``NGSILD-Results-Count``: a non-negative integer, or a clear refusal."""
    if header is None:
        return None
    try:
        count = int(header.strip())
    except ValueError:
        count = -1
    if count < 0:
        raise DeliveryError(
            f"{where}: the broker's NGSILD-Results-Count header is not a count: {header[:40]!r}"
        )
    return count


def flatten(entity: dict[str, Any]) -> dict[str, Any]:
    """One normalized NGSI-LD entity as a flat record."""
    record: dict[str, Any] = {"id": entity.get("id"), "type": entity.get("type")}
    for name, attr in entity.items():
        if name in ("id", "type", "@context") or not isinstance(attr, dict):
            continue
        kind = attr.get("type")
        if kind == "Relationship":
            record[name] = attr.get("object")
        elif kind == "GeoProperty":
            geometry = attr.get("value") or {}
            if geometry.get("type") == "Point":
                record[f"{name}_lon"], record[f"{name}_lat"] = geometry.get(
                    "coordinates", [None, None]
                )[:2]
        else:
            value = attr.get("value")
            record[name] = (
                value.get("@value") if isinstance(value, dict) and "@value" in value else value
            )
    return record


def read(config: NgsiLdConfig, data: bytes, *, name: str) -> pa.Table:
    """One landed page of entities as a table of flat records.

    Raises:
        DeliveryError: the page is not a JSON array of entities.
    """
    try:
        entities = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise DeliveryError(f"{name}: not JSON ({exc})") from None
    if not isinstance(entities, list):
        raise DeliveryError(f"{name}: not a JSON array of entities")
    return records_table([flatten(e) for e in entities if isinstance(e, dict)], name=name)
