"""What a records request reads: a version, simple filters, and changes since a version.

Filters are pushed into the Iceberg scan (files outside a time range or a value are skipped).
Changes follow the LOCALDATA pattern: a full download once, then only what changed: the rows a
later version no longer has, then the rows it has that the earlier one did not (found among
the data files the two versions do not share, so unchanged partitions are never read).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.conversions import from_bytes
from pyiceberg.expressions import (
    AlwaysTrue,
    And,
    BooleanExpression,
    EqualTo,
    GreaterThanOrEqual,
    LessThan,
)
from pyiceberg.io.pyarrow import ArrowScan
from pyiceberg.table import Table
from pyiceberg.table.snapshots import Operation
from pyiceberg.types import (
    BooleanType,
    DateType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    TimestampType,
    TimestamptzType,
)

from hub.core.time import as_utc
from hub.lake import iceberg
from hub.web.literals import Kind, parse_literal

CHANGE_COLUMN = "_change"
_KINDS: tuple[tuple[type | tuple[type, ...], Kind], ...] = (
    ((IntegerType, LongType), Kind.INTEGER),
    ((FloatType, DoubleType), Kind.NUMBER),
    (BooleanType, Kind.BOOLEAN),
    (DateType, Kind.DATE),
    (TimestamptzType, Kind.INSTANT),
    (TimestampType, Kind.LOCAL_TIME),
)


class QueryError(ValueError):
    """A request the dataset cannot answer: names the parameter and why (answered with 400)."""


@dataclass
class RecordQuery:
    """The reading part of a records request."""

    version: int | None = None  # a published version (snapshot id); None = current
    since: int | None = None  # changes after this version
    #: The time range on the dataset's time column, [start, end); a time without an offset is
    #: UTC. Kept as asked: a date column is bounded in the caller's own calendar.
    start: datetime | None = None
    end: datetime | None = None
    equals: dict[str, str] = field(default_factory=dict)  # column -> value

    def bounds(self) -> dict[str, datetime | None]:
        """The time range as instants in UTC (what the audit log records)."""
        return {
            name: None if moment is None else as_utc(moment)
            for name, moment in (("from", self.start), ("to", self.end))
        }


def _kind(field_type: Any) -> Kind:
    """How a filter's text is read for a column of this Iceberg type (others: as text)."""
    for types, kind in _KINDS:
        if isinstance(field_type, types):
            return kind
    return Kind.TEXT


def _literal(name: str, raw: str, field_type: Any) -> Any:
    """The Iceberg literal a ``?name=raw`` filter compares the column with."""
    try:
        value = parse_literal(raw, _kind(field_type))
    except ValueError as exc:
        raise QueryError(f"?{name}={raw!r} is not a {field_type} value") from exc
    return value.isoformat() if isinstance(value, date | datetime) else value


def equality_filters(
    params: Mapping[str, str], known: set[str], columns: list[str]
) -> dict[str, str]:
    """Query parameters other than the route's own filter a served column (``?gu_code=11680``).

    A filter on a column the caller is not served would reveal its values, and an unknown
    name would be silently ignored: both are refused.
    """
    filters = {k: v for k, v in params.items() if k not in known}
    outside = sorted(set(filters) - set(columns))
    if outside:
        raise QueryError(
            f"no served column to filter by: {', '.join(outside)} (filters are "
            f"named after the columns: {', '.join(columns)})"
        )
    return filters


def row_filter(table: Table, query: RecordQuery, time_column: str | None) -> BooleanExpression:
    schema = table.schema()
    expression: BooleanExpression = AlwaysTrue()
    for name, raw in query.equals.items():
        expression = And(expression, EqualTo(name, _literal(name, raw, schema.find_type(name))))
    if (query.start or query.end) and not time_column:
        raise QueryError("this dataset has no time column for ?from= / ?to=")
    if not (query.start or query.end):
        return expression
    if isinstance(schema.find_type(time_column), DateType):  # days, as the caller wrote them
        if query.start:
            expression = And(
                expression, GreaterThanOrEqual(time_column, _day(query.start, up=True))
            )
        if query.end:
            expression = And(expression, LessThan(time_column, _day(query.end, up=True)))
        return expression
    if query.start:
        start = as_utc(query.start).isoformat()
        expression = And(expression, GreaterThanOrEqual(time_column, start))
    if query.end:
        expression = And(expression, LessThan(time_column, as_utc(query.end).isoformat()))
    return expression


def _day(moment: datetime, *, up: bool) -> str:
    """The first whole day at or after ``moment`` (its own offset's calendar; UTC's without)."""
    day = moment.date()
    if up and moment.time() != datetime.min.time():
        day = date.fromordinal(day.toordinal() + 1)
    return day.isoformat()


def snapshot_of(table: Table, version: int | None, name: str = "version") -> int | None:
    """The table's snapshot for a published version: its own id, or the catalog's version
    (the trusted snapshot an open release was made from). Commits' inner delete steps are not
    versions."""
    if version is None:
        current = table.current_snapshot()
        return current.snapshot_id if current else None
    found = table.snapshot_by_id(version)
    if found is None:  # a catalog version: the newest release made from it
        made = [
            s
            for s in table.snapshots()
            if s.summary and s.summary.get("hub.trusted-snapshot") == str(version)
        ]
        found = max(made, key=lambda s: s.timestamp_ms) if made else None
    if found is None or (found.summary and found.summary.operation == Operation.DELETE):
        raise QueryError(f"?{name}={version} is not a published version of this dataset")
    return found.snapshot_id


