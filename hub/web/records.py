"""Serving a dataset's rows to a partner or a citizen: authorized, audited, registered.

Public datasets come from the open zone (their open release); restricted ones from the
trusted zone, only the columns a valid grant covers, for the purpose it names. Every answer,
served or refused, is in the audit log; every served one in the provision register.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from cachetools import LRUCache
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pyiceberg.table import Table
from starlette.concurrency import iterate_in_threadpool

from catalog import audit
from catalog.entries import exports_of
from catalog.models import Provision
from catalog.partners import Decision, authorize
from hub.core.errors import LakeError
from hub.core.settings import HubSettings
from hub.core.time import utc_now
from hub.lake import iceberg
from hub.lake.formats import csv_chunks, parquet_chunks
from hub.lake.objectstore import ObjectStore
from hub.registry.spec import DatasetSpec
from hub.web.query import QueryError, RecordQuery, changes, equality_filters, read_batches

log = logging.getLogger(__name__)

#: Seconds a web worker serves the version it last looked up before asking the catalog again:
#: a version another process published is served by every worker within this time (and
#: X-Dataset-Version says which one an answer is), at one catalog query per table and second.
VERSION_CHECK_S = 1.0


def served_table(settings: HubSettings, spec: DatasetSpec, zone: str | None = None) -> Table | None:
    """The table a dataset's rows are served from: its open release when public, else the
    trusted table a grant reads; the version looked up within ``VERSION_CHECK_S``."""
    zone = zone or ("open" if spec.is_public else "trusted")
    return iceberg.current_table(settings, zone, spec.id, max_age_s=VERSION_CHECK_S)


def _rows(
    table: Table | None, decision: Decision, limit: int, offset: int
) -> tuple[pa.Table, int | None]:
    """One page of the current version, read as /records reads it; and its snapshot."""
    if table is None:
        return pa.table({c: pa.array([], pa.string()) for c in decision.columns}), None
    schema, batches, snapshot = read_batches(
        table, RecordQuery(), decision.columns, None, limit, offset
    )
    return pa.Table.from_batches(list(batches), schema), snapshot


def decide(
    settings: HubSettings,
    spec: DatasetSpec,
    *,
    key: str | None,
    purpose: str | None,
    columns: list[str] | None,
    client: str,
    detail: dict[str, Any],
    table: Table | None,
) -> Decision:
    """Authorize one request; a refusal is audited here, with ``detail`` (what was asked).

    ``table`` is the dataset's ``served_table``, which the caller reads from: a public
    dataset's open columns are its columns."""
    url = settings.catalog_url
    open_columns = [f.name for f in table.schema().fields] if spec.is_public and table else []
    decision = authorize(
        url,
        key=key,
        dataset_id=spec.id,
        access_class=spec.access_class.value,
        available=[f.name for f in spec.published_fields],
        open_columns=open_columns,
        purpose=purpose,
        columns=columns,
    )
    detail.update(
        status=decision.status,
        reason=decision.reason,
        key=decision.key_prefix,
        columns=decision.columns or columns,
    )
    if not decision.allowed:
        audit.record(
            url,
            "api_refused",
            spec.id,
            purpose=purpose or "",
            detail=detail,
            who=decision.partner_id or "anonymous",
            origin=client,
        )
    return decision


def authorized(
    settings: HubSettings,
    spec: DatasetSpec,
    *,
    key: str | None,
    purpose: str | None,
    columns: list[str] | None,
    client: str,
    detail: dict[str, Any],
) -> tuple[Decision, Table | None]:
    """The decision on one request for a dataset's rows, and the table they are served from."""
    table = served_table(settings, spec)
    decision = decide(
        settings,
        spec,
        key=key,
        purpose=purpose,
        columns=columns,
        client=client,
        detail=detail,
        table=table,
    )
    return decision, table


