"""Turning a list of parsed records (dicts) into an Arrow table without losing a column."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

from hub.core.errors import DeliveryError

#: Schema metadata of a table read from records (JSON, XML, NGSI-LD entities): a record may
#: leave out a field whose value is null, so an absent optional column is not drift there.
SPARSE = {b"hub.sparse": b"1"}


def sparse(table: pa.Table) -> pa.Table:
    """``table`` marked as read from records (see ``SPARSE``)."""
    return table.replace_schema_metadata({**(table.schema.metadata or {}), **SPARSE})


def records_table(rows: list[dict[str, Any]], *, name: str) -> pa.Table:
    """All records as one table whose columns are the union of every record's keys.

    (``pa.Table.from_pylist`` takes its columns from the first record only, so an attribute
    the first record leaves out would vanish from the whole page.)

    When a field mixes types (a number in one record, "-" or "NaN" in the next, as agencies
    send them), every field is kept as text instead: typing is the validate step's job, which
    quarantines the one unreadable value rather than losing the whole page.

    Raises:
        DeliveryError: the records cannot be made a table even as text.
    """
    if not rows:
        return sparse(pa.table({}))
    try:
        return sparse(pa.Table.from_struct_array(pa.array(rows)))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    try:
        return sparse(pa.Table.from_struct_array(pa.array([_as_text(r) for r in rows])))
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise DeliveryError(f"{name}: records do not share field types: {exc}") from None


def _as_text(record: dict[str, Any]) -> dict[str, str | None]:
    """A record's values as text: scalars as JSON writes them, objects and lists as JSON."""
    out: dict[str, str | None] = {}
    for key, value in record.items():
        if value is None or isinstance(value, str):
            out[key] = value
        elif isinstance(value, bool | int | float):
            out[key] = json.dumps(value)
        else:
            out[key] = json.dumps(value, ensure_ascii=False, default=str)
    return out
