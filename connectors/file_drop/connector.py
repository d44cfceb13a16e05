"""Landing and reading files from the inbox bucket.

``fetch`` lands every file of the window's prefix byte-for-byte; ``read`` turns one file into
an Arrow table of text columns (typing is the validate step's job, so codes such as "0012"
keep their leading zeros).
"""

from __future__ import annotations

import fnmatch
import io
import json
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc

from connectors.base import FetchContext, FetchResult, Sink
from connectors.file_drop.config import FileDropConfig
from connectors.records import records_table, sparse
from hub.core.delivery import RawPart
from hub.core.errors import DeliveryError, TransientDeliveryError

CONFIG = FileDropConfig

CONTENT_TYPES = {
    "csv": "text/csv",
    "excel": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "jsonl": "application/x-ndjson",
    "parquet": "application/vnd.apache.parquet",
}


def window_prefix(config: FileDropConfig, ctx: FetchContext) -> str:
    tz = ZoneInfo(ctx.timezone)
    return config.prefix.format(
        start=ctx.window.start.astimezone(tz), end=ctx.window.end.astimezone(tz)
    )


def fetch(config: FileDropConfig, ctx: FetchContext, sink: Sink) -> FetchResult:
    """Land each file of the window, in name order.

    Raises:
        TransientDeliveryError: fewer files than ``min_files`` yet (the agency may still drop).
        DeliveryError: a file is empty.
    """
    store = ctx.inbox
    if store is None:
        raise DeliveryError(f"feed {ctx.feed_id}: the file-drop connector needs the hub's inbox")
    prefix = window_prefix(config, ctx)
    names = sorted(
        key
        for key in store.list("inbox", prefix)
        if fnmatch.fnmatch(key.rsplit("/", 1)[-1], config.pattern)
    )
    where = f"feed {ctx.feed_id}: {store.url('inbox', prefix)}{config.pattern}"
    if len(names) < config.min_files:
        raise TransientDeliveryError(
            f"{where}: {len(names)} file(s) dropped, {config.min_files} expected; "
            "the provider has not delivered this window yet"
        )
    result = FetchResult()
    for key in names:
        data, etag = store.get_versioned("inbox", key)
        if not data:
            raise DeliveryError(f"feed {ctx.feed_id}: {store.url('inbox', key)} is empty (0 bytes)")
        sink(
            RawPart(
                name=key[len(prefix) :] if key.startswith(prefix) else key,
                data=data,
                content_type=CONTENT_TYPES[config.format],
                source=store.url("inbox", key),
                copy_source=("inbox", key, etag),
            )
        )
        result.parts += 1
    return result


def read(config: FileDropConfig, data: bytes, *, name: str) -> pa.Table:
    """One landed file as a table of source columns.

    Raises:
        DeliveryError: the file does not parse as the declared format (names file and cause).
    """
    if not data:
        raise DeliveryError(f"{name}: empty file (0 bytes)")
    readers = {
        "csv": _read_csv,
        "excel": _read_excel,
        "json": _read_json,
        "jsonl": _read_jsonl,
        "parquet": _read_parquet,
    }
    try:
        return readers[config.format](config, data, name)
    except DeliveryError:
        raise
    except (pa.ArrowInvalid, ValueError, KeyError) as exc:
        raise DeliveryError(f"{name}: cannot be read as {config.format}: {exc}") from None


def detect_encoding(data: bytes, declared: str, name: str) -> str:
    """The declared encoding, or for 'auto' the one charset-normalizer finds (BOM first)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if declared != "auto":
        return declared
    from charset_normalizer import from_bytes

    best = from_bytes(data[:65536]).best()
    if best is None:
        raise DeliveryError(
            f"{name}: cannot detect the text encoding (neither UTF-8 nor a Korean legacy "
            "encoding such as cp949; a file cut mid-character looks like this); ask the "
            "provider to send it again, or declare its encoding in the feed"
        )
    return best.encoding


def _read_csv(config: FileDropConfig, data: bytes, name: str) -> pa.Table:
    import pyarrow.csv as pv

    encoding = detect_encoding(data, config.encoding, name)
    if encoding in ("utf-8-sig", "utf_8_sig"):
        data, encoding = data[3:], "utf-8"
    try:
        head = data[: data.find(b"\n") if b"\n" in data else len(data)].decode(encoding)
    except UnicodeDecodeError as exc:
        raise DeliveryError(f"{name}: the header is not {encoding} text ({exc.reason})") from None
    import csv

    header = next(csv.reader([head.rstrip("\r")], delimiter=config.delimiter))
    strings = {column: pa.string() for column in header}
    invalid: list[str] = []

    def on_invalid(row) -> str:
        invalid.append(
            f"line {row.number}: {row.actual_columns} fields, {row.expected_columns} expected"
        )
        return "skip"

    table = pv.read_csv(
        io.BytesIO(data),
        read_options=pv.ReadOptions(encoding=encoding, block_size=8 << 20),
        parse_options=pv.ParseOptions(delimiter=config.delimiter, invalid_row_handler=on_invalid),
        # only an empty field is missing: "NA" or "NULL" stay text, as sent
        convert_options=pv.ConvertOptions(
            column_types=strings, strings_can_be_null=True, null_values=[""]
        ),
    )
    if invalid:
        raise DeliveryError(
            f"{name}: {len(invalid)} malformed row(s), e.g. {invalid[0]}; the file looks truncated or "
            "its columns shifted"
        )
    return table


def _read_excel(config: FileDropConfig, data: bytes, name: str) -> pa.Table:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    sheet = config.sheet or book.sheet_names[0]
    if sheet not in book.sheet_names:
        raise DeliveryError(
            f"{name}: no sheet {sheet!r}; the workbook has {', '.join(map(repr, book.sheet_names))}"
        )
    rows = book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    if len(rows) <= config.header_row:
        raise DeliveryError(f"{name}: sheet {sheet!r} has no header at row {config.header_row + 1}")
    header = [str(h).strip() for h in rows[config.header_row]]
    width = len(header)
    body = [r for r in rows[config.header_row + 1 :] if any(v not in ("", None) for v in r)]
    body = [r if len(r) == width else (list(r) + [None] * width)[:width] for r in body]
    columns = list(zip(*body, strict=True)) if body else [() for _ in header]
    return pa.table({h: _text_column(col) for h, col in zip(header, columns, strict=True) if h})


def _text_column(values: tuple) -> pa.Array:
    """A sheet column as text: one Arrow conversion when the cells share a type, else per cell."""
    cleaned = [None if v == "" else v for v in values]
    try:
        return pc.cast(pa.array(cleaned), pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return pa.array([_cell(v) for v in cleaned], pa.string())


def _cell(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_json(config: FileDropConfig, data: bytes, name: str) -> pa.Table:
    try:
        doc = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise DeliveryError(f"{name}: not JSON ({exc})") from None
    for part in (config.records_path or "").split(".") if config.records_path else []:
        if not isinstance(doc, dict) or part not in doc:
            raise DeliveryError(f"{name}: no '{config.records_path}' in the document")
        doc = doc[part]
    if not isinstance(doc, list) or not all(isinstance(r, dict) for r in doc):
        raise DeliveryError(f"{name}: expected a list of records")
    return records_table(doc, name=name)


def _read_jsonl(config: FileDropConfig, data: bytes, name: str) -> pa.Table:
    import pyarrow.json as pj

    return sparse(pj.read_json(io.BytesIO(data)))


def _read_parquet(config: FileDropConfig, data: bytes, name: str) -> pa.Table:
    import pyarrow.parquet as pq

    return pq.read_table(io.BytesIO(data))
