"""NGSI-LD (ETSI GS CIM 009) over the hub's open sensor data, so a FIWARE client reads the hub
as it reads a context broker: current state at ``/ngsi-ld/v1/entities``, history at
``/ngsi-ld/v1/temporal/entities``.

A feed is a source when its YAML declares ``ngsi_ld:`` (``hub.registry.spec.NgsiLd``) and it
is public; its rows come from the open zone. Each entity's newest row is its current state.
Every answer goes through the sharing API's authorization, audit log and provision register.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from hub.core.settings import HubSettings
from hub.registry.spec import FeedSpec, NgsiLd

if TYPE_CHECKING:
    import pyarrow as pa
    from pyiceberg.expressions import BooleanExpression
    from pyiceberg.table import Table

    from catalog.partners import Decision

CORE_CONTEXT = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"
LINK = f'<{CORE_CONTEXT}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"
MAX_LIMIT = 1000
EARTH_RADIUS_M = 6_371_008.8
DISTANCE = "__distance_m"  # the column a near query adds
#: UN/CEFACT common codes (what NGSI-LD's unitCode holds) for the units feeds declare.
UNIT_CODES = {"µg/m³": "GQ", "mg/m³": "GP", "°C": "CEL", "%": "P1", "ppm": "59", "ppb": "61",
              "m": "MTR", "km": "KMT", "mm": "MMT", "m/s": "MTS", "km/h": "KMH", "hPa": "A97",
              "lx": "LUX", "dB": "2N", "W": "WTT", "kW": "KWT", "kWh": "KWH", "V": "VLT",
              "A": "AMP", "L": "LTR", "m³": "MTQ", "s": "SEC", "min": "MIN", "h": "HUR"}  # fmt: skip
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TERM = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)(?:(==|!=|>=|<=|>|<)("(?:[^"\\]|\\.)*"|[^;"|()]+))?')
_NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")

Registry = Callable[[], tuple[dict[str, FeedSpec], dict[str, Any]]]


class ProblemDetails(BaseModel):
    """An NGSI-LD error (RFC 7807 problem details with an ETSI error type)."""

    type: str
    title: str
    detail: str | None = None


class Entity(BaseModel):
    """An NGSI-LD entity: id, type and its attributes (normalized or simplified)."""

    model_config = ConfigDict(extra="allow")
    id: str
    type: str


class NgsiError(Exception):
    """A request answered with a ProblemDetails document."""

    def __init__(self, status: int, kind: str, title: str, detail: str,
                 headers: dict[str, str] | None = None, *, audited: bool = False) -> None:  # fmt: skip
        super().__init__(detail)
        self.status, self.kind, self.title, self.detail = status, kind, title, detail
        self.headers, self.audited = headers, audited

    def response(self) -> JSONResponse:
        kind = self.kind if ":" in self.kind else ERRORS + self.kind  # about:blank stays
        return JSONResponse({"type": kind, "title": self.title, "detail": self.detail},
                            status_code=self.status, headers=self.headers)  # fmt: skip


def bad(detail: str, title: str = "Bad request data") -> NgsiError:
    """Malformed or contradictory input: 400 BadRequestData."""
    return NgsiError(400, "BadRequestData", title, detail)


def unsupported(detail: str) -> NgsiError:
    """Well-formed, but beyond what the hub implements: 422 OperationNotSupported."""
    return NgsiError(422, "OperationNotSupported", "Operation not supported", detail)


def _route_class(settings: HubSettings) -> type[APIRoute]:
    """Routes whose bad parameters answer 400 BadRequestData, as NGSI-LD wants (not FastAPI's
    422), and whose every refusal is in the audit log."""

    class NgsiRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Any]:
            handler = super().get_route_handler()

            async def route(request: Request) -> Response:
                try:
                    return await handler(request)
                except RequestValidationError as exc:
                    why = "; ".join(
                        f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'request'}: "
                        f"{e.get('msg')}" for e in exc.errors()
                    )  # fmt: skip
                    error = bad(why, "Invalid request parameters")
                except NgsiError as exc:
                    error = exc
                if not error.audited:
                    await run_in_threadpool(_audit_refusal, settings, request, error)
                return error.response()

            return route

    return NgsiRoute


def _audit_refusal(settings: HubSettings, request: Request, error: NgsiError) -> None:
    """A request refused before any dataset was chosen (bad parameters)."""
    from catalog import audit

    audit.record(settings.catalog_url, "api_refused", "ngsi-ld", purpose="",
                 detail={"ngsi_ld": request.url.path, "query": str(request.query_params),
                         "status": error.status, "reason": error.detail},
                 who="anonymous", origin=request.client.host if request.client else "unknown")  # fmt: skip


# ---------------------------------------------------------------- query parameters


@dataclass
class Term:
    """One comparison of an NGSI-LD ``q`` (``attr op value``; no op: the attribute exists)."""

    attr: str
    op: str | None
    text: str | None


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
        if not _URI.match(one):
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
            raise bad(f"q: cannot parse at character {pos + 1}: {text[pos : pos + 20]!r}",
                      "Invalid query")  # fmt: skip
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


def _geo(georel: str | None, geometry: str | None, coordinates: str | None,
         geoproperty: str | None) -> Geo | None:  # fmt: skip
    """The geo-query: ``near;maxDistance==m`` (or ``minDistance``) around a Point."""
    if georel is None and geometry is None and coordinates is None:
        return None
    if georel is None or geometry is None or coordinates is None:
        raise bad("a geo-query needs georel, geometry and coordinates together",
                  "Invalid geo-query")  # fmt: skip
    if geoproperty not in (None, "location"):
        raise bad(f"geoproperty {geoproperty!r}: only location is a GeoProperty here")
    if geometry != "Point":
        raise unsupported(f"geometry {geometry!r}: only Point is supported (with georel near)")
    try:
        point = json.loads(coordinates)
    except ValueError:
        raise bad("coordinates must be a JSON array [lon,lat]", "Invalid geo-query") from None
    if (not isinstance(point, list) or len(point) != 2
            or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in point)
            or not (-180 <= point[0] <= 180 and -90 <= point[1] <= 90)):  # fmt: skip
        raise bad("coordinates must be [lon,lat] in WGS84 degrees", "Invalid geo-query")
    rel, *modifiers = georel.split(";")
    if rel in ("within", "contains", "intersects", "disjoint", "overlaps", "equals"):
        raise unsupported(f"georel {rel}: only near is supported")
    if rel != "near" or not modifiers:
        raise bad("georel must be near;maxDistance==<metres> or near;minDistance==<metres>",
                  "Invalid geo-query")  # fmt: skip
    distances: dict[str, float] = {}
    for modifier in modifiers:
        name, sep, value = modifier.partition("==")
        try:
            metres = float(value)
        except ValueError:
            metres = -1.0
        if not sep or name not in ("maxDistance", "minDistance") or name in distances \
                or not math.isfinite(metres) or metres < 0:  # fmt: skip
            raise bad(f"georel: {modifier!r} is not maxDistance==<metres> or "
                      "minDistance==<metres>", "Invalid geo-query")  # fmt: skip
        distances[name] = metres
    return Geo(float(point[0]), float(point[1]), distances.get("maxDistance"),
               distances.get("minDistance"))  # fmt: skip


def _utc(moment: datetime | None, name: str) -> datetime | None:
    """An instant in UTC (a naive one taken as UTC); out of range is a bad request."""
    if moment is None:
        return None
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise bad(f"{name}: out of range") from None


TypeParam = Annotated[str | None, Query(alias="type", max_length=2000,
                                        description="Entity types, comma-separated (any of).")]  # fmt: skip
AttrsParam = Annotated[str | None, Query(max_length=2000,
                                         description="Attributes to return, comma-separated.")]  # fmt: skip
OptionsParam = Annotated[str | None, Query(max_length=200, description=(
    "keyValues (simplified); on temporal routes temporalValues.")
)]  # fmt: skip
ApiKey = Annotated[str | None, Header(description="A partner's API key (public data needs none).")]


def query_params(
    entity_type: TypeParam = None,
    entity_id: Annotated[str | None, Query(alias="id", max_length=20_000,
                                           description="Entity ids (URIs), comma-separated.")] = None,
    attrs: AttrsParam = None,
    q: Annotated[str | None, Query(max_length=2000, description=(
        'Comparisons joined by ";", e.g. pm10>50;dateObserved>="2026-11-01T00:00:00Z".'))] = None,
    georel: Annotated[str | None, Query(max_length=200, description=(
        "near;maxDistance==<metres> (or minDistance==), with geometry=Point."))] = None,
    geometry: Annotated[Literal["Point", "LineString", "Polygon", "MultiPoint",
                                "MultiLineString", "MultiPolygon"] | None, Query()] = None,
    coordinates: Annotated[str | None, Query(max_length=200,
                                             description="[lon,lat] of the Point.")] = None,
    geoproperty: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=0, le=MAX_LIMIT,
                                description="Entities per page (0: only the count).")] = 20,
    offset: Annotated[int, Query(ge=0, description="Entities to skip.")] = 0,
    count: Annotated[bool, Query(description="Answer NGSILD-Results-Count.")] = False,
) -> Ask:  # fmt: skip
    """The query parameters of ``/entities`` and ``/temporal/entities``, checked."""
    if limit == 0 and not count:
        raise bad("limit=0 is only allowed with count=true")
    ask = Ask(
        types=_names(entity_type, "type", ",|"), ids=_ids(entity_id),
        attrs=_names(attrs, "attrs"), q=_q(q),
        geo=_geo(georel, geometry, coordinates, geoproperty), limit=limit, offset=offset,
        count=count,
    )  # fmt: skip
    if not (ask.types or ask.ids or ask.attrs or ask.q or ask.geo):
        raise bad("say which entities: type, id, attrs, q or a geo-query", "Too broad a query")
    raw = {"type": entity_type, "id": entity_id, "attrs": attrs, "q": q, "georel": georel,
           "coordinates": coordinates, "limit": limit, "offset": offset}  # fmt: skip
    ask.raw = {k: v for k, v in raw.items() if v is not None}
    return ask


def one_params(entity_type: TypeParam = None, attrs: AttrsParam = None) -> Ask:
    """The query parameters of ``/entities/{entityId}`` (and its temporal twin)."""
    ask = Ask(types=_names(entity_type, "type", ",|"), attrs=_names(attrs, "attrs"), limit=1)
    ask.raw = {k: v for k, v in {"type": entity_type, "attrs": attrs}.items() if v is not None}
    return ask


@dataclass
class Span:
    """A temporal query: instances in [start, end), the last N per attribute."""

    start: datetime | None
    end: datetime | None
    last_n: int | None
    raw: dict[str, Any]


def span_params(
    timerel: Annotated[Literal["before", "after", "between"] | None, Query(
        description="before: < timeAt; after: >= timeAt; between: [timeAt, endTimeAt).")] = None,
    timeAt: Annotated[datetime | None, Query(description="ISO 8601 instant.")] = None,
    endTimeAt: Annotated[datetime | None, Query(description="ISO 8601 instant.")] = None,
    timeproperty: Annotated[str | None, Query(max_length=200)] = None,
    lastN: Annotated[int | None, Query(ge=1, le=100_000,
                                       description="The last N instances per attribute.")] = None,
) -> Span:  # fmt: skip
    """The temporal query (timerel, timeAt, endTimeAt, lastN), checked."""
    if timeproperty not in (None, "observedAt"):
        raise unsupported(f"timeproperty {timeproperty!r}: only observedAt is kept")
    at, end = _utc(timeAt, "timeAt"), _utc(endTimeAt, "endTimeAt")
    if timerel is None and (at is not None or end is not None):
        raise bad("timeAt needs timerel (before, after or between)", "Invalid temporal query")
    if timerel is not None and at is None:
        raise bad(f"timerel={timerel} needs timeAt", "Invalid temporal query")
    if timerel == "between" and (at is None or end is None or end <= at):
        raise bad("timerel=between needs endTimeAt after timeAt", "Invalid temporal query")
    if timerel != "between" and end is not None:
        raise bad("endTimeAt only goes with timerel=between", "Invalid temporal query")
    raw = {"timerel": timerel, "timeAt": at, "endTimeAt": end, "lastN": lastN}
    return Span(start=at if timerel in ("after", "between") else None,
                end=end if timerel == "between" else at if timerel == "before" else None,
                last_n=lastN, raw={k: v for k, v in raw.items() if v is not None})  # fmt: skip


def _shape(ask: Ask, options: str | None, span: Span | None = None) -> Ask:
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


# ---------------------------------------------------------------- reading the open zone


@dataclass
class Source:
    """One NGSI-LD source dataset and the columns behind each attribute."""

    spec: FeedSpec
    ngsi: NgsiLd
    properties: dict[str, str]  # attribute -> column
    units: dict[str, str]  # column -> unitCode

    @classmethod
    def of(cls, spec: FeedSpec, ngsi: NgsiLd) -> Source:
        units = {f.name: UNIT_CODES[f.unit] for f in spec.schema_ if f.unit in UNIT_CODES}
        return cls(spec, ngsi, ngsi.property_columns(spec.schema_), units)

    @property
    def attributes(self) -> dict[str, str]:
        """Every attribute name -> its column (location: the longitude column)."""
        out = {**self.properties, **self.ngsi.relationships}
        if self.ngsi.location:
            out["location"] = self.ngsi.location[0]
        return out

    def columns_for(self, ask: Ask) -> list[str]:
        """The columns one query needs: id, time, the wanted attributes, q and geo ones."""
        n = self.ngsi
        wanted = [*self.attributes] if ask.attrs is None else ask.attrs
        out = [n.id, n.observed_at]
        for name in [*wanted, *(t.attr for t in ask.q), *(["location"] if ask.geo else [])]:
            if name == "location" and n.location:
                out += list(n.location)
            elif name in self.properties:
                out.append(self.properties[name])
            elif name in n.relationships:
                out.append(n.relationships[name])
        return list(dict.fromkeys(out))

    def matches(self, ask: Ask) -> bool:
        """Whether entities of this source can answer the query at all."""
        names = self.attributes
        if ask.types is not None and self.ngsi.type not in ask.types:
            return False
        if ask.attrs is not None and not set(ask.attrs) & set(names):
            return False
        if ask.geo and not self.ngsi.location:
            return False
        return all(t.attr in names for t in ask.q)


def sources(feeds: dict[str, FeedSpec]) -> list[Source]:
    """The public feeds that declare ``ngsi_ld``, by id."""
    return [Source.of(s, s.ngsi_ld) for _, s in sorted(feeds.items())
            if s.ngsi_ld is not None and s.is_public]  # fmt: skip


def _newest(table: Table, column: str, snapshot_id: int) -> datetime | None:
    """The newest value of a timestamp column, from the data files' statistics (no rows read)."""
    from pyiceberg.conversions import from_bytes

    found = table.schema().find_field(column)
    newest: int | None = None
    for task in table.scan(snapshot_id=snapshot_id).plan_files():
        raw = (task.file.upper_bounds or {}).get(found.field_id)
        if raw is None:
            return None  # a file without statistics: no bound known
        value = from_bytes(found.field_type, raw)
        newest = value if newest is None else max(newest, value)
    return (
        None
        if newest is None
        else datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=newest)
    )


