"""Iceberg tables on the lake through pyiceberg's SQL catalog (same database as the catalog).

``replace_window`` makes each run's publish one atomic snapshot that replaces exactly the rows
of its window, so rerunning a window never duplicates rows.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pyarrow as pa
from cachetools import LRUCache
from sqlalchemy import text

from hub.core.database import engine_for, serialized
from hub.core.delivery import Window
from hub.core.errors import CommitFailedError, CommitStateUnknownError, LakeError
from hub.core.settings import HubSettings
from hub.core.time import utc_now
from hub.core.types import ColumnType
from hub.lake import pyiceberg_fixes
from hub.registry.spec import FeedSpec, FieldSpec

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from pyiceberg.catalog.sql import SqlCatalog
    from pyiceberg.schema import Schema
    from pyiceberg.table import DataScan, FileScanTask, Table
    from pyiceberg.table.snapshots import Snapshot


#: Catalogs kept per process; a test session or a CLI switching homes opens a few, never
#: hundreds (each holds a connection pool).
CATALOGS_KEPT = 8
#: Loaded tables and planned scans kept per process, for readers (the web app).
TABLES_KEPT = 256
PLANS_KEPT = 1024

_catalogs: LRUCache[tuple[Any, ...], SqlCatalog] = LRUCache(maxsize=CATALOGS_KEPT)
_tables: LRUCache[tuple[Any, ...], tuple[SqlCatalog, Table]] = LRUCache(maxsize=TABLES_KEPT)
_plans: LRUCache[tuple[Any, ...], list[FileScanTask]] = LRUCache(maxsize=PLANS_KEPT)
_caching = threading.Lock()
#: Table pointers read by ``current_table``: (when read, ``_moved`` then, metadata location).
_pointers: LRUCache[tuple[str, ...], tuple[float, int, str | None]] = LRUCache(maxsize=TABLES_KEPT)
#: Commits made by this process so far: a commit here makes every kept pointer old.
_moved = [0]
#: pyiceberg's SQL catalog table (``IcebergTables``), read without building an ORM query.
_POINTER = text(
    "SELECT metadata_location FROM iceberg_tables"
    " WHERE catalog_name = :catalog AND table_namespace = :zone AND table_name = :name"
)


def table_catalog(settings: HubSettings) -> SqlCatalog:
    """pyiceberg's SQL catalog of the lake's tables, kept in the hub's metadata database.

    One per process and database: building one creates a SQLAlchemy engine (a connection pool,
    bounded at SQLAlchemy's 5 + 10 overflow) and checks the catalog's tables, so a web request
    or a task must not build its own. The process id is part of the key: a forked worker never
    shares its parent's pooled connections.
    """
    from pyiceberg.catalog.sql import SqlCatalog

    pyiceberg_fixes.apply()
    properties = settings.iceberg_properties()
    key = (os.getpid(), settings.catalog_name, tuple(sorted(properties.items())))
    with _caching:
        found = _catalogs.get(key)
    if found is not None:
        return found
    # A new catalog creates its tables (check, then CREATE one by one): processes starting
    # together on an empty database race on that, so they take turns.
    with serialized(properties["uri"], "iceberg-tables"):
        made = SqlCatalog(settings.catalog_name, **properties)
    with _caching:
        kept = _catalogs.setdefault(key, made)
    if kept is not made:  # another thread made one first
        made.engine.dispose()
    return kept


def current_table(
    settings: HubSettings, zone: str, name: str, *, max_age_s: float = 0.0
) -> Table | None:
    """The table as the catalog points to it, for reading; None when it does not exist.

    One small query reads the catalog's pointer to the table's metadata, at most once per
    ``max_age_s`` (0: on every call); the metadata itself is read from S3 only when the
    pointer moved. A web worker thus serves a snapshot another process published within
    ``max_age_s``, and one this process committed from its next call on, without a cache
    shared between workers. Never commit through the returned table: it is shared by every
    reader of the process.
    """
    catalog = table_catalog(settings)
    location = _pointer(settings, catalog.name, zone, name, max_age_s)
    if location is None:
        return None
    key = (id(catalog), zone, name)
    with _caching:
        cached = _tables.get(key)
    if cached is not None and cached[0] is catalog and cached[1].metadata_location == location:
        return cached[1]
    try:
        table = catalog.load_table((zone, name))
    except Exception as exc:
        raise LakeError(f"{zone}.{name}: could not read its metadata {location}: {exc}") from exc
    with _caching:
        _tables[key] = (catalog, table)
    return table


def _pointer(
    settings: HubSettings, catalog_name: str, zone: str, name: str, max_age_s: float
) -> str | None:
    """The catalog's metadata location of ``zone.name``, read again once ``max_age_s`` passed
    or this process committed since."""
    key = (settings.catalog_url, catalog_name, zone, name)
    now = time.monotonic()
    with _caching:
        kept = _pointers.get(key)
    if kept is not None and kept[1] == _moved[0] and now - kept[0] < max_age_s:
        return kept[2]
    moved = _moved[0]
    # through the hub's own pool of the same database (one pool per process, not two), on a
    # plain connection: no ORM session to build
    with engine_for(settings.catalog_url).connect() as connection:
        location = connection.execute(
            _POINTER, {"catalog": catalog_name, "zone": zone, "name": name}
        ).scalar()
    with _caching:
        _pointers[key] = (now, moved, location)
    return location


def forget_pointers() -> None:
    """This process changed a table: its readers look every pointer up again."""
    with _caching:
        _moved[0] += 1


def planned_files(table: Table, scan: DataScan) -> list[FileScanTask]:
    """The data files ``scan`` reads, planned once per table version and filter.

    Planning reads the snapshot's manifest list and manifests from S3; a version never changes,
    so its plan for the same filter is reused until the process forgets it.
    """
    key = (
        table.metadata_location,
        scan.snapshot_id,
        repr(scan.row_filter),
        scan.case_sensitive,
    )
    with _caching:
        tasks = _plans.get(key)
    if tasks is None:
        tasks = list(scan.plan_files())
        with _caching:
            _plans[key] = tasks
    return tasks


def iceberg_schema(fields: list[FieldSpec], identifier: list[str] | None = None) -> Schema:
    from pyiceberg import types as t
    from pyiceberg.schema import Schema

    mapping = {
        ColumnType.string: t.StringType(),
        ColumnType.int32: t.IntegerType(),
        ColumnType.int64: t.LongType(),
        ColumnType.float32: t.FloatType(),
        ColumnType.float64: t.DoubleType(),
        ColumnType.boolean: t.BooleanType(),
        ColumnType.date: t.DateType(),
        ColumnType.timestamp: t.TimestamptzType(),
    }
    return Schema(
        *(
            t.NestedField(
                field_id=i,
                name=f.name,
                field_type=mapping[f.type],
                required=f.required,
                doc=f.description.en if f.description else None,
            )
            for i, f in enumerate(fields, start=1)
        ),
        identifier_field_ids=[
            i for i, f in enumerate(fields, start=1) if f.name in (identifier or [])
        ],
    )


def ensure_table(
    settings: HubSettings,
    zone: str,
    name: str,
    fields: list[FieldSpec],
    partition: tuple[str, str],
    properties: dict[str, str] | None = None,
    identifier: list[str] | None = None,
) -> Table:
    """Load ``zone.name``, creating namespace and table on first use."""
    from pyiceberg.exceptions import NoSuchTableError, TableAlreadyExistsError
    from pyiceberg.partitioning import PartitionField, PartitionSpec
    from pyiceberg.transforms import parse_transform

    cat = table_catalog(settings)
    table_id = (zone, name)
    try:
        return cat.load_table(table_id)
    except NoSuchTableError:
        pass
    schema = iceberg_schema(fields, identifier)
    column, transform = partition
    source = schema.find_field(column)
    spec = PartitionSpec(
        PartitionField(
            source_id=source.field_id,
            field_id=1000,
            transform=parse_transform(transform),
            name=column if transform == "identity" else f"{column}_{transform}",
        )
    )
    _ensure_namespace(cat, zone)
    try:
        made = cat.create_table(
            table_id,
            schema=schema,
            partition_spec=spec,
            location=f"s3://{settings.bucket(zone)}/{name}",
            properties={"write.parquet.compression-codec": "zstd", **(properties or {})},
        )
    except TableAlreadyExistsError:
        return cat.load_table(table_id)
    forget_pointers()  # one kept as "no such table" is old now
    return made


def _ensure_namespace(cat: SqlCatalog, zone: str) -> None:
    """Create the zone's namespace unless it exists. Two tasks creating it at once on a new
    catalog both pass pyiceberg's existence check, and the loser's INSERT raises the database's
    IntegrityError, not NamespaceAlreadyExistsError (the same race as apache/iceberg-go#1635):
    if the namespace exists now, the race was lost harmlessly."""
    try:
        cat.create_namespace_if_not_exists(zone)
    except Exception:
        if not cat.namespace_exists(zone):
            raise


def feed_table(settings: HubSettings, feed: FeedSpec, zone: str = "trusted") -> Table:
    return ensure_table(
        settings,
        zone,
        feed.id,
        feed.published_fields,
        (feed.partition.column, feed.partition.transform),
        properties={"comment": feed.title.en},
        identifier=feed.key if feed.upserts else None,
    )


def upsert_rows(
    table: Table, data: pa.Table, key: list[str], properties: dict[str, str]
) -> int | None:
    """Merge ``data`` into the table by ``key`` in one commit: changed rows replace their old
    version wherever it lies, new rows are added.

    Returns:
        The new snapshot id, or None when nothing changed.
    """
    from pyiceberg.exceptions import CommitFailedException

    if not data.num_rows:
        return None
    before = table.current_snapshot()
    try:
        table.upsert(
            data.cast(arrow_schema(table, data)),
            join_cols=key,
            snapshot_properties=stamped(properties),
        )
    except CommitFailedException as exc:
        raise CommitFailedError(
            f"upsert into {'.'.join(table.name())} was rejected: {exc}"
        ) from exc
    except OSError as exc:
        raise LakeError(f"writing {'.'.join(table.name())} failed: {exc}") from exc
    return committed_snapshot(table, before)


def replace_all(table: Table, data: pa.Table, properties: dict[str, str]) -> int | None:
    """Make ``data`` the table's whole content in one snapshot (a release of a full version)."""
    from pyiceberg.exceptions import CommitFailedException

    before = table.current_snapshot()
    try:
        table.overwrite(
            data.cast(arrow_schema(table, data)), snapshot_properties=stamped(properties)
        )
    except CommitFailedException as exc:
        raise CommitFailedError(
            f"overwrite of {'.'.join(table.name())} was rejected: {exc}"
        ) from exc
    return committed_snapshot(table, before)


#: The snapshot property holding when the hub committed it, in the hub's time: snapshot expiry
#: judges a version's age by it (a simulated year runs on a simulated clock).
COMMITTED_AT = "hub.committed-at"


def stamped(properties: dict[str, str]) -> dict[str, str]:
    """A commit's snapshot properties with the hub's time of the commit."""
    return {**properties, COMMITTED_AT: utc_now().isoformat()}


def committed_at(snapshot: Snapshot) -> datetime:
    """When the hub committed ``snapshot`` (Iceberg's own timestamp for one without the mark)."""
    mark = snapshot.summary.get(COMMITTED_AT) if snapshot.summary else None
    if mark:
        return datetime.fromisoformat(mark)
    return datetime.fromtimestamp(snapshot.timestamp_ms / 1000, UTC)


def committed_snapshot(table: Table, before: Snapshot | None) -> int | None:
    """The snapshot a commit made (None when it changed nothing); this process's readers
    look the table pointer up again from their next request on."""
    forget_pointers()
    after = table.refresh().current_snapshot()
    if after is None or (before is not None and after.snapshot_id == before.snapshot_id):
        return None
    return after.snapshot_id


def _window_filter(column: str, low, high):
    from pyiceberg.expressions import And, GreaterThanOrEqual, LessThan

    return And(GreaterThanOrEqual(column, low.isoformat()), LessThan(column, high.isoformat()))


def _as_bound(value, field_type) -> int:
    """A window edge in Iceberg's physical units: days for a date, microseconds otherwise."""
    from pyiceberg.types import DateType

    if isinstance(field_type, DateType):
        return (value - date(1970, 1, 1)).days
    return int(value.timestamp() * 1_000_000)


def _inside(data_file, field_id: int, low, high, field_type) -> bool:
    from pyiceberg.conversions import from_bytes

    lower = (data_file.lower_bounds or {}).get(field_id)
    upper = (data_file.upper_bounds or {}).get(field_id)
    if lower is None or upper is None:
        return False
    return from_bytes(field_type, lower) >= _as_bound(low, field_type) and from_bytes(
        field_type, upper
    ) < _as_bound(high, field_type)


def _bounds(table: Table, column: str, window: Window, timezone: str) -> tuple:
    """The window as values of ``column``: UTC instants, or local dates for a date column."""
    from pyiceberg.types import DateType

    if isinstance(table.schema().find_field(column).field_type, DateType):
        tz = ZoneInfo(timezone)
        return window.start.astimezone(tz).date(), window.end.astimezone(tz).date()
    return window.start.astimezone(UTC), window.end.astimezone(UTC)


def read_window(
    table: Table, column: str, window: Window, *, timezone: str, snapshot_id: int | None = None
) -> pa.Table:
    """The rows of one window, as of a snapshot (the current one by default)."""
    row_filter = _window_filter(column, *_bounds(table, column, window, timezone))
    return table.scan(row_filter=row_filter, snapshot_id=snapshot_id).to_arrow()


def replace_window(
    table: Table,
    data: pa.Table,
    column: str,
    window: Window,
    properties: dict[str, str],
    *,
    timezone: str,
) -> int | None:
    """Replace the rows of ``window`` (on ``column``) with ``data`` in one commit.

    A date column covers the window's local dates in ``timezone``.

    Files that lie wholly inside the window are swapped out in a single OVERWRITE (or APPEND)
    snapshot. Should an earlier file straddle the window edges (after a compaction, say), the
    commit falls back to pyiceberg's row-level overwrite, still one atomic transaction.

    Returns:
        The new snapshot id, or None when there was nothing to change.

    Raises:
        CommitFailedError: concurrent writers won every attempt; safe to retry later.
        CommitStateUnknownError: the catalog did not answer the commit; reconcile first.
    """
    from pyiceberg.exceptions import (
        CommitFailedException,
        CommitStateUnknownException,
        ValidationException,
    )

    field = table.schema().find_field(column)
    low, high = _bounds(table, column, window, timezone)
    row_filter = _window_filter(column, low, high)
    data = data.cast(arrow_schema(table, data))
    properties = stamped(properties)
    try:
        for attempt in range(1, COMMIT_ATTEMPTS + 1):
            # planned again on each attempt: another writer's commit may have changed the files
            old = [task.file for task in table.scan(row_filter=row_filter).plan_files()]
            before = table.current_snapshot()
            try:
                with table.transaction() as tx:
                    if old and not all(
                        _inside(f, field.field_id, low, high, field.field_type) for f in old
                    ):
                        tx.overwrite(
                            data, overwrite_filter=row_filter, snapshot_properties=properties
                        )
                    elif old or data.num_rows:
                        with tx.update_snapshot(snapshot_properties=properties).overwrite() as snap:
                            for data_file in old:
                                snap.delete_data_file(data_file)
                            if data.num_rows:
                                for data_file in write_data_files(
                                    table, tx, snap.commit_uuid, data
                                ):
                                    snap.append_data_file(data_file)
                break
            except (CommitFailedException, ValidationException) as exc:
                # neither landed (pyiceberg removed the files it wrote): pyiceberg's own retry
                # refuses an overwrite once any file was added meanwhile, even in another window
                if attempt == COMMIT_ATTEMPTS:
                    raise CommitFailedException(str(exc)) from exc
                log.info("%s: another writer committed first; trying again", ".".join(table.name()))
                time.sleep(random.uniform(0, COMMIT_BACKOFF_S * attempt))  # the racers spread out
                table.refresh()
    except CommitFailedException as exc:
        raise CommitFailedError(
            f"commit to {'.'.join(table.name())} was rejected {COMMIT_ATTEMPTS} times "
            f"(writers racing on it): {exc}"
        ) from exc
    except CommitStateUnknownException as exc:
        raise CommitStateUnknownError(
            f"commit to {'.'.join(table.name())} is in an unknown state: {exc}"
        ) from exc
    except OSError as exc:
        raise LakeError(f"writing {'.'.join(table.name())} failed: {exc}") from exc
    return committed_snapshot(table, before)


#: Tries of a window's commit when another writer commits to the table first (each planned
#: again on the table as it then is).
COMMIT_ATTEMPTS = 10
COMMIT_BACKOFF_S = 0.2
#: Parallel Parquet writers, and the smallest piece worth a file of its own.
WRITERS = 4
MIN_FILE_ROWS = 100_000


def write_data_files(table: Table, tx, commit_uuid, data: pa.Table) -> list:
    """Write ``data`` as Parquet data files, one partition slice per task, in parallel.

    pyiceberg splits a table by filtering it once per partition value (O(partitions x rows));
    slicing a table sorted by partition value is O(rows), and slices write on both cores.
    """
    import itertools
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow.compute as pc
    from pyiceberg.io.pyarrow import _dataframe_to_data_files

    def write(df: pa.Table) -> list:
        return list(
            _dataframe_to_data_files(
                table_metadata=tx.table_metadata,
                write_uuid=commit_uuid,
                df=df,
                io=table.io,
                counter=counter,
            )
        )

    counter = itertools.count(0)
    spec = tx.table_metadata.spec()
    if spec.is_unpartitioned() or len(spec.fields) != 1:
        return write(data)
    field = spec.fields[0]
    source = tx.table_metadata.schema().find_field(field.source_id)
    values = field.transform.pyarrow_transform(source.field_type)(data.column(source.name))
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    runs = pc.run_end_encode(values)
    if len(runs.run_ends) > pc.count_distinct(values).as_py():
        order = pc.sort_indices(values)
        data, values = data.take(order), values.take(order)
        runs = pc.run_end_encode(values)
    ends = runs.run_ends.to_pylist()
    # a big partition is cut into pieces too, so both cores encode Parquet at once
    piece = max(MIN_FILE_ROWS, -(-data.num_rows // WRITERS))
    slices = [
        data.slice(offset, min(piece, b - offset))
        for a, b in zip([0, *ends[:-1]], ends, strict=True)
        for offset in range(a, b, piece)
    ]
    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        return [f for files in pool.map(write, slices) for f in files]


def arrow_schema(table: Table, data: pa.Table) -> pa.Schema:
    """The data's schema with the table's nullability, so required columns write as required."""
    from pyiceberg.io.pyarrow import schema_to_pyarrow

    target = schema_to_pyarrow(table.schema(), include_field_ids=False)
    return pa.schema([target.field(name) for name in data.schema.names])


def stream_batches(scan: DataScan, tasks: list | None = None) -> Iterator[pa.RecordBatch]:
    """A scan's rows batch by batch, one data file at a time.

    ``DataScan.to_arrow_batch_reader`` reads every file at once on a thread pool and holds
    each whole file (apache/iceberg-python#3036), so a large table would sit in memory.
    """
    from pyiceberg.io.pyarrow import ArrowScan

    target = scan.projection().as_arrow()
    reader = ArrowScan(scan.table_metadata, scan.io, scan.projection(), scan.row_filter, True)
    for task in scan.plan_files() if tasks is None else tasks:
        for batch in reader.to_record_batches([task]):
            yield batch if batch.schema == target else batch.cast(target)
