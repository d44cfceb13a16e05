"""Declared column types and their Arrow and Iceberg equivalents, in one place."""

from __future__ import annotations

from enum import StrEnum

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


ARROW_TYPES: dict[ColumnType, pa.DataType] = {
    ColumnType.string: pa.large_string(),
    ColumnType.int32: pa.int32(),
    ColumnType.int64: pa.int64(),
    ColumnType.float32: pa.float32(),
    ColumnType.float64: pa.float64(),
    ColumnType.boolean: pa.bool_(),
    ColumnType.date: pa.date32(),
    ColumnType.timestamp: pa.timestamp("us", tz="UTC"),
}
