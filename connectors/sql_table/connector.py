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
            if incremental:
                cursor.execute(_state_query(config, dialect), (ctx.watermark, high))
                _check_state(cursor.fetch_arrow_table(), ctx, where)
            cursor.execute(_query(config, dialect, incremental), params)
            rows = cursor.fetch_arrow_table()
    except DeliveryError:
        raise
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
    rows, repeated = newest_per_key(rows, list(ctx.key), config.cursor_column)
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
    notes = [f"{repeated} older version(s) of a key in the delta left out"] if repeated else []
    return FetchResult(
        parts=len(slices),
        rows_reported=rows.num_rows,
        notes=notes,
        watermark=newest_cursor(rows, config.cursor_column),
    )


def _state_query(config: SqlTableConfig, dialect: str) -> str:
    """The table as of the window's end: its rows, how many are at or after the watermark,
    and its newest cursor (for the message)."""
    cursor = f'"{config.cursor_column}"'
    if dialect == "sqlite":
        value, mark, high = f"julianday({cursor})", "julianday(?)", "julianday(?)"
    else:
        value, mark, high = cursor, "$1::timestamptz", "$2::timestamptz"
    return (
        f"SELECT COUNT(*) AS n, SUM(CASE WHEN {value} >= {mark} THEN 1 ELSE 0 END) AS since, "
        f"MAX({cursor}) AS newest FROM {config.table} WHERE {value} <= {high}"
    )


def _check_state(state: pa.Table, ctx: FetchContext, where: str) -> None:
    """Refuse a delta the cursor cannot carry, before reading it (the watermark stays put).

    Raises:
        DeliveryError: no row is at or after the watermark any more (the cursor went
            backwards), or the table holds fewer rows than are published (rows deleted).
    """
    count = state.column("n")[0].as_py() or 0
    since = state.column("since")[0].as_py() or 0
    if count and not since:
        newest = state.column("newest")[0].as_py()
        raise DeliveryError(
            f"{where}: no row is updated at or after the watermark {ctx.watermark} any more "
            f"(the newest is {newest}): the cursor went backwards (a restored backup, a clock "
            "moved back) or the newest rows were deleted, so a delta would miss changes; "
            "nothing was read and the watermark is unchanged"
        )
    if ctx.published_rows is not None and count < ctx.published_rows:
        raise DeliveryError(
            f"{where}: the table holds {count} rows but {ctx.published_rows} are published: "
            f"at least {ctx.published_rows - count} were deleted at the source, which a delta "
            "by updated time cannot carry; nothing was read and the watermark is unchanged "
            "(ask the agency to mark deletions instead, or republish the feed from a snapshot)"
        )


def newest_per_key(rows: pa.Table, key: list[str], cursor: str) -> tuple[pa.Table, int]:
    """The rows with, for a key that appears more than once in the delta, only its newest
    version by cursor (a row changed twice between runs); and how many were left out."""
    if not key or rows.num_rows < 2 or not set(key) <= set(rows.column_names):
        return rows, 0
    groups = rows.select(key).group_by(key).aggregate([])
    if groups.num_rows == rows.num_rows:
        return rows, 0
    order = _instants(rows.column(cursor))
    indexed = rows.select(key).append_column("__at", order)
    indexed = indexed.append_column("__row", pa.array(range(rows.num_rows), pa.int64()))
    ranked = indexed.sort_by([("__at", "descending"), ("__row", "descending")])
    firsts = ranked.append_column("__rank", pa.array(range(rows.num_rows), pa.int64()))
    keep = firsts.group_by(key).aggregate([("__rank", "min")]).column("__rank_min")
    rows_kept = pc.take(firsts.column("__row"), keep)
    kept = rows.take(pc.take(rows_kept, pc.sort_indices(rows_kept)))
    return kept, rows.num_rows - kept.num_rows


def _instants(values: pa.ChunkedArray) -> pa.Array:
    """The cursor as comparable instants (ISO text from SQLite, timestamps elsewhere)."""
    if pa.types.is_timestamp(values.type):
        return pc.cast(values, pa.timestamp("us", tz="UTC")).combine_chunks()
    for target in (pa.timestamp("us", tz="UTC"), pa.timestamp("us")):
        try:
            return pc.cast(values, target).combine_chunks()
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
    parsed = [as_utc(datetime.fromisoformat(v)) if v else None for v in values.to_pylist()]
    return pa.array(parsed, pa.timestamp("us", tz="UTC"))


def _parquet(rows: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(rows, buffer, compression="zstd")
    return buffer.getvalue()


def read(config: SqlTableConfig, data: bytes, *, name: str) -> pa.Table:
    try:
        return pq.read_table(io.BytesIO(data))
    except pa.ArrowInvalid as exc:
        raise DeliveryError(f"{name}: not a readable Parquet part: {exc}") from exc