def _literal(kind: pa.DataType, term: Term) -> Any:
    """The q value as a scalar of the column's type."""
    import pyarrow as pa

    text = term.text or ""
    quoted = len(text) >= 2 and text[0] == text[-1] == '"'
    value = text[1:-1].replace('\\"', '"') if quoted else text
    try:
        if pa.types.is_timestamp(kind):
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return pa.scalar(_utc(moment, f"q {term.attr}"), kind)
        if pa.types.is_date(kind):
            return pa.scalar(date.fromisoformat(value), kind)
        if pa.types.is_boolean(kind) and value in ("true", "false") and not quoted:
            return pa.scalar(value == "true")
        if (pa.types.is_integer(kind) or pa.types.is_floating(kind)) and not quoted \
                and _NUMBER.match(value):  # fmt: skip
            number = float(value)
            if not math.isfinite(number):
                raise ValueError(value)
            return pa.scalar(number)
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            return pa.scalar(value)
    except (ValueError, OverflowError, pa.ArrowInvalid):
        pass
    raise bad(f"q: {term.attr}{term.op}{text} does not compare with a {kind} attribute",
              "Invalid query")  # fmt: skip


def _mask(data: pa.Table, source: Source, terms: Iterable[Term]) -> pa.ChunkedArray | None:
    """Rows meeting every q term (nulls never do)."""
    import pyarrow.compute as pc

    ops = {"==": pc.equal, "!=": pc.not_equal, ">": pc.greater, ">=": pc.greater_equal,
           "<": pc.less, "<=": pc.less_equal}  # fmt: skip
    mask = None
    for term in terms:
        column = data.column(source.attributes[term.attr])
        test = (pc.is_valid(column) if term.op is None
                else pc.fill_null(ops[term.op](column, _literal(column.type, term)), False))  # fmt: skip
        mask = test if mask is None else pc.and_(mask, test)
    return mask


