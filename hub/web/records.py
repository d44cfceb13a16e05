"""Serving a dataset's rows to a partner or a citizen: authorized, audited, registered.

Public datasets come from the open zone (their open release); restricted ones from the
trusted zone, only the columns a valid grant covers, for the purpose it names. Every answer,
served or refused, is in the audit log; every served one in the provision register.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
from fastapi.responses import JSONResponse, Response

from catalog import audit, store
from catalog.models import Provision
from catalog.partners import Decision, authorize
from hub.lake import iceberg


def _open_columns(settings, dataset_id: str) -> list[str]:
    cat = iceberg.catalog(settings)
    if not cat.table_exists(("open", dataset_id)):
        return []
    return [f.name for f in cat.load_table(("open", dataset_id)).schema().fields]


def _rows(settings, decision: Decision, dataset_id: str, limit: int, offset: int) -> pa.Table:
    cat = iceberg.catalog(settings)
    if not cat.table_exists((decision.zone, dataset_id)):
        return pa.table({c: pa.array([], pa.string()) for c in decision.columns})
    table = cat.load_table((decision.zone, dataset_id))
    scan = table.scan(selected_fields=tuple(decision.columns), limit=offset + limit)
    return scan.to_arrow().slice(offset, limit)


def pull(
    settings, spec: Any, *, key: str | None, purpose: str | None, columns: list[str] | None,
    fmt: str, limit: int, offset: int, client: str,
) -> tuple[Decision, pa.Table | None, int | None]:  # fmt: skip
    """Authorize, read, audit and register one pull; the rows are None when refused."""
    url = settings.catalog_url
    decision = authorize(
        url, key=key, dataset_id=spec.id, access_class=spec.access_class.value,
        available=[f.name for f in spec.published_fields],
        open_columns=_open_columns(settings, spec.id), purpose=purpose, columns=columns,
    )  # fmt: skip
    who = decision.partner_id or "anonymous"
    detail: dict[str, Any] = {
        "status": decision.status, "reason": decision.reason, "key": decision.key_prefix,
        "columns": decision.columns or columns, "format": fmt, "offset": offset, "limit": limit,
    }  # fmt: skip
    if not decision.allowed:
        audit.record(url, "api_refused", spec.id, purpose=purpose or "", detail=detail,
                     who=who, origin=client)  # fmt: skip
        return decision, None, None
    data = _rows(settings, decision, spec.id, limit, offset)
    versions = store.versions(url, spec.id)
    snapshot = versions[-1].snapshot_id if versions else None
    audit.record(url, "api_pull", spec.id, purpose=decision.purpose,
                 detail={**detail, "rows": data.num_rows, "snapshot_id": snapshot},
                 who=who, origin=client)  # fmt: skip
    store.add(url, Provision(
        dataset_id=spec.id, snapshot_id=snapshot, recipient=decision.partner_id or "public",
        channel="api", purpose=decision.purpose, legal_basis=decision.legal_basis,
        rows=data.num_rows, client_address=client, provided_at=store.now(),
    ))  # fmt: skip
    return decision, data, snapshot


def total_rows(settings, zone: str, dataset_id: str) -> int:
    """Rows in the current snapshot, from its summary (no scan)."""
    cat = iceberg.catalog(settings)
    if not cat.table_exists((zone, dataset_id)):
        return 0
    snapshot = cat.load_table((zone, dataset_id)).current_snapshot()
    return int(snapshot.summary.get("total-records", 0)) if snapshot else 0


def serve_records(settings, spec: Any, *, fmt: str, offset: int, **request: Any) -> Response:
    decision, data, snapshot = pull(settings, spec, fmt=fmt, offset=offset, **request)
    if data is None:
        headers = {"Retry-After": str(decision.retry_after)} if decision.retry_after else None
        return JSONResponse({"detail": decision.reason}, status_code=decision.status,
                            headers=headers)  # fmt: skip
    if fmt == "csv":
        sink = io.BytesIO()
        sink.write(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel opens Hangul intact
        pacsv.write_csv(data, sink)
        return Response(sink.getvalue(), media_type="text/csv; charset=utf-8")
    body = {
        "dataset": spec.id,
        "version": snapshot,
        "offset": offset,
        "rows": data.num_rows,
        "items": json.loads(json.dumps(data.to_pylist(), default=str, ensure_ascii=False)),
    }
    return JSONResponse(body)


#: data.go.kr result codes for the refusals a national-portal client knows how to read.
PORTAL_CODES = {401: ("30", "SERVICE_KEY_IS_NOT_REGISTERED_ERROR"),
                429: ("22", "LIMITED_NUMBER_OF_SERVICE_REQUESTS_EXCEEDS_ERROR"),
                403: ("20", "SERVICE_ACCESS_DENIED_ERROR"),
                400: ("10", "INVALID_REQUEST_PARAMETER_ERROR")}  # fmt: skip


def serve_portal_page(
    settings, spec: Any, *, key: str | None, purpose: str | None, page: int, rows: int,
    client: str,
) -> Response:  # fmt: skip
    """One page in the data.go.kr envelope (response.header.resultCode/resultMsg, body.items,
    totalCount, pageNo, numOfRows), answered with HTTP 200 as the national portal does."""
    decision, data, _ = pull(
        settings, spec, key=key, purpose=purpose, columns=None, fmt="json", limit=rows,
        offset=(page - 1) * rows, client=client,
    )  # fmt: skip
    if data is None:
        code, message = PORTAL_CODES.get(decision.status, ("99", "UNKNOWN_ERROR"))
        header, body = {"resultCode": code, "resultMsg": message}, {
            "items": [], "numOfRows": rows, "pageNo": page, "totalCount": 0}  # fmt: skip
    else:
        items = json.loads(json.dumps(data.to_pylist(), default=str, ensure_ascii=False))
        header = {"resultCode": "00", "resultMsg": "NORMAL SERVICE."}
        body = {"items": items, "numOfRows": rows, "pageNo": page,
                "totalCount": total_rows(settings, decision.zone, spec.id)}  # fmt: skip
    return JSONResponse({"response": {"header": header, "body": body}})
