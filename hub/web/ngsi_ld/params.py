"""The query parameters of the NGSI-LD routes, parsed and checked into an ``Ask``: which
entities (type, id, attrs, q, a geo-query), which page, and for history which time range."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Header, Query

from hub.core.time import as_utc
from hub.web.ngsi_ld.errors import bad, unsupported

MAX_LIMIT = 1000
URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TERM = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)(?:(==|!=|>=|<=|>|<)("(?:[^"\\]|\\.)*"|[^;"|()]+))?')


@dataclass
class Term:
    """One comparison of an NGSI-LD ``q`` (``attr op value``; no op: the attribute exists)."""

    attr: str
    op: str | None
    text: str | None

    def value(self) -> tuple[str, bool]:
        """The value compared with, unquoted, and whether it was quoted (a string)."""
        text = self.text or ""
        quoted = len(text) >= 2 and text[0] == text[-1] == '"'
        return (text[1:-1].replace('\\"', '"') if quoted else text), quoted


@dataclass
class Geo:
    """A ``near`` geo-query around a Point: within ``max_m`` and/or beyond ``min_m`` metres."""

    lon: float
    lat: float
    max_m: float | None
    min_m: float | None


@dataclass
class Ask:
    """One NGSI-LD query, parsed and checked."""

    types: list[str] | None = None
    ids: list[str] | None = None
    attrs: list[str] | None = None
    q: list[Term] = field(default_factory=list)
    geo: Geo | None = None
    limit: int = 20
    offset: int = 0
    count: bool = False
    simplified: bool = False
    temporal: bool = False
    start: datetime | None = None  # inclusive
    end: datetime | None = None  # exclusive
    last_n: int | None = None
    raw: dict[str, Any] = field(default_factory=dict)  # as asked, for the audit log


@dataclass
class Span:
    """A temporal query: instances in [start, end), the last N per attribute."""

    start: datetime | None
    end: datetime | None
    last_n: int | None
    raw: dict[str, Any]


def _compact(term: str) -> str:
    """A full IRI as its short name (the hub's terms are the core context's defaults)."""
    if "://" in term or term.startswith("urn:"):
        return re.split(r"[/#:]", term.rstrip("/#"))[-1]
    return term


def _names(text: str | None, what: str, sep: str = ",") -> list[str] | None:
    """Comma-separated type or attribute names (full IRIs shortened)."""
    if text is None:
        return None
    names = [_compact(t.strip()) for t in re.split(f"[{re.escape(sep)}]", text) if t.strip()]
    if not names:
        raise bad(f"{what} is empty")
    for name in names:
        if not _NAME.match(name):
            raise bad(f"{what}: {name!r} is not a valid name")
    return names


def _ids(text: str | None) -> list[str] | None:
    """Comma-separated entity ids; each must be a URI."""
    if text is None:
        return None
    ids = [t.strip() for t in text.split(",") if t.strip()]
    if not ids:
        raise bad("id is empty")
    for one in ids:
        if not URI.match(one):
            raise bad(f"id: {one!r} is not a URI")
    return ids


def _q(text: str | None) -> list[Term]:
    """The ``;``-joined comparisons of ``q``; ``|`` and parentheses are not supported."""
    if text is None:
        return []
    terms, pos = [], 0
    while True:
        match = _TERM.match(text, pos)
        if not match:
            raise bad(
                f"q: cannot parse at character {pos + 1}: {text[pos : pos + 20]!r}", "Invalid query"
            )
        attr, op, value = match.groups()
        if _compact(attr) == "location":
            raise bad("q: compare location with a geo-query (georel), not q", "Invalid query")
        terms.append(Term(_compact(attr), op, value.strip() if value else None))
        pos = match.end()
        if pos == len(text):
            return terms
        if text[pos] == "|" or text[pos] in "()":
            raise unsupported("q: only ';'-joined comparisons are supported (no '|' or '()')")
        if text[pos] != ";":
            raise bad(f"q: unexpected {text[pos]!r} at character {pos + 1}", "Invalid query")
        pos += 1


def _point(coordinates: str) -> tuple[float, float]:
    """``[lon,lat]`` in WGS84 degrees."""
    try:
        point = json.loads(coordinates)
    except ValueError:
        raise bad("coordinates must be a JSON array [lon,lat]", "Invalid geo-query") from None
    if (
        not isinstance(point, list)
        or len(point) != 2
        or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in point)
        or not (-180 <= point[0] <= 180 and -90 <= point[1] <= 90)
    ):
        raise bad("coordinates must be [lon,lat] in WGS84 degrees", "Invalid geo-query")
    return float(point[0]), float(point[1])


def _distances(modifiers: list[str]) -> dict[str, float]:
    """``maxDistance==m`` and/or ``minDistance==m``, each at most once, in metres."""
    distances: dict[str, float] = {}
    for modifier in modifiers:
        name, sep, value = modifier.partition("==")
        try:
            metres = float(value)
        except ValueError:
            metres = -1.0
        if (
            not sep
            or name not in ("maxDistance", "minDistance")
            or name in distances
            or not math.isfinite(metres)
            or metres < 0
        ):
            raise bad(
                f"georel: {modifier!r} is not maxDistance==<metres> or minDistance==<metres>",
                "Invalid geo-query",
            )
        distances[name] = metres
    return distances


def _geo(
    georel: str | None, geometry: str | None, coordinates: str | None, geoproperty: str | None
) -> Geo | None:
    """The geo-query: ``near;maxDistance==m`` (or ``minDistance``) around a Point."""
    if georel is None and geometry is None and coordinates is None:
        return None
    if georel is None or geometry is None or coordinates is None:
        raise bad(
            "a geo-query needs georel, geometry and coordinates together", "Invalid geo-query"
        )
    if geoproperty not in (None, "location"):
        raise bad(f"geoproperty {geoproperty!r}: only location is a GeoProperty here")
    if geometry != "Point":
        raise unsupported(f"geometry {geometry!r}: only Point is supported (with georel near)")
    lon, lat = _point(coordinates)
    rel, *modifiers = georel.split(";")
    if rel in ("within", "contains", "intersects", "disjoint", "overlaps", "equals"):
        raise unsupported(f"georel {rel}: only near is supported")
    if rel != "near" or not modifiers:
        raise bad(
            "georel must be near;maxDistance==<metres> or near;minDistance==<metres>",
            "Invalid geo-query",
        )
    distances = _distances(modifiers)
    return Geo(lon, lat, distances.get("maxDistance"), distances.get("minDistance"))


def instant(moment: datetime | None, name: str) -> datetime | None:
    """An instant in UTC (a naive one taken as UTC); out of range is a bad request."""
    if moment is None:
        return None
    try:
        return as_utc(moment)
    except (OverflowError, ValueError):
        raise bad(f"{name}: out of range") from None


TypeParam = Annotated[
    str | None,
    Query(alias="type", max_length=2000, description="Entity types, comma-separated (any of)."),
]
AttrsParam = Annotated[
    str | None, Query(max_length=2000, description="Attributes to return, comma-separated.")
]
OptionsParam = Annotated[
    str | None,
    Query(
        max_length=200, description=("keyValues (simplified); on temporal routes temporalValues.")
    ),
]
ApiKey = Annotated[str | None, Header(description="A partner's API key (public data needs none).")]


def query_params(
    entity_type: TypeParam = None,
    entity_id: Annotated[
        str | None,
        Query(alias="id", max_length=20_000, description="Entity ids (URIs), comma-separated."),
    ] = None,
    attrs: AttrsParam = None,
    q: Annotated[
        str | None,
        Query(
            max_length=2000,
            description=(
                'Comparisons joined by ";", e.g. pm10>50;dateObserved>="2026-11-01T00:00:00Z".'
            ),
        ),
    ] = None,
    georel: Annotated[
        str | None,
        Query(
            max_length=200,
            description=("near;maxDistance==<metres> (or minDistance==), with geometry=Point."),
        ),
    ] = None,
    geometry: Annotated[
        Literal["Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon"]
        | None,
        Query(),
    ] = None,
    coordinates: Annotated[
        str | None, Query(max_length=200, description="[lon,lat] of the Point.")
    ] = None,
    geoproperty: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[
        int, Query(ge=0, le=MAX_LIMIT, description="Entities per page (0: only the count).")
    ] = 20,
    offset: Annotated[int, Query(ge=0, description="Entities to skip.")] = 0,
    count: Annotated[bool, Query(description="Answer NGSILD-Results-Count.")] = False,
) -> Ask:
    """The query parameters of ``/entities`` and ``/temporal/entities``, checked."""
    if limit == 0 and not count:
        raise bad("limit=0 is only allowed with count=true")
    ask = Ask(
        types=_names(entity_type, "type", ",|"),
        ids=_ids(entity_id),
        attrs=_names(attrs, "attrs"),
        q=_q(q),
        geo=_geo(georel, geometry, coordinates, geoproperty),
        limit=limit,
        offset=offset,
        count=count,
    )
    if not (ask.types or ask.ids or ask.attrs or ask.q or ask.geo):
        raise bad("say which entities: type, id, attrs, q or a geo-query", "Too broad a query")
    raw = {
        "type": entity_type,
        "id": entity_id,
        "attrs": attrs,
        "q": q,
        "georel": georel,
        "coordinates": coordinates,
        "limit": limit,
        "offset": offset,
    }
    ask.raw = {k: v for k, v in raw.items() if v is not None}
    return ask


def one_params(entity_type: TypeParam = None, attrs: AttrsParam = None) -> Ask:
    """The query parameters of ``/entities/{entityId}`` (and its temporal twin)."""
    ask = Ask(types=_names(entity_type, "type", ",|"), attrs=_names(attrs, "attrs"), limit=1)
    ask.raw = {k: v for k, v in {"type": entity_type, "attrs": attrs}.items() if v is not None}
    return ask


def span_params(
    timerel: Annotated[
        Literal["before", "after", "between"] | None,
        Query(description="before: < timeAt; after: >= timeAt; between: [timeAt, endTimeAt)."),
    ] = None,
    timeAt: Annotated[datetime | None, Query(description="ISO 8601 instant.")] = None,
    endTimeAt: Annotated[datetime | None, Query(description="ISO 8601 instant.")] = None,
    timeproperty: Annotated[str | None, Query(max_length=200)] = None,
    lastN: Annotated[
        int | None, Query(ge=1, le=100_000, description="The last N instances per attribute.")
    ] = None,
) -> Span:
    """The temporal query (timerel, timeAt, endTimeAt, lastN), checked."""
    if timeproperty not in (None, "observedAt"):
        raise unsupported(f"timeproperty {timeproperty!r}: only observedAt is kept")
    at, end = instant(timeAt, "timeAt"), instant(endTimeAt, "endTimeAt")
    if timerel is None and (at is not None or end is not None):
        raise bad("timeAt needs timerel (before, after or between)", "Invalid temporal query")
    if timerel is not None and at is None:
        raise bad(f"timerel={timerel} needs timeAt", "Invalid temporal query")
    if timerel == "between" and (at is None or end is None or end <= at):
        raise bad("timerel=between needs endTimeAt after timeAt", "Invalid temporal query")
    if timerel != "between" and end is not None:
        raise bad("endTimeAt only goes with timerel=between", "Invalid temporal query")
    raw = {"timerel": timerel, "timeAt": at, "endTimeAt": end, "lastN": lastN}
    return Span(
        start=at if timerel in ("after", "between") else None,
        end=end if timerel == "between" else at if timerel == "before" else None,
        last_n=lastN,
        raw={k: v for k, v in raw.items() if v is not None},
    )


def shape(ask: Ask, options: str | None, span: Span | None = None) -> Ask:
    """Apply ``options`` (and the temporal query) to a parsed query."""
    found = {o.strip() for o in (options or "").split(",") if o.strip()}
    simple = {"keyValues", "simplified"} | ({"temporalValues"} if span else set())
    unknown = found - simple - {"normalized", "sysAttrs"}
    if unknown:
        raise bad(f"options: {', '.join(sorted(unknown))} is not supported here")
    ask.simplified = bool(found & simple)
    if options:
        ask.raw["options"] = options
    if span is not None:
        ask.temporal, ask.start, ask.end, ask.last_n = True, span.start, span.end, span.last_n
        ask.raw.update(span.raw)
    return ask


def single(entity_id: str, ask: Ask) -> Ask:
    """The query of one entity by its id (a URI, not a list)."""
    if not URI.match(entity_id) or "," in entity_id:
        raise bad(f"{entity_id!r} is not an entity id (a URI)")
    ask.ids, ask.raw["id"] = [entity_id], entity_id
    return ask