def served(
    settings: HubSettings,
    spec: DatasetSpec,
    decision: Decision,
    *,
    rows: int,
    snapshot: int | None,
    client: str,
    detail: dict[str, Any],
    channel: str = "api",
    action: str = "api_pull",
) -> None:
    """Record a served answer: the audit log and the provision register, in one transaction."""
    provision = Provision(
        dataset_id=spec.id,
        snapshot_id=snapshot,
        recipient=decision.partner_id or "public",
        channel=channel,
        purpose=decision.purpose,
        legal_basis=decision.legal_basis,
        rows=rows,
        client_address=client,
        provided_at=utc_now(),
    )
    audit.record(
        settings.catalog_url,
        action,
        spec.id,
        purpose=decision.purpose,
        detail={**detail, "rows": rows, "snapshot_id": snapshot},
        who=decision.partner_id or "anonymous",
        origin=client,
        rows=[provision],
    )


def retry_headers(decision: Decision) -> dict[str, str] | None:
    return {"Retry-After": str(decision.retry_after)} if decision.retry_after else None


def refusal(decision: Decision) -> JSONResponse:
    """The answer to a refused request (already audited by ``decide``)."""
    return JSONResponse(
        {"detail": decision.reason}, status_code=decision.status, headers=retry_headers(decision)
    )


def record_refusal(
    settings: HubSettings,
    spec: DatasetSpec,
    decision: Decision,
    status: int,
    reason: str,
    *,
    client: str,
    detail: dict[str, Any],
) -> None:
    """Audit an authorized request the data cannot answer (bad parameter, nothing found)."""
    detail.update(status=status, reason=reason)
    audit.record(
        settings.catalog_url,
        "api_refused",
        spec.id,
        purpose=decision.purpose,
        detail=detail,
        who=decision.partner_id or "anonymous",
        origin=client,
    )


def refuse(
    settings: HubSettings,
    spec: DatasetSpec,
    decision: Decision,
    status: int,
    reason: str,
    **audited: Any,
) -> JSONResponse:
    """Audit, then answer, a request the data cannot answer."""
    record_refusal(settings, spec, decision, status, reason, **audited)
    return JSONResponse({"detail": reason}, status_code=status)


def pull(
    settings: HubSettings,
    spec: DatasetSpec,
    *,
    key: str | None,
    purpose: str | None,
    columns: list[str] | None,
    fmt: str,
    limit: int,
    offset: int,
    client: str,
) -> tuple[Decision, pa.Table | None, Table | None]:
    """Authorize, read, audit and register one pull: the decision, the rows (None when
    refused) and the table they were read from."""
    detail: dict[str, Any] = {"format": fmt, "offset": offset, "limit": limit}
    decision, table = authorized(
        settings, spec, key=key, purpose=purpose, columns=columns, client=client, detail=detail
    )
    if not decision.allowed:
        return decision, None, table
    data, snapshot = _rows(table, decision, limit, offset)
    served(
        settings,
        spec,
        decision,
        rows=data.num_rows,
        snapshot=snapshot,
        client=client,
        detail=detail,
    )
    return decision, data, table


@dataclass
class FirstRows:
    """What a dataset's page shows of its rows: the rows and their version, or why none (and
    the status a refusal answers with), and the columns served to filter by."""

    data: pa.Table | None
    version: int | None
    problem: str | None = None
    status: int = 200
    columns: list[str] = field(default_factory=list)


