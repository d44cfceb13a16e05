"""Turning a list of parsed records (dicts) into an Arrow table without losing a column."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from hub.core.errors import DeliveryError


def records_table(rows: list[dict[str, Any]], *, name: str) -> pa.Table:
    """All records as one table whose columns are the union of every record's keys.

    (``pa.Table.from_pylist`` takes its columns from the first record only, so an attribute
    the first record leaves out would vanish from the whole page.)

    Raises:
        DeliveryError: a field holds values of types that cannot share a column.
    """
    if not rows:
        return pa.table({})
    try:
        return pa.Table.from_struct_array(pa.array(rows))
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise DeliveryError(f"{name}: records do not share field types: {exc}") from None
