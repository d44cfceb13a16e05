"""Reading NGSI-LD sources from the open zone: which feeds answer a query, their authorized
rows, filtered by ids, time, ``q``, attrs and a geo-query (current state: each entity's
newest row)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.conversions import from_bytes
from pyiceberg.expressions import (
    AlwaysTrue,
    And,
    BooleanExpression,
    GreaterThanOrEqual,
    In,
    LessThan,
)
from pyiceberg.table import Table

from catalog.partners import Decision
from hub.core.settings import HubSettings
from hub.lake import iceberg
from hub.registry.spec import FeedSpec, NgsiLd
from hub.web.literals import Kind, parse_literal
from hub.web.ngsi_ld.errors import NgsiError, bad
from hub.web.ngsi_ld.params import Ask, Geo, Term
from hub.web.records import decide, retry_headers, served_table

EARTH_RADIUS_M = 6_371_008.8
DISTANCE = "__distance_m"  # the column a near query adds
#: UN/CEFACT common codes (what NGSI-LD's unitCode holds) for the units feeds declare.
UNIT_CODES = {
    "µg/m³": "GQ",
    "mg/m³": "GP",
    "°C": "CEL",
    "%": "P1",
    "ppm": "59",
    "ppb": "61",
    "m": "MTR",
    "km": "KMT",
    "mm": "MMT",
    "m/s": "MTS",
    "km/h": "KMH",
    "hPa": "A97",
    "lx": "LUX",
    "dB": "2N",
    "W": "WTT",
    "kW": "KWT",
    "kWh": "KWH",
    "V": "VLT",
    "A": "AMP",
    "L": "LTR",
    "m³": "MTQ",
    "s": "SEC",
    "min": "MIN",
    "h": "HUR",
}


@dataclass
class Source:
    """One NGSI-LD source dataset and the columns behind each attribute."""

    spec: FeedSpec
    ngsi: NgsiLd
    properties: dict[str, str]  # attribute -> column
    units: dict[str, str]  # column -> unitCode

    @classmethod
    def of(cls, spec: FeedSpec, ngsi: NgsiLd) -> Source:
        """A feed's source, with the unit code of each column whose unit has one."""
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
    return [
        Source.of(s, s.ngsi_ld)
        for _, s in sorted(feeds.items())
        if s.ngsi_ld is not None and s.is_public
    ]


@dataclass
class Read:
    """One source's part of an answer: its authorized, filtered rows."""

    source: Source
    decision: Decision
    snapshot: int | None
    data: pa.Table  # current state: a row per entity, sorted by id; temporal: every instance
    served: int = 0


def read(
    settings: HubSettings,
    source: Source,
    ask: Ask,
    key: str | None,
    client: str,
    detail: dict[str, Any],
) -> Read | None:
    """Authorize, then read one source's rows for the query; None when it has nothing open."""
    table = served_table(settings, source.spec, "open")
    snapshot = None if table is None else table.current_snapshot()
    if table is None or snapshot is None:
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
            literal(types.field(source.attributes[term.attr]).type, term)
    decision = decide(
        settings,
        source.spec,
        key=key,
        purpose=None,
        columns=columns,
        client=client,
        detail=detail,
        table=table,
    )
    if not decision.allowed:
        headers = retry_headers(decision)
        kind = {400: "BadRequestData", 404: "ResourceNotFound"}.get(decision.status, "about:blank")
        title = {401: "Unauthorized", 403: "Forbidden", 429: "Too many requests"}.get(
            decision.status, "Request refused"
        )
        raise NgsiError(decision.status, kind, title, decision.reason, headers, audited=True)
    scan = table.scan(
        row_filter=_row_filter(source, ask, table, snapshot.snapshot_id),
        selected_fields=tuple(decision.columns),
        snapshot_id=snapshot.snapshot_id,
    )
    batches = iceberg.stream_batches(scan, iceberg.planned_files(table, scan))
    data = pa.Table.from_batches(list(batches), scan.projection().as_arrow())
    return Read(source, decision, snapshot.snapshot_id, _filter(data, source, ask))