def first_rows(
    settings: HubSettings,
    spec: DatasetSpec,
    rows: int,
    client: str,
    query: RecordQuery | None = None,
    params: dict[str, str] | None = None,
) -> FirstRows | None:
    """A public dataset's first rows for its page, narrowed by the records API's own filters
    (``params`` named after columns, ``query``'s time range): authorized, read, audited and
    registered as a /records page is. None for a dataset that is not public."""
    if not spec.is_public:
        return None
    query = query or RecordQuery()
    detail: dict[str, Any] = {"format": "html", "offset": 0, "limit": rows}
    decision, table = authorized(
        settings, spec, key=None, purpose=None, columns=None, client=client, detail=detail
    )
    if not decision.allowed:
        return FirstRows(None, None, decision.reason, decision.status)
    served_columns = list(decision.columns)
    if table is None:  # nothing published yet: nothing read, nothing to register
        return FirstRows(None, None, columns=served_columns)
    try:
        table, time_column = _checked(
            table, spec, decision, query, params or {}, "json", rows, detail
        )
        schema, batches, snapshot = _read(table, decision.columns, query, time_column, rows, 0)
        data = pa.Table.from_batches(list(batches), schema)
    except QueryError as exc:
        record_refusal(settings, spec, decision, 400, str(exc), client=client, detail=detail)
        return FirstRows(None, None, str(exc), 400, served_columns)
    except Exception as exc:  # a fault of the hub: audited; the page keeps its metadata
        reason = f"{type(exc).__name__}: {exc}"
        record_refusal(settings, spec, decision, 500, reason, client=client, detail=detail)
        log.exception("%s: the first rows could not be read", spec.id)
        return FirstRows(None, None, "the rows could not be read just now", 200, served_columns)
    served(
        settings,
        spec,
        decision,
        rows=data.num_rows,
        snapshot=snapshot,
        client=client,
        detail=detail,
        channel="page",
    )
    return FirstRows(data, snapshot, columns=served_columns)


def total_rows(table: Table | None) -> int:
    """Rows in the table's current snapshot, from its summary (no scan)."""
    snapshot = None if table is None else table.current_snapshot()
    return int(snapshot.summary.get("total-records", 0)) if snapshot else 0


def _counted(batches: Iterable[pa.RecordBatch], seen: list[int]) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        seen[0] += batch.num_rows
        yield batch


def _jsonable(data: pa.Table) -> list[dict[str, Any]]:
    return json.loads(json.dumps(data.to_pylist(), default=str, ensure_ascii=False))


MEDIA = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}
JSON_PAGE_MAX = 10_000
#: The records route's own query parameters; any other names a column to filter by.
OWN_PARAMETERS = {
    "purpose",
    "columns",
    "format",
    "limit",
    "offset",
    "version",
    "since",
    "from",
    "to",
}


def _checked(
    table: Table | None,
    spec: DatasetSpec,
    decision: Decision,
    query: RecordQuery,
    params: dict[str, str],
    fmt: str,
    limit: int | None,
    detail: dict[str, Any],
) -> tuple[Table, str | None]:
    """The table to read and its time column, once the filters are checked against what is
    served; ``QueryError`` for a bad request."""
    time_column = spec.partition.column if spec.partition else None
    query.equals = equality_filters(params, OWN_PARAMETERS, decision.columns)
    detail["filters"] = {**query.equals, **query.bounds()}
    if (query.start or query.end) and time_column not in decision.columns:
        raise QueryError(f"?from= / ?to= filter on {time_column}, which is not served here")
    if fmt == "json" and limit is not None and limit > JSON_PAGE_MAX:
        raise QueryError(
            f"?limit= is at most {JSON_PAGE_MAX} for JSON; CSV and Parquet stream any number of rows"
        )
    if table is None:
        raise QueryError(f"{spec.id} has no published version yet")
    return table, time_column


def _read(
    table: Table,
    columns: list[str],
    query: RecordQuery,
    time_column: str | None,
    limit: int | None,
    offset: int,
) -> tuple[pa.Schema, Iterator[pa.RecordBatch], int | None]:
    """The schema, batches and snapshot of the rows asked for (changes with ``since``)."""
    if query.since is None:
        return read_batches(table, query, columns, time_column, limit, offset)
    data, snapshot = changes(table, query, columns, time_column)
    data = data.slice(offset, limit) if limit is not None else data.slice(offset)
    return data.schema, iter(data.to_batches()), snapshot


#: JSON pages kept per worker process, counted in rows. A page of a table version never changes,
#: and the version is checked against the catalog on every request (``current_table``), so a
#: kept page is never stale; it spares re-reading Parquet from S3 for the pages everyone asks.
PAGE_ROWS_KEPT = 200_000
_pages: LRUCache[tuple[Any, ...], tuple[bytes, int, int | None]] = LRUCache(
    maxsize=PAGE_ROWS_KEPT, getsizeof=lambda page: max(1, page[1])
)
_paging = threading.Lock()


