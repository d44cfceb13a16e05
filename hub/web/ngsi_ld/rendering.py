"""Entities as NGSI-LD JSON: normalized (Property, GeoProperty, Relationship with observedAt)
or simplified (keyValues), current state or temporal; as JSON with the core @context linked,
or as JSON-LD with it in the body."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from fastapi import Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict

from hub.core.time import as_utc
from hub.web.ngsi_ld.params import Ask
from hub.web.ngsi_ld.reading import Read, Source

CORE_CONTEXT = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"
LINK = f'<{CORE_CONTEXT}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'


class Entity(BaseModel):
    """An NGSI-LD entity: id, type and its attributes (normalized or simplified)."""

    model_config = ConfigDict(extra="allow")
    id: str
    type: str


def _iso(moment: datetime) -> str:
    """An instant as NGSI-LD writes it: UTC, with ``Z``."""
    return as_utc(moment).isoformat().replace("+00:00", "Z")


def _value(value: Any) -> Any:
    """A column value as an NGSI-LD Property value (None: no value, the attribute is left out)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime):
        return {"@type": "DateTime", "@value": _iso(value)}
    if isinstance(value, date):
        return {"@type": "Date", "@value": value.isoformat()}
    return value


def _instances(source: Source, row: dict[str, Any], wanted: set[str] | None) -> dict[str, Any]:
    """A row's attributes, normalized: Property, GeoProperty and Relationship with observedAt."""
    n = source.ngsi
    observed = row.get(n.observed_at)
    stamp = {"observedAt": _iso(observed)} if isinstance(observed, datetime) else {}
    out: dict[str, Any] = {}
    if n.location and (wanted is None or "location" in wanted):
        lon, lat = row.get(n.location[0]), row.get(n.location[1])
        if _value(lon) is not None and _value(lat) is not None:
            out["location"] = {
                "type": "GeoProperty",
                "value": {"type": "Point", "coordinates": [lon, lat]},
                **stamp,
            }
    for name, column in source.properties.items():
        value = _value(row.get(column))
        if value is not None and (wanted is None or name in wanted):
            unit = {"unitCode": source.units[column]} if column in source.units else {}
            out[name] = {"type": "Property", "value": value, **stamp, **unit}
    for name, column in n.relationships.items():
        target = row.get(column)
        if target is not None and (wanted is None or name in wanted):
            out[name] = {"type": "Relationship", "object": target, **stamp}
    return out


def _simple(attribute: dict[str, Any]) -> Any:
    """An attribute's bare value (keyValues)."""
    return attribute.get("object", attribute.get("value"))


def entity(source: Source, row: dict[str, Any], ask: Ask) -> dict[str, Any]:
    """One current-state entity (normalized, or keyValues)."""
    wanted = set(ask.attrs) if ask.attrs is not None else None
    attributes = _instances(source, row, wanted)
    if ask.simplified:
        attributes = {k: _simple(v) for k, v in attributes.items()}
    return {"id": row[source.ngsi.id], "type": source.ngsi.type, **attributes}


def temporal_entity(source: Source, rows: list[dict[str, Any]], ask: Ask) -> dict[str, Any]:
    """One entity's temporal representation: each attribute an array of instances (oldest
    first), or with temporalValues ``values``/``objects`` pairs of [value, observedAt]."""
    wanted = set(ask.attrs) if ask.attrs is not None else None
    series: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        for name, instance in _instances(source, row, wanted).items():
            series.setdefault(name, []).append(instance)
    if ask.last_n:
        series = {k: v[-ask.last_n :] for k, v in series.items()}
    out: dict[str, Any] = {"id": rows[0][source.ngsi.id], "type": source.ngsi.type}
    for name, instances in series.items():
        if not ask.simplified:
            out[name] = instances
            continue
        kind = instances[0]["type"]
        key = "objects" if kind == "Relationship" else "values"
        out[name] = {"type": kind, key: [[_simple(i), i.get("observedAt")] for i in instances]}
    return out


def temporal_entities(read: Read, ids: list[str], ask: Ask) -> list[dict[str, Any]]:
    """Some entities of one source, each with its instances (oldest first); counts the rows."""
    n = read.source.ngsi
    column = read.data.column(n.id)
    rows = read.data.filter(pc.is_in(column, value_set=pa.array(ids, column.type)))
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows.sort_by([(n.id, "ascending"), (n.observed_at, "ascending")]).to_pylist():
        grouped.setdefault(row[n.id], []).append(row)
    for instances in grouped.values():
        read.served += min(len(instances), ask.last_n or len(instances))
    return [temporal_entity(read.source, grouped[i], ask) for i in ids if i in grouped]


def _wants_ld(request: Request) -> bool:
    """Whether the client prefers application/ld+json (the @context in the body) to JSON."""
    best: dict[str, float] = {}
    for part in request.headers.get("accept", "").split(","):
        media, *params = (p.strip() for p in part.split(";"))
        weight = 1.0
        for p in params:
            if p.startswith("q="):
                try:
                    weight = float(p[2:])
                except ValueError:
                    weight = 0.0
        best[media.lower()] = max(weight, best.get(media.lower(), 0.0))
    ld, plain = best.get("application/ld+json", 0.0), best.get("application/json", 0.0)
    return ld > 0 and ld > plain


def respond(request: Request, body: Any, count: int | None) -> Response:
    """JSON with the core context in a Link header, or JSON-LD with it in the body."""
    headers = {} if count is None else {"NGSILD-Results-Count": str(count)}
    if _wants_ld(request):
        body = (
            [{**e, "@context": CORE_CONTEXT} for e in body]
            if isinstance(body, list)
            else {**body, "@context": CORE_CONTEXT}
        )
        return JSONResponse(body, media_type="application/ld+json", headers=headers)
    return JSONResponse(body, headers={**headers, "Link": LINK})
