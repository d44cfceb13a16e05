"""Hostile deliveries: well-meant or broken files an agency really sends, made from the normal
drops deterministically, so a test knows exactly what it broke.

Each function takes a window's normal files (``simulators.drops``) or one file's bytes and
returns the altered copy: empty deliveries of every format, renamed or extra columns, values
the quality gate must not take for readings, spreadsheet formulas, decomposed Hangul, files
that share a name in two folders, and garbage that no reader can parse.
"""

from __future__ import annotations

import io
import json
import unicodedata
from datetime import datetime

from simulators import drops

#: Text that spreadsheet programs run as a formula when a CSV cell starts with it (OWASP).
FORMULAS = ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\tTAB", "\rCR"]


def _text(data: bytes, encoding: str) -> str:
    return data.decode("utf-8-sig" if encoding.startswith("utf-8") else encoding)


def _bytes(text: str, encoding: str) -> bytes:
    return text.encode(encoding)


def header_only_pm(start: datetime, institutes: list[str] | None = None) -> dict[str, bytes]:
    """The day's pm_composition files with only their header line (each in its encoding)."""
    files = drops.pm_composition(start)
    for key, data in files.items():
        institute = key.rsplit("/", 1)[-1].split("_", 1)[0]
        if institutes is None or institute in institutes:
            encoding = drops.INSTITUTES[institute][2]
            files[key] = _bytes(_text(data, encoding).split("\r\n", 1)[0] + "\r\n", encoding)
    return files


def header_only_workbook(start: datetime) -> dict[str, bytes]:
    """The childcare workbook with its title rows and headers but no facility or application."""
    month = start.date().replace(day=1)
    key = f"childcare_capacity/{month:%Y%m}/childcare_{month:%Y%m}.xlsx"
    return {key: drops.childcare_workbook(start, facilities=0)}


def empty_parquet(start: datetime) -> dict[str, bytes]:
    """KT's monthly Parquet with every column and no row."""
    import pyarrow.parquet as pq

    ((key, data),) = drops.night_population(start).items()
    table = pq.read_table(io.BytesIO(data)).slice(0, 0)
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return {key: sink.getvalue()}


def empty_council_lists(start: datetime) -> dict[str, bytes]:
    """Every dong's council report with an empty list of councils."""
    files = drops.DROPS["resident_council_activity"](start, 7)
    out = {}
    for key, data in files.items():
        doc = json.loads(data)
        doc["주민자치회"] = []
        out[key] = json.dumps(doc, ensure_ascii=False).encode()
    return out


def rename_column(data: bytes, encoding: str, old: str, new: str) -> bytes:
    """A CSV whose header calls ``old`` by ``new`` (an agency's system upgrade)."""
    head, sep, body = _text(data, encoding).partition("\r\n")
    columns = [new if c == old else c for c in head.split(",")]
    prefix = "\ufeff" if encoding == "utf-8-sig" else ""
    return _bytes(prefix + ",".join(columns) + sep + body, encoding.replace("-sig", ""))


def add_column(data: bytes, encoding: str, name: str, value: str) -> bytes:
    """A CSV with one more column at the end, ``value`` in every row."""
    lines = _text(data, encoding).split("\r\n")
    out = [lines[0] + "," + name] + [line + "," + value if line else line for line in lines[1:]]
    prefix = "\ufeff" if encoding == "utf-8-sig" else ""
    return _bytes(prefix + "\r\n".join(out), encoding.replace("-sig", ""))


def replace_cells(data: bytes, encoding: str, column: str, values: list[str]) -> bytes:
    """A CSV whose first ``len(values)`` rows carry ``values`` in ``column`` (no quoting
    beyond what the csv module needs)."""
    import csv

    rows = list(csv.reader(io.StringIO(_text(data, encoding), newline="")))
    at = rows[0].index(column)
    for row, value in zip(rows[1:], values, strict=False):
        row[at] = value
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    prefix = "\ufeff" if encoding == "utf-8-sig" else ""
    return _bytes(prefix + out.getvalue(), encoding.replace("-sig", ""))


def decomposed(data: bytes, encoding: str) -> bytes:
    """The same CSV with every Hangul syllable decomposed into jamo (NFD), as macOS writes."""
    text = unicodedata.normalize("NFD", _text(data, encoding))
    prefix = "\ufeff" if encoding == "utf-8-sig" and not text.startswith("\ufeff") else ""
    return (prefix + text).encode("utf-8")


#: Bytes no reader can make sense of, by what they pretend to be.
GARBAGE = {
    "zip_not_xlsx": b"PK\x03\x04" + bytes(range(256)) * 4,
    "html_as_xlsx": b"<html><body>Session expired</body></html>",
    "truncated_parquet": b"PAR1\x15\x04\x15\x10\x15\x14L\x15\x02\x15\x00\x12\x00\x00",
    "nested_json": b"[" * 200_000 + b"]" * 200_000,
    "binary_csv": bytes(range(256)) * 8,
}
