"""Declared column types and their Arrow equivalents, in one place.

pyarrow is imported only when a type is asked for, so loading the registry (DAG parsing)
stays light.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa


class ColumnType(StrEnum):
    string = "string"
    int32 = "int32"
    int64 = "int64"
    float32 = "float32"
    float64 = "float64"
    boolean = "boolean"
    date = "date"
    timestamp = "timestamp"  # an instant: stored as UTC microseconds with a time zone


def arrow_type(column_type: ColumnType) -> pa.DataType:
    import pyarrow as pa

    return {
        ColumnType.string: pa.large_string,
        ColumnType.int32: pa.int32,
        ColumnType.int64: pa.int64,
        ColumnType.float32: pa.float32,
        ColumnType.float64: pa.float64,
        ColumnType.boolean: pa.bool_,
        ColumnType.date: pa.date32,
        ColumnType.timestamp: lambda: pa.timestamp("us", tz="UTC"),
    }[column_type]()
