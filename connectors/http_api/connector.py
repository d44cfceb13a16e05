"""Fetching and reading a paged data.go.kr-style Open API.

``fetch`` pages through ``totalCount``, retries 429/5xx/time-outs with backoff (honouring
``Retry-After``), and fails clearly on a result-code error, even one inside HTTP 200.
"""

from __future__ import annotations

import io
import json
import logging
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from connectors.base import FetchContext, FetchResult, Sink, expand_env, keep_evidence
from connectors.http_api.config import HttpApiConfig
from connectors.http_common import sender
from connectors.records import records_table, sparse
from connectors.redaction import redact_url
from hub.core.delivery import RawPart
from hub.core.errors import DeliveryError, TransientDeliveryError

log = logging.getLogger(__name__)

CONFIG = HttpApiConfig


def _dig(doc: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(doc, dict) or part not in doc:
            return None
        doc = doc[part]
    return doc


def fetch(config: HttpApiConfig, ctx: FetchContext, sink: Sink) -> FetchResult:
    """Page through the API for the context's window, sinking each page's bytes as received.

    Raises:
        DeliveryError: the agency answered an error code, malformed JSON or an unusable page.
        TransientDeliveryError: 429/5xx/time-outs persisted through every attempt.
    """
    url = expand_env(config.url, feed_id=ctx.feed_id, what="delivery.options.url")
    key = (
        expand_env(config.service_key, feed_id=ctx.feed_id, what="delivery.options.service_key")
        if config.service_key
        else None
    )
    tz = ZoneInfo(ctx.timezone)
    window = {"start": ctx.window.start.astimezone(tz), "end": ctx.window.end.astimezone(tz)}
    params: dict[str, Any] = {name: value.format(**window) for name, value in config.params.items()}
    params.setdefault("returnType", config.format)
    headers: dict[str, str] = {}
    secrets = [key] if key else []
    if key and config.key_in == "query":
        params[config.key_param] = key
    elif key:
        headers[config.key_param] = key

    result = FetchResult()
    seen = 0
    total: int | None = None
    previous: list | None = None
    with httpx.Client(timeout=config.timeout_s, headers=headers) as client:
        get = sender(
            config.max_attempts, config.backoff_max_s, config.retry_budget_s, config.timeout_s
        )
        for page in range(1, config.max_pages + 1):
            page_params = {**params, config.page_param: page, config.size_param: config.page_size}
            request = httpx.Request("GET", url, params=page_params)
            where = f"feed {ctx.feed_id}: GET {redact_url(str(request.url), secrets)}"
            response = get(client, request, where)
            try:
                doc = _decode(response, where, config.format)
                _check_result_code(config, doc, where)
                items = _dig(doc, config.items_path)
                if isinstance(items, dict):  # XML: a single <item> is not a list
                    items = [items]
                if items is None and _dig(doc, config.result_code_path) in config.no_data_codes:
                    items = []
                if not isinstance(items, list):
                    raise DeliveryError(f"{where}: no list at '{config.items_path}' in the answer")
                page_total = _as_int(_dig(doc, config.total_path), where, config.total_path)
            except DeliveryError as exc:
                if not exc.transient:
                    keep_evidence(
                        sink,
                        f"page-{page:05d}.unusable",
                        response.content,
                        response.headers.get("content-type", "application/octet-stream"),
                        redact_url(str(request.url), secrets),
                    )
                raise
            if total is None:
                total = page_total
            elif page_total is not None and page_total != total:
                raise TransientDeliveryError(
                    f"{where}: totalCount changed from {total} to {page_total} while paging; "
                    "the source is being updated, retry later"
                )
            if items and items == previous:
                raise TransientDeliveryError(
                    f"{where}: page {page} repeats page {page - 1} item for item (a stale cache "
                    "at the provider?); the delivery is incomplete, so nothing is published"
                )
            previous = items
            if items:
                sink(
                    RawPart(
                        name=f"page-{page:05d}.json",
                        data=response.content,
                        content_type=response.headers.get("content-type", "application/json"),
                        source=redact_url(str(request.url), secrets),
                        rows_reported=len(items),
                    )
                )
                result.parts += 1
            seen += len(items)
            log.info("%s: %d rows (page %d, %d of %s)", where, len(items), page, seen, total)
            if not items or (total is not None and seen >= total) or len(items) < config.page_size:
                break
        else:
            raise DeliveryError(
                f"feed {ctx.feed_id}: more than max_pages={config.max_pages} pages; raise the limit "
                "or narrow the window"
            )
    if total is not None and seen != total:
        raise DeliveryError(
            f"feed {ctx.feed_id}: the API reported totalCount {total} but delivered {seen} rows"
        )
    result.rows_reported = total if total is not None else seen
    return result


def _decode(response: httpx.Response, where: str, fmt: str = "json") -> dict[str, Any]:
    body = response.content
    if b"<OpenAPI_ServiceResponse" in body[:200]:
        # data.go.kr answers gateway errors (bad key, quota) as XML whatever format was asked.
        raise DeliveryError(f"{where}: {_gateway_error(body)}")
    if body.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html")):
        raise DeliveryError(
            f"{where}: answered an HTML page where {fmt.upper()} was expected (a portal error "
            f"or maintenance page?): {body[:80]!r}"
        )
    if fmt == "xml":
        return _xml_document(body, where)
    if body.lstrip().startswith(b"<"):
        raise DeliveryError(f"{where}: answered XML or HTML where JSON was expected: {body[:80]!r}")
    try:
        doc = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise DeliveryError(
            f"{where}: answered malformed JSON ({exc}); first bytes: {body[:80]!r}"
        ) from None
    if not isinstance(doc, dict):
        raise DeliveryError(f"{where}: answered JSON {type(doc).__name__}, expected an object")
    return doc


def _xml_document(body: bytes, where: str) -> dict[str, Any]:
    from xml.etree import ElementTree

    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as exc:
        raise DeliveryError(f"{where}: answered malformed XML ({exc})") from None
    return {root.tag: _xml_value(root)}


def _xml_value(element) -> Any:
    """An element as JSON-like data: leaves are text, repeated child tags become lists."""
    children = list(element)
    if not children:
        return (element.text or "").strip() or None
    out: dict[str, Any] = {}
    for child in children:
        value = _xml_value(child)
        if child.tag in out:
            if not isinstance(out[child.tag], list):
                out[child.tag] = [out[child.tag]]
            out[child.tag].append(value)
        else:
            out[child.tag] = value
    return out


def _gateway_error(body: bytes) -> str:
    from xml.etree import ElementTree

    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return f"answered XML that does not parse: {body[:120]!r}"
    code = root.findtext(".//returnReasonCode") or root.findtext(".//resultCode")
    msg = root.findtext(".//returnAuthMsg") or root.findtext(".//resultMsg")
    err = root.findtext(".//errMsg")
    return f"the API gateway refused the request: resultCode {code} {msg or ''} {err or ''}".strip()


def _check_result_code(config: HttpApiConfig, doc: dict[str, Any], where: str) -> None:
    code = _dig(doc, config.result_code_path)
    if code is None:
        raise DeliveryError(f"{where}: the answer has no '{config.result_code_path}'")
    code = str(code)
    if code in config.ok_codes or code in config.no_data_codes:
        return
    message = _dig(doc, config.result_msg_path)
    error = TransientDeliveryError if code in config.transient_codes else DeliveryError
    raise error(f"{where}: the agency answered resultCode {code} ({message})")


def _as_int(value: Any, where: str, path: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise DeliveryError(f"{where}: '{path}' is not a number: {value!r}") from None


def _one_array(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def _read_mixed(config: HttpApiConfig, data: bytes, name: str) -> pa.Table:
    """A JSON page whose fields mix types (``10`` here, ``"-"`` or ``"NaN"`` there): its items
    as text records, so the validate step quarantines only the values it cannot read."""
    doc = _decode_page(data, name)
    items = _dig(doc, config.items_path)
    items = [items] if isinstance(items, dict) else items
    if not isinstance(items, list):
        raise DeliveryError(f"{name}: no list at '{config.items_path}' in the page")
    return records_table([i for i in items if isinstance(i, dict)], name=name)


def _decode_page(data: bytes, name: str) -> dict[str, Any]:
    try:
        doc = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise DeliveryError(f"{name}: not a JSON page: {exc}") from None
    if not isinstance(doc, dict):
        raise DeliveryError(f"{name}: not a JSON page: {type(doc).__name__}, not an object")
    return doc


def read(config: HttpApiConfig, data: bytes, *, name: str) -> pa.Table:
    """The items of one landed page as an Arrow table of source fields (types as sent).

    Raises:
        DeliveryError: the page does not parse or has no item list.
    """
    if config.format == "xml":
        doc = _xml_document(data, name)
        items = _dig(doc, config.items_path)
        if items is None and _dig(doc, config.result_code_path) is None:
            raise DeliveryError(f"{name}: no '{config.items_path}' in the page")
        items = [items] if isinstance(items, dict) else items or []
        return records_table([i for i in items if isinstance(i, dict)], name=name)
    try:
        doc = pj.read_json(
            io.BytesIO(data),
            read_options=pj.ReadOptions(block_size=len(data) + 1, use_threads=False),
            parse_options=pj.ParseOptions(newlines_in_values=True),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        if "changed from" not in str(exc):
            raise DeliveryError(f"{name}: not a JSON page: {exc}") from None
        return _read_mixed(config, data, name)  # a field mixes numbers and text
    column: pa.Array | pa.ChunkedArray = doc.to_struct_array() if doc.num_columns else None
    for part in config.items_path.split("."):
        if (
            column is None
            or not pa.types.is_struct(column.type)
            or column.type.get_field_index(part) < 0
        ):
            raise DeliveryError(f"{name}: no '{config.items_path}' in the page")
        column = pc.struct_field(column, part)
    if pa.types.is_struct(column.type):
        # data.go.kr's XML-to-JSON conversion sends one row as an object, not a list of one
        return sparse(pa.Table.from_struct_array(_one_array(column)))
    if not pa.types.is_list(column.type) and not pa.types.is_large_list(column.type):
        raise DeliveryError(f"{name}: '{config.items_path}' is not a list")
    items = pc.list_flatten(column)
    if isinstance(items, pa.ChunkedArray):
        items = items.combine_chunks()
    if not pa.types.is_struct(items.type):
        if len(items) == 0:
            return pa.table({})
        raise DeliveryError(f"{name}: the items in '{config.items_path}' are not objects")
    return sparse(pa.Table.from_struct_array(items))
