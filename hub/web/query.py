"""What a records request reads: a version, simple filters, and changes since a version.

Filters are pushed into the Iceberg scan (files outside a time range or a value are skipped).
Changes follow the LOCALDATA pattern: a full download once, then only what changed: the rows
of data files a later version removed, then the rows of files it added.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa
from pyiceberg.expressions import (
    AlwaysTrue,
    And,
    BooleanExpression,
    EqualTo,
    GreaterThanOrEqual,
    LessThan,
)
from pyiceberg.table import Table
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

from hub.lake import iceberg

CHANGE_COLUMN = "_change"


class QueryError(ValueError):
    """A request the dataset cannot answer: names the parameter and why (answered with 400)."""


@dataclass
class RecordQuery:
    """The reading part of a records request."""

    version: int | None = None  # snapshot id; None = current
    since: int | None = None  # changes after this snapshot id
    start: datetime | None = None  # time range on the dataset's time column, [start, end)
    end: datetime | None = None
    equals: dict[str, str] = field(default_factory=dict)  # column -> value


def _literal(name: str, raw: str, field_type: Any) -> Any:
    try:
        if isinstance(field_type, IntegerType | LongType):
            return int(raw)
        if isinstance(field_type, FloatType | DoubleType):
            return float(raw)
        if isinstance(field_type, BooleanType):
            if raw.lower() not in ("true", "false"):
                raise ValueError(raw)
            return raw.lower() == "true"
        if isinstance(field_type, TimestampType | TimestamptzType | DateType):
            return datetime.fromisoformat(raw).isoformat()
    except ValueError as exc:
        raise QueryError(f"?{name}={raw!r} is not a {field_type} value") from exc
    return raw


def equality_filters(params: Mapping[str, str], columns: list[str]) -> dict[str, str]:
    """Query parameters named after a served column filter it (``?gu_code=11680``)."""
    return {k: v for k, v in params.items() if k in columns}


def row_filter(table: Table, query: RecordQuery, time_column: str | None) -> BooleanExpression:
    schema = table.schema()
    expression: BooleanExpression = AlwaysTrue()
    for name, raw in query.equals.items():
        expression = And(expression, EqualTo(name, _literal(name, raw, schema.find_type(name))))
    if (query.start or query.end) and not time_column:
        raise QueryError("this dataset has no time column for ?from= / ?to=")
    if query.start:
        expression = And(expression, GreaterThanOrEqual(time_column, query.start.isoformat()))
    if query.end:
        expression = And(expression, LessThan(time_column, query.end.isoformat()))
    return expression


def snapshot_of(table: Table, version: int | None) -> int | None:
    if version is None:
        current = table.current_snapshot()
        return current.snapshot_id if current else None
    if table.snapshot_by_id(version) is None:
        raise QueryError(f"?version={version} is not a published version of this dataset")
    return version


def read_batches(
    table: Table, query: RecordQuery, columns: list[str], time_column: str | None,
    limit: int | None, offset: int,
) -> tuple[pa.Schema, Iterator[pa.RecordBatch], int | None]:  # fmt: skip
    """The schema, the batches of rows asked for (paged), and the snapshot they come from."""
    snapshot = snapshot_of(table, query.version)
    scan = table.scan(
        row_filter=row_filter(table, query, time_column), selected_fields=tuple(columns),
        snapshot_id=snapshot, limit=None if limit is None else offset + limit,
    )  # fmt: skip
    schema = scan.projection().as_arrow()
    if snapshot is None:
        return schema, iter(()), None
    return schema, _page(iceberg.stream_batches(scan), offset, limit), snapshot


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


def changes(
    table: Table, query: RecordQuery, columns: list[str], time_column: str | None
) -> tuple[pa.Table, int | None]:
    """Rows removed and then rows added between ``query.since`` and ``query.version``.

    Each row carries ``_change`` (``removed`` / ``added``); applying them in order to the
    ``since`` download gives the later version.
    """
    from pyiceberg.io.pyarrow import ArrowScan

    assert query.since is not None
    before = snapshot_of(table, query.since)
    after = snapshot_of(table, query.version)
    expression = row_filter(table, query, time_column)

    def tasks(snapshot: int | None) -> dict[str, Any]:
        scan = table.scan(row_filter=expression, selected_fields=tuple(columns),
                          snapshot_id=snapshot)  # fmt: skip
        return {t.file.file_path: t for t in scan.plan_files()}

    old, new = tasks(before), tasks(after)
    scan = table.scan(row_filter=expression, selected_fields=tuple(columns))
    reader = ArrowScan(table.metadata, table.io, scan.projection(), expression, True)
    empty = scan.projection().as_arrow().empty_table().select(columns)
    parts = []
    for label, picked in (("removed", [t for p, t in old.items() if p not in new]),
                          ("added", [t for p, t in new.items() if p not in old])):  # fmt: skip
        rows = reader.to_table(picked).select(columns).cast(empty.schema) if picked else empty
        parts.append(
            rows.append_column(CHANGE_COLUMN, pa.array([label] * rows.num_rows, pa.string()))
        )
    return pa.concat_tables(parts), after
