"""Reading what changed in a source table since the feed's watermark, and landing it.

The first run (no watermark yet) reads the whole table: the snapshot; later runs read the
rows whose cursor lies after the watermark and at or before the window's end: the delta. ADBC
hands the rows over as Arrow, so they land as Parquet without a Python loop over rows.
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from connectors.base import FetchContext, FetchResult, Sink, expand_env
from connectors.redaction import redact_url
from connectors.sql_table.config import SqlTableConfig
from hub.core.delivery import RawPart
from hub.core.errors import DeliveryError, TransientDeliveryError
from hub.core.time import as_utc

CONFIG = SqlTableConfig
ENCODERS = 2


def _connect(url: str) -> Any:
    if url.startswith("sqlite:///"):
        import adbc_driver_sqlite.dbapi as sqlite

        return sqlite.connect(url.removeprefix("sqlite:///")), "sqlite"
    if url.startswith(("postgresql://", "postgres://")):
        import adbc_driver_postgresql.dbapi as postgresql

        return postgresql.connect(url), "postgresql"
    raise DeliveryError(
        f"unsupported database URL {redact_url(url)!r}: use sqlite:/// or postgresql://"
    )


def _query(config: SqlTableConfig, dialect: str, incremental: bool) -> str:
    """Rows changed after the watermark (delta) or all rows (snapshot), up to the window end."""
    columns = ", ".join(f'"{c}"' for c in config.columns) or "*"
    cursor = f'"{config.cursor_column}"'
    if dialect == "sqlite":  # ISO text with any offset compares correctly as a julian day
        value, bound = f"julianday({cursor})", ["julianday(?)", "julianday(?)"]
    else:
        value, bound = cursor, ["$1::timestamptz", "$2::timestamptz"]
    where = (
        f"{value} > {bound[0]} AND {value} <= {bound[1]}"
        if incremental
        else (f"{value} <= {bound[0]}")
    )
    return f"SELECT {columns} FROM {config.table} WHERE {where}"  # the watermark is max(cursor)


def newest_cursor(table: pa.Table, column: str) -> str | None:
    """The largest cursor value as ISO text in UTC (comparable as text: the watermark)."""
    if not table.num_rows:
        return None
    values = table.column(column)
    if pa.types.is_timestamp(values.type):
        newest = pc.max(values).as_py()
    else:  # ISO text (SQLite): parsed by Arrow as instants, or as UTC when it has no offset
        newest = None
        for target in (pa.timestamp("us", tz="UTC"), pa.timestamp("us")):
            try:
                newest = pc.max(pc.cast(values, target)).as_py()
                break
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                continue
        if newest is None:  # mixed forms Arrow does not read: one value at a time
            newest = max(datetime.fromisoformat(v) for v in pc.unique(values).to_pylist() if v)
    return as_utc(newest).isoformat(timespec="microseconds")


def fetch(config: SqlTableConfig, ctx: FetchContext, sink: Sink) -> FetchResult:
    """Land the changed rows of the window as Parquet parts.

    Raises:
        TransientDeliveryError: the database cannot be reached (a retry may find it up).
        DeliveryError: the table or a column does not exist.
    """
    url = expand_env(config.url, feed_id=ctx.feed_id, what="the source database URL")
    shown = url if url.startswith("sqlite") else redact_url(url)  # a file path holds no secret
    where = f"feed {ctx.feed_id}: {shown} table {config.table}"
    incremental = ctx.watermark is not None
    high = ctx.window.end.astimezone(UTC).isoformat()
    params = (ctx.watermark, high) if incremental else (high,)
    try:
        connection, dialect = _connect(url)
    except DeliveryError:
        raise
    except Exception as exc:  # the drivers raise their own error types per database
        raise TransientDeliveryError(f"{where}: cannot connect: {exc}") from exc
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(_query(config, dialect, incremental), params)
            rows = cursor.fetch_arrow_table()
    except Exception as exc:
        message = str(exc).splitlines()[0]
        if any(
            word in message.lower()
            for word in ("no such table", "does not exist", "no such column")
        ):
            raise DeliveryError(f"{where}: {message}") from exc
        raise TransientDeliveryError(f"{where}: the query failed: {message}") from exc
    if config.cursor_column not in rows.column_names:
        raise DeliveryError(f"{where}: the cursor column {config.cursor_column!r} is not read")
    kind = "delta after " + ctx.watermark if incremental else "snapshot"
    slices = [
        rows.slice(start, config.part_rows) for start in range(0, rows.num_rows, config.part_rows)
    ]
    with ThreadPoolExecutor(max_workers=ENCODERS) as pool:  # Parquet encoding releases the GIL
        encoded = pool.map(_parquet, slices)
        for i, (part, data) in enumerate(zip(slices, encoded, strict=True)):
            sink(
                RawPart(
                    name=f"{config.table}-{i:05d}.parquet",
                    data=data,
                    content_type="application/vnd.apache.parquet",
                    source=f"{shown} {config.table} ({kind})",
                    rows_reported=part.num_rows,
                )
            )
    return FetchResult(
        parts=len(slices),
        rows_reported=rows.num_rows,
        watermark=newest_cursor(rows, config.cursor_column),
    )


def _parquet(rows: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(rows, buffer, compression="zstd")
    return buffer.getvalue()


def read(config: SqlTableConfig, data: bytes, *, name: str) -> pa.Table:
    try:
        return pq.read_table(io.BytesIO(data))
    except pa.ArrowInvalid as exc:
        raise DeliveryError(f"{name}: not a readable Parquet part: {exc}") from exc