def read_batches(
    table: Table,
    query: RecordQuery,
    columns: list[str],
    time_column: str | None,
    limit: int | None,
    offset: int,
) -> tuple[pa.Schema, Iterator[pa.RecordBatch], int | None]:
    """The schema, the batches of rows asked for (paged), and the snapshot they come from.

    Filters are bound and files planned here, so a bad request fails before any answer."""
    snapshot = snapshot_of(table, query.version)
    scan = table.scan(
        row_filter=row_filter(table, query, time_column),
        selected_fields=tuple(columns),
        snapshot_id=snapshot,
        limit=None if limit is None else offset + limit,
    )
    schema = scan.projection().as_arrow()
    if snapshot is None:
        return schema, iter(()), None
    tasks = _planned(table, scan)
    return schema, _page(iceberg.stream_batches(scan, tasks), offset, limit), snapshot


def _planned(table: Table, scan: Any) -> list[Any]:
    try:
        return iceberg.planned_files(table, scan)
    except ValueError as exc:  # a literal the column's type cannot hold
        raise QueryError(f"a filter does not fit its column: {exc}") from exc


def _page(
    batches: Iterator[pa.RecordBatch], offset: int, limit: int | None
) -> Iterator[pa.RecordBatch]:
    skip, left = offset, limit
    for batch in batches:
        if skip >= batch.num_rows:
            skip -= batch.num_rows
            continue
        batch, skip = batch.slice(skip), 0
        if left is not None:
            batch = batch.slice(0, left)
            left -= batch.num_rows
        if batch.num_rows:
            yield batch
        if left == 0:
            return


def _fingerprints(rows: pa.Table) -> pa.Array:
    """One string per row made of all its values, to match identical rows across versions."""
    if rows.num_columns == 0 or rows.num_rows == 0:
        return pa.array([""] * rows.num_rows, pa.string())
    parts = [pc.fill_null(pc.cast(c, pa.string()), "\x00") for c in rows.columns]
    return pc.binary_join_element_wise(*parts, "\x1f")


def changes(
    table: Table, query: RecordQuery, columns: list[str], time_column: str | None
) -> tuple[pa.Table, int | None]:
    """Rows removed and then rows added between ``query.since`` and ``query.version``.

    Each row carries ``_change`` (``removed`` / ``added``); applying them in order to the
    ``since`` download gives the later version. Only the data files the two versions do not
    share are read, and rows found in both are left out.
    """
    assert query.since is not None
    before = snapshot_of(table, query.since, "since")
    after = snapshot_of(table, query.version)
    if table.snapshot_by_id(before).timestamp_ms > table.snapshot_by_id(after).timestamp_ms:
        raise QueryError(f"?since={query.since} is later than the version asked for")
    expression = row_filter(table, query, time_column)

    def tasks(snapshot: int | None) -> dict[str, Any]:
        scan = table.scan(
            row_filter=expression, selected_fields=tuple(columns), snapshot_id=snapshot
        )
        return {t.file.file_path: t for t in _planned(table, scan)}

    old, new = tasks(before), tasks(after)
    scan = table.scan(row_filter=expression, selected_fields=tuple(columns))
    reader = ArrowScan(table.metadata, table.io, scan.projection(), expression, True)
    empty = scan.projection().as_arrow().empty_table().select(columns)

    def rows(picked: list[Any]) -> pa.Table:
        return reader.to_table(picked).select(columns).cast(empty.schema) if picked else empty

    gone = rows([t for p, t in old.items() if p not in new])
    came = rows([t for p, t in new.items() if p not in old])
    gone_fp, came_fp = _fingerprints(gone), _fingerprints(came)
    gone = gone.filter(pc.invert(pc.is_in(gone_fp, value_set=came_fp)))
    came = came.filter(pc.invert(pc.is_in(came_fp, value_set=gone_fp)))
    parts = [
        part.append_column(CHANGE_COLUMN, pa.array([label] * part.num_rows, pa.string()))
        for label, part in (("removed", gone), ("added", came))
    ]
    return pa.concat_tables(parts), after


def newest(table: Table | None, column: str) -> datetime | date | None:
    """The newest value of a timestamp or date column in the current version, from the data
    files' column statistics (no row is read): where the portal's chart and map start, so
    they show the latest readings however long the table has grown."""
    if table is None or table.current_snapshot() is None:
        return None
    field = table.schema().find_field(column)
    if not isinstance(field.field_type, DateType | TimestampType | TimestamptzType):
        return None
    bounds = [
        from_bytes(field.field_type, task.file.upper_bounds[field.field_id])
        for task in iceberg.planned_files(table, table.scan())
        if task.file.upper_bounds and field.field_id in task.file.upper_bounds
    ]
    if not bounds:
        return None
    top = max(bounds)
    if isinstance(field.field_type, DateType):
        return date(1970, 1, 1) + timedelta(days=top)
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=top)