def _json_page(
    table: Table,
    columns: list[str],
    query: RecordQuery,
    time_column: str | None,
    limit: int | None,
    offset: int,
) -> tuple[bytes, int, int | None]:
    """One JSON page's items (rendered), their number and snapshot, read and rendered once per
    table version and request."""
    key = (
        table.metadata_location,
        tuple(columns),
        tuple(sorted(query.equals.items())),
        query.start,
        query.end,
        query.version,
        query.since,
        limit,
        offset,
    )
    with _paging:
        page = _pages.get(key)
    if page is None:
        schema, batches, snapshot = _read(table, columns, query, time_column, limit, offset)
        items = pa.Table.from_batches(list(batches), schema).to_pylist()
        rendered = json.dumps(items, default=str, ensure_ascii=False, allow_nan=False).encode()
        page = (rendered, len(items), snapshot)
        with _paging:
            _pages[key] = page
    return page


def _streamed(
    settings: HubSettings,
    spec: DatasetSpec,
    decision: Decision,
    fmt: str,
    rows: tuple[pa.Schema, Iterator[pa.RecordBatch], int | None],
    client: str,
    detail: dict[str, Any],
    headers: dict[str, str],
) -> StreamingResponse:
    """CSV or Parquet streamed batch by batch, registered once the stream ends."""
    schema, batches, snapshot = rows

    async def stream() -> AsyncIterator[bytes]:
        seen, complete = [0], False
        counted = _counted(batches, seen)
        chunks = csv_chunks(schema, counted) if fmt == "csv" else parquet_chunks(schema, counted)
        try:
            async for chunk in iterate_in_threadpool(chunks):
                yield chunk
            complete = True
        finally:  # registered with the rows read for the client, and whether all were sent
            ended = {**detail, "complete": complete}
            served(
                settings,
                spec,
                decision,
                rows=seen[0],
                snapshot=snapshot,
                client=client,
                detail=ended,
            )

    headers["Content-Disposition"] = f'attachment; filename="{spec.id}.{fmt}"'
    return StreamingResponse(stream(), media_type=MEDIA[fmt], headers=headers)


def serve_records(
    settings: HubSettings,
    spec: DatasetSpec,
    *,
    key: str | None,
    purpose: str | None,
    columns: list[str] | None,
    fmt: str,
    limit: int | None,
    offset: int,
    client: str,
    query: RecordQuery,
    params: dict[str, str],
) -> Response:
    """Rows as JSON (a page), or CSV / Parquet streamed batch by batch (a page or everything)."""
    detail: dict[str, Any] = {
        "format": fmt,
        "offset": offset,
        "limit": limit,
        "version": query.version,
        "since": query.since,
    }
    decision, table = authorized(
        settings, spec, key=key, purpose=purpose, columns=columns, client=client, detail=detail
    )
    if not decision.allowed:
        return refusal(decision)
    if fmt == "json":
        limit = limit or 100
    try:
        table, time_column = _checked(table, spec, decision, query, params, fmt, limit, detail)
        if fmt == "json":
            items, count, snapshot = _json_page(
                table, decision.columns, query, time_column, limit, offset
            )
        else:
            rows = _read(table, decision.columns, query, time_column, limit, offset)
            snapshot = rows[2]
    except QueryError as exc:
        return refuse(settings, spec, decision, 400, str(exc), client=client, detail=detail)
    except Exception as exc:  # a fault of the hub: still in the audit log, then a 500
        reason = f"{type(exc).__name__}: {exc}"
        record_refusal(settings, spec, decision, 500, reason, client=client, detail=detail)
        raise
    headers = {"X-Dataset-Version": str(snapshot)} if snapshot else {}
    if fmt != "json":
        return _streamed(settings, spec, decision, fmt, rows, client, detail, headers)
    served(
        settings,
        spec,
        decision,
        rows=count,
        snapshot=snapshot,
        client=client,
        detail=detail,
    )
    head = {
        "dataset": spec.id,
        "version": snapshot,
        "since": query.since,
        "offset": offset,
        "rows": count,
    }  # the kept page is spliced in as rendered: no second encoding per request
    body = json.dumps(head, ensure_ascii=False).encode()[:-1] + b', "items": ' + items + b"}"
    return Response(body, media_type="application/json", headers=headers)