def _kind(kind: pa.DataType) -> Kind | None:
    """How a q value is read for an Arrow column (numbers compare as numbers); None: no q."""
    if pa.types.is_timestamp(kind):
        return Kind.INSTANT if kind.tz is not None else Kind.LOCAL_TIME
    if pa.types.is_date(kind):
        return Kind.DATE
    if pa.types.is_boolean(kind):
        return Kind.BOOLEAN
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return Kind.NUMBER
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return Kind.TEXT
    return None


def literal(kind: pa.DataType, term: Term) -> pa.Scalar:
    """The q value as a scalar of the column's type (numbers and booleans unquoted)."""
    value, quoted = term.value()
    read_as = _kind(kind)
    try:
        if read_as is not None and not (quoted and read_as in (Kind.NUMBER, Kind.BOOLEAN)):
            parsed = parse_literal(value, read_as)
            if read_as in (Kind.INSTANT, Kind.LOCAL_TIME, Kind.DATE):
                return pa.scalar(parsed, kind)
            return pa.scalar(parsed)
    except (ValueError, OverflowError, pa.ArrowInvalid):
        pass
    raise bad(
        f"q: {term.attr}{term.op}{term.text or ''} does not compare with a {kind} attribute",
        "Invalid query",
    )


def _mask(data: pa.Table, source: Source, terms: Iterable[Term]) -> pa.ChunkedArray | None:
    """Rows meeting every q term (nulls never do)."""
    ops = {
        "==": pc.equal,
        "!=": pc.not_equal,
        ">": pc.greater,
        ">=": pc.greater_equal,
        "<": pc.less,
        "<=": pc.less_equal,
    }
    mask = None
    for term in terms:
        column = data.column(source.attributes[term.attr])
        test = (
            pc.is_valid(column)
            if term.op is None
            else pc.fill_null(ops[term.op](column, literal(column.type, term)), False)
        )
        mask = test if mask is None else pc.and_(mask, test)
    return mask


def _distances(data: pa.Table, source: Source, geo: Geo) -> Any:
    """Great-circle metres from the query point to each row's location (NaN without one)."""
    lon_col, lat_col = source.ngsi.location or ("", "")
    lon = np.radians(data.column(lon_col).to_numpy(zero_copy_only=False).astype(float))
    lat = np.radians(data.column(lat_col).to_numpy(zero_copy_only=False).astype(float))
    lon0, lat0 = math.radians(geo.lon), math.radians(geo.lat)
    a = np.sin((lat - lat0) / 2) ** 2 + math.cos(lat0) * np.cos(lat) * np.sin((lon - lon0) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def _geo_keep(data: pa.Table, source: Source, geo: Geo) -> tuple[Any, Any]:
    """Which rows the geo-query keeps, and their distances."""
    metres = _distances(data, source, geo)
    keep = ~np.isnan(metres)
    if geo.max_m is not None:
        keep &= metres <= geo.max_m
    if geo.min_m is not None:
        keep &= metres >= geo.min_m
    return keep, metres


def _newest(table: Table, column: str, snapshot_id: int) -> datetime | None:
    """The newest value of a timestamp column, from the data files' statistics (no rows read)."""
    found = table.schema().find_field(column)
    newest: int | None = None
    for task in iceberg.planned_files(table, table.scan(snapshot_id=snapshot_id)):
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


def _row_filter(source: Source, ask: Ask, table: Table, snapshot_id: int) -> BooleanExpression:
    """What the scan can skip: other ids, rows outside the time range (or not current)."""
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
    data = data.filter(pc.is_valid(data.column(id_col)))
    if data.num_rows == 0:
        return data
    data = data.sort_by([(id_col, "ascending"), (time_col, "descending")]).combine_chunks()
    ids = data.column(id_col)
    changed = pc.not_equal(ids.slice(1), ids.slice(0, len(ids) - 1))
    first = pa.concat_arrays([pa.array([True]), changed.combine_chunks()])
    return data.filter(first)


def _filter(data: pa.Table, source: Source, ask: Ask) -> pa.Table:
    """Current state (unless temporal), then q, attrs and geo; near answers get a distance."""
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