def _distances(data: pa.Table, source: Source, geo: Geo) -> Any:
    """Great-circle metres from the query point to each row's location (NaN without one)."""
    import numpy as np

    lon_col, lat_col = source.ngsi.location or ("", "")
    lon = np.radians(data.column(lon_col).to_numpy(zero_copy_only=False).astype(float))
    lat = np.radians(data.column(lat_col).to_numpy(zero_copy_only=False).astype(float))
    lon0, lat0 = math.radians(geo.lon), math.radians(geo.lat)
    a = np.sin((lat - lat0) / 2) ** 2 + math.cos(lat0) * np.cos(lat) * np.sin((lon - lon0) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def _geo_keep(data: pa.Table, source: Source, geo: Geo) -> tuple[Any, Any]:
    """Which rows the geo-query keeps, and their distances."""
    import numpy as np

    metres = _distances(data, source, geo)
    keep = ~np.isnan(metres)
    if geo.max_m is not None:
        keep &= metres <= geo.max_m
    if geo.min_m is not None:
        keep &= metres >= geo.min_m
    return keep, metres


def _row_filter(source: Source, ask: Ask, table: Table, snapshot_id: int) -> BooleanExpression:
    """What the scan can skip: other ids, rows outside the time range (or not current)."""
    from pyiceberg.expressions import AlwaysTrue, And, GreaterThanOrEqual, In, LessThan

    n = source.ngsi
    where: BooleanExpression = AlwaysTrue()
    if ask.ids:
        where = And(where, In(n.id, set(ask.ids)))
    if ask.start is not None:
        where = And(where, GreaterThanOrEqual(n.observed_at, ask.start.isoformat()))
    if ask.end is not None:
        where = And(where, LessThan(n.observed_at, ask.end.isoformat()))
    if not ask.temporal and n.current_within is not None:
        newest = _newest(table, n.observed_at, snapshot_id)
        if newest is not None:
            since = newest - n.current_within
            where = And(where, GreaterThanOrEqual(n.observed_at, since.isoformat()))
    return where


def _current(data: pa.Table, id_col: str, time_col: str) -> pa.Table:
    """Each entity's newest row, sorted by id."""
    import pyarrow as pa
    import pyarrow.compute as pc

    data = data.filter(pc.is_valid(data.column(id_col)))
    if data.num_rows == 0:
        return data
    data = data.sort_by([(id_col, "ascending"), (time_col, "descending")]).combine_chunks()
    ids = data.column(id_col)
    changed = pc.not_equal(ids.slice(1), ids.slice(0, len(ids) - 1))
    first = pa.concat_arrays([pa.array([True]), changed.combine_chunks()])
    return data.filter(first)


# ---------------------------------------------------------------- entities as JSON


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


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
            out["location"] = {"type": "GeoProperty",
                               "value": {"type": "Point", "coordinates": [lon, lat]}, **stamp}  # fmt: skip
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
        out[name] = {"type": kind,
                     key: [[_simple(i), i.get("observedAt")] for i in instances]}  # fmt: skip
    return out


# ---------------------------------------------------------------- answering


@dataclass
class Read:
    """One source's part of an answer: its authorized, filtered rows."""

    source: Source
    decision: Decision
    snapshot: int | None
    data: pa.Table  # current state: a row per entity, sorted by id; temporal: every instance
    served: int = 0


def _read(settings: HubSettings, source: Source, ask: Ask, key: str | None, client: str,
          detail: dict[str, Any]) -> Read | None:  # fmt: skip
    """Authorize, then read one source's rows for the query; None when it has nothing open."""
    from hub.lake import iceberg
    from hub.web.records import decide, retry_headers

    cat = iceberg.catalog(settings)
    if not cat.table_exists(("open", source.spec.id)):
        return None
    table = cat.load_table(("open", source.spec.id))
    snapshot = table.current_snapshot()
    if snapshot is None:
        return None
    have = {f.name for f in table.schema().fields}
    needed = source.columns_for(ask)
    if source.ngsi.id not in have or source.ngsi.observed_at not in have:
        return None
    if ask.geo and not set(source.ngsi.location or ()) <= have:
        return None
    columns = [c for c in needed if c in have]
    types = table.schema().as_arrow()
    for term in ask.q:  # a bad q is a bad request before it costs quota
        if term.op and source.attributes[term.attr] in have:
            _literal(types.field(source.attributes[term.attr]).type, term)
    decision = decide(settings, source.spec, key=key, purpose=None, columns=columns,
                      client=client, detail=detail)  # fmt: skip
    if not decision.allowed:
        headers = retry_headers(decision)
        kind = {400: "BadRequestData", 404: "ResourceNotFound"}.get(decision.status, "about:blank")
        title = {401: "Unauthorized", 403: "Forbidden", 429: "Too many requests"}.get(
            decision.status, "Request refused"
        )
        raise NgsiError(decision.status, kind, title, decision.reason, headers, audited=True)
    data = table.scan(
        row_filter=_row_filter(source, ask, table, snapshot.snapshot_id),
        selected_fields=tuple(decision.columns), snapshot_id=snapshot.snapshot_id,
    ).to_arrow()  # fmt: skip
    return Read(source, decision, snapshot.snapshot_id, _filter(data, source, ask))


def _filter(data: pa.Table, source: Source, ask: Ask) -> pa.Table:
    """Current state (unless temporal), then q, attrs and geo; near answers get a distance."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = source.ngsi
    if any(source.attributes[t.attr] not in data.column_names for t in ask.q):
        data = data.slice(0, 0)  # not in the open release: no entity has the attribute
    if not ask.temporal:
        data = _current(data, n.id, n.observed_at)
    mask = _mask(data, source, ask.q) if data.num_rows else None
    tests = [] if mask is None else [mask]
    if ask.attrs is not None:  # an entity with none of the attributes is not in the answer
        shown = {source.attributes[a] for a in ask.attrs if a in source.attributes}
        present = [pc.is_valid(data.column(c)) for c in sorted(shown) if c in data.column_names]
        anyof = present[0] if present else pa.array([False] * data.num_rows)
        for test in present[1:]:
            anyof = pc.or_(anyof, test)
        tests.append(anyof)
    for test in tests:
        data = data.filter(test)
    if ask.geo:
        keep, metres = _geo_keep(data, source, ask.geo)
        if ask.temporal:  # an entity is in if it was there at some instant of the range
            ids = data.column(n.id)
            inside = pc.unique(ids.filter(pa.array(keep)))
            data = data.filter(pc.is_in(ids, value_set=inside))
        else:
            data = data.filter(pa.array(keep)).append_column(
                DISTANCE, pa.array(metres[keep], pa.float64())
            )
    return data


def answer(settings: HubSettings, registry: Registry, request: Request, ask: Ask,
           key: str | None, *, single: str | None = None) -> Response:  # fmt: skip
    """Authorize, read, shape, audit and register one NGSI-LD query."""
    from hub.web.records import record_refusal, served

    client = request.client.host if request.client else "unknown"
    feeds, _ = registry()
    details: dict[str, dict[str, Any]] = {}
    reads: list[Read] = []
    for source in (s for s in sources(feeds) if s.matches(ask)):
        details[source.spec.id] = {"ngsi_ld": request.url.path, **ask.raw}
        got = _read(settings, source, ask, key, client, details[source.spec.id])
        if got is not None:
            reads.append(got)

    keys: list[tuple[Any, int, Any]] = []  # (sort key, read, row or entity id) per entity
    for r, read in enumerate(reads):
        ids = read.data.column(read.source.ngsi.id).to_pylist()
        if ask.temporal:
            keys += [(entity_id, r, entity_id) for entity_id in set(ids)]
        elif ask.geo:
            metres = read.data.column(DISTANCE).to_pylist()
            keys += [((metres[i], entity_id), r, i) for i, entity_id in enumerate(ids)]
        else:
            keys += [(entity_id, r, i) for i, entity_id in enumerate(ids)]
    keys.sort(key=lambda k: (k[0], k[1]))
    page = keys[min(ask.offset, len(keys)) :][: ask.limit]

    built: dict[tuple[int, Any], dict[str, Any]] = {}
    for r, read in enumerate(reads):
        mine = [k[2] for k in page if k[1] == r]
        if not mine:
            continue
        if ask.temporal:
            for one in _temporal(read, mine, ask):
                built[r, one["id"]] = one
        else:
            rows = read.data.take(mine).to_pylist()
            built.update(
                ((r, i), entity(read.source, row, ask)) for i, row in zip(mine, rows, strict=True)
            )
            read.served = len(mine)
    body = [built[k[1], k[2]] for k in page if (k[1], k[2]) in built]

    if not reads and single is None:  # no dataset holds such entities: an empty answer, logged
        from catalog import audit

        audit.record(settings.catalog_url, "api_pull", "ngsi-ld", purpose="",
                     detail={"ngsi_ld": request.url.path, **ask.raw, "rows": 0},
                     who="anonymous", origin=client)  # fmt: skip
    for read in reads:
        detail = details[read.source.spec.id]
        if single is not None and not body:
            record_refusal(settings, read.source.spec, read.decision, 404,
                           f"no entity {single}", client=client, detail=detail)  # fmt: skip
            continue
        served(settings, read.source.spec, read.decision, rows=read.served,
               snapshot=read.snapshot, client=client, detail=detail, channel="ngsi-ld",
               action="api_pull")  # fmt: skip
    if single is not None:
        if not body:
            raise NgsiError(404, "ResourceNotFound", "Entity not found",
                            f"no entity {single} (or none of the attributes asked for)",
                            audited=bool(reads))  # fmt: skip
        return _respond(request, body[0], None)
    return _respond(request, body, len(keys) if ask.count else None)


def _temporal(read: Read, ids: list[str], ask: Ask) -> list[dict[str, Any]]:
    """Some entities of one source, each with its instances (oldest first); counts the rows."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = read.source.ngsi
    column = read.data.column(n.id)
    rows = read.data.filter(pc.is_in(column, value_set=pa.array(ids, column.type)))
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows.sort_by([(n.id, "ascending"), (n.observed_at, "ascending")]).to_pylist():
        grouped.setdefault(row[n.id], []).append(row)
    for instances in grouped.values():
        read.served += min(len(instances), ask.last_n or len(instances))
    return [temporal_entity(read.source, grouped[i], ask) for i in ids if i in grouped]


def _respond(request: Request, body: Any, count: int | None) -> Response:
    """JSON with the core context in a Link header, or JSON-LD with it in the body."""
    headers = {} if count is None else {"NGSILD-Results-Count": str(count)}
    if _wants_ld(request):
        body = ([{**e, "@context": CORE_CONTEXT} for e in body] if isinstance(body, list)
                else {**body, "@context": CORE_CONTEXT})  # fmt: skip
        return JSONResponse(body, media_type="application/ld+json", headers=headers)
    return JSONResponse(body, headers={**headers, "Link": LINK})


# ---------------------------------------------------------------- routes


def _docs(many: bool) -> dict[int | str, dict[str, Any]]:
    """OpenAPI: entities as JSON or JSON-LD, errors as ProblemDetails."""
    ref: dict[str, Any] = {"$ref": "#/components/schemas/Entity"}
    schema = {"type": "array", "items": ref} if many else ref
    headers = {"Link": {"description": "The JSON-LD @context (JSON answers).",
                        "schema": {"type": "string"}}}  # fmt: skip
    if many:
        headers["NGSILD-Results-Count"] = {"description": "Matching entities (count=true).",
                                           "schema": {"type": "integer"}}  # fmt: skip
    docs: dict[int | str, dict[str, Any]] = {
        200: {"model": list[Entity] if many else Entity, "headers": headers,
              "content": {"application/ld+json": {"schema": schema}}},
    }  # fmt: skip
    reasons = {400: "Bad request data", 401: "Unknown, expired or revoked API key",
               403: "Not served (non-public, no grant)", 404: "No such entity",
               422: "Operation not supported", 429: "Quota used up (see Retry-After)"}  # fmt: skip
    for status, reason in reasons.items():
        docs[status] = {"model": ProblemDetails, "description": reason}
    return docs


def ngsi_router(settings: HubSettings, registry: Registry) -> APIRouter:
    """``/ngsi-ld/v1``: the public feeds that declare ``ngsi_ld``, as a read-only broker."""
    router = APIRouter(prefix="/ngsi-ld/v1", tags=["NGSI-LD"], route_class=_route_class(settings))

    def one(entity_id: str, ask: Ask) -> Ask:
        if not _URI.match(entity_id) or "," in entity_id:
            raise bad(f"{entity_id!r} is not an entity id (a URI)")
        ask.ids, ask.raw["id"] = [entity_id], entity_id
        return ask

    @router.get("/entities", summary="Entities (current state) by type, id, attrs, q, near",
                response_model=None, responses=_docs(True))  # fmt: skip
    def query_entities(
        request: Request, ask: Annotated[Ask, Depends(query_params)],
        options: OptionsParam = None, x_api_key: ApiKey = None,
    ) -> Response:  # fmt: skip
        return answer(settings, registry, request, _shape(ask, options), x_api_key)

    @router.get("/entities/{entityId}", summary="One entity (current state)",
                response_model=None, responses=_docs(False))  # fmt: skip
    def retrieve_entity(
        entityId: str, request: Request, ask: Annotated[Ask, Depends(one_params)],
        options: OptionsParam = None, x_api_key: ApiKey = None,
    ) -> Response:  # fmt: skip
        ask = one(entityId, _shape(ask, options))
        return answer(settings, registry, request, ask, x_api_key, single=entityId)

    @router.get("/temporal/entities", summary="Entities' history (temporal representation)",
                response_model=None, responses=_docs(True))  # fmt: skip
    def query_temporal(
        request: Request, ask: Annotated[Ask, Depends(query_params)],
        span: Annotated[Span, Depends(span_params)], options: OptionsParam = None,
        x_api_key: ApiKey = None,
    ) -> Response:  # fmt: skip
        return answer(settings, registry, request, _shape(ask, options, span), x_api_key)

    @router.get("/temporal/entities/{entityId}", summary="One entity's history",
                response_model=None, responses=_docs(False))  # fmt: skip
    def retrieve_temporal(
        entityId: str, request: Request, ask: Annotated[Ask, Depends(one_params)],
        span: Annotated[Span, Depends(span_params)], options: OptionsParam = None,
        x_api_key: ApiKey = None,
    ) -> Response:  # fmt: skip
        ask = one(entityId, _shape(ask, options, span))
        return answer(settings, registry, request, ask, x_api_key, single=entityId)

    return router