def serve_file(
    settings: HubSettings,
    spec: DatasetSpec,
    *,
    fmt: str,
    version: int | None,
    key: str | None,
    client: str,
) -> Response:
    """Stream one export file from the open bucket, with its SHA-256; audited and registered."""
    detail: dict[str, Any] = {"format": fmt, "version": version, "download": True}
    decision, _ = authorized(
        settings, spec, key=key, purpose=None, columns=None, client=client, detail=detail
    )
    if not decision.allowed:
        return refusal(decision)
    if decision.zone != "open":  # a grant gives rows through /records, never a whole file
        reason = f"{spec.id} is not open data: download files are for public datasets only"
        return refuse(settings, spec, decision, 403, reason, client=client, detail=detail)
    found = [e for e in exports_of(settings.catalog_url, spec.id, version) if e.format == fmt]
    if not found:
        reason = f"{spec.id} has no {fmt} download" + (f" for version {version}" if version else "")
        return refuse(settings, spec, decision, 404, reason, client=client, detail=detail)
    export = found[0]
    detail.update(key=decision.key_prefix, object=export.object_key, sha256=export.sha256)
    try:  # opened before answering: a missing object is an error, not a cut-off 200
        body = ObjectStore(settings).stream("open", export.object_key)
    except LakeError as exc:
        record_refusal(settings, spec, decision, 500, str(exc), client=client, detail=detail)
        raise
    served(
        settings,
        spec,
        decision,
        rows=export.rows,
        snapshot=export.snapshot_id,
        client=client,
        detail=detail,
        channel="download",
        action="download",
    )
    digest = base64.b64encode(bytes.fromhex(export.sha256)).decode()
    headers = {
        "Content-Length": str(export.bytes),
        "Content-Disposition": f'attachment; filename="{export.object_key.rsplit("/", 1)[-1]}"',
        "X-Checksum-SHA256": export.sha256,
        "Repr-Digest": f"sha-256=:{digest}:",  # RFC 9530
        "X-Dataset-Version": str(export.snapshot_id),
    }
    return StreamingResponse(body, media_type=export.media_type, headers=headers)


#: data.go.kr result codes for the refusals a national-portal client knows how to read.
PORTAL_CODES = {
    401: ("30", "SERVICE_KEY_IS_NOT_REGISTERED_ERROR"),
    429: ("22", "LIMITED_NUMBER_OF_SERVICE_REQUESTS_EXCEEDS_ERROR"),
    403: ("20", "SERVICE_ACCESS_DENIED_ERROR"),
    400: ("10", "INVALID_REQUEST_PARAMETER_ERROR"),
}


def serve_portal_page(
    settings: HubSettings,
    spec: DatasetSpec,
    *,
    key: str | None,
    purpose: str | None,
    page: int,
    rows: int,
    client: str,
) -> Response:
    """One page in the data.go.kr envelope (response.header.resultCode/resultMsg, body.items,
    totalCount, pageNo, numOfRows), answered with HTTP 200 as the national portal does."""
    decision, data, table = pull(
        settings,
        spec,
        key=key,
        purpose=purpose,
        columns=None,
        fmt="json",
        limit=rows,
        offset=(page - 1) * rows,
        client=client,
    )
    if data is None:
        code, message = PORTAL_CODES.get(decision.status, ("99", "UNKNOWN_ERROR"))
        header, body = (
            {"resultCode": code, "resultMsg": message},
            {"items": [], "numOfRows": rows, "pageNo": page, "totalCount": 0},
        )
    else:
        items = _jsonable(data)
        header = {"resultCode": "00", "resultMsg": "NORMAL SERVICE."}
        body = {
            "items": items,
            "numOfRows": rows,
            "pageNo": page,
            "totalCount": total_rows(table),
        }
    return JSONResponse({"response": {"header": header, "body": body}})
