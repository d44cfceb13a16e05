"""The download formats the hub writes and serves: CSV (UTF-8 with BOM), Parquet and GeoJSON.

Each writer turns Arrow batches into a stream of byte chunks, so a file of any size is written
or served without holding it whole.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterable, Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

BOM = b"\xef\xbb\xbf"
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
    "geojson": "application/geo+json",
}
#: Column pairs read as WGS84 points, in the order they are looked for (x/y are often
#: Korean TM metres, so they are not taken for longitude and latitude).
COORDINATES = (("lon", "lat"), ("longitude", "latitude"))


#: Characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_START = r"^[=+\-@\t\r]"


def neutralise_formulas(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Text cells a spreadsheet would run as formulas, prefixed with an apostrophe (CSV only:
    the lake and the other formats keep the value unchanged)."""
    columns = []
    for column in batch.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            live = pc.fill_null(pc.match_substring_regex(column, FORMULA_START), False)
            if pc.any(live).as_py():
                quoted = pc.binary_join_element_wise(
                    pa.scalar("'", column.type), column, pa.scalar("", column.type)
                )
                column = pc.if_else(live, quoted, column)
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, schema=batch.schema)


def csv_chunks(schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> Iterator[bytes]:
    """CSV in UTF-8 with a BOM, one chunk per batch; the header even when there are no rows.

    Text that would run as a spreadsheet formula is neutralised (see ``hub.core.downloads.CSV_FORMULA_NOTE``).
    """
    yield BOM
    header = True
    for batch in batches:
        sink = io.BytesIO()
        options = pacsv.WriteOptions(include_header=header)
        batch = neutralise_formulas(batch)
        pacsv.write_csv(pa.Table.from_batches([batch], schema), sink, write_options=options)
        header = False
        yield sink.getvalue()
    if header:
        sink = io.BytesIO()
        pacsv.write_csv(schema.empty_table(), sink)
        yield sink.getvalue()


class _Drain(io.RawIOBase):
    """A write-only file whose bytes are taken away as they come: Parquet written as a stream."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        self.parts.append(bytes(data))
        self.size += len(data)
        return len(data)

    def tell(self) -> int:
        return self.size

    def take(self) -> bytes:
        out, self.parts = b"".join(self.parts), []
        return out


def parquet_chunks(schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> Iterator[bytes]:
    """Parquet (zstd), the bytes of each batch as soon as it is written."""
    sink = _Drain()
    writer = pq.ParquetWriter(sink, schema, compression="zstd")
    for batch in batches:
        writer.write_batch(batch)
        yield sink.take()
    writer.close()
    yield sink.take()


def coordinate_columns(names: Iterable[str]) -> tuple[str, str] | None:
    have = set(names)
    return next(((x, y) for x, y in COORDINATES if x in have and y in have), None)


def _finite(value: object) -> object:
    """NaN and infinities are not JSON: they become null."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


def geojson_chunks(
    schema: pa.Schema, batches: Iterable[pa.RecordBatch], lon: str, lat: str
) -> Iterator[bytes]:
    """A GeoJSON FeatureCollection of points, one chunk per batch."""
    yield b'{"type":"FeatureCollection","features":['
    first = True
    properties = [n for n in schema.names if n not in (lon, lat)]
    for batch in batches:
        rows = batch.to_pylist()
        features = []
        for row in rows:
            x, y = _finite(row.get(lon)), _finite(row.get(lat))
            geometry = {"type": "Point", "coordinates": [x, y]} if None not in (x, y) else None
            features.append(
                {
                    "type": "Feature",
                    "geometry": geometry,
                    "properties": {p: _finite(row[p]) for p in properties},
                }
            )
        if not features:
            continue
        text = ",".join(
            json.dumps(f, ensure_ascii=False, default=str, allow_nan=False) for f in features
        )
        yield (text if first else "," + text).encode()
        first = False
    yield b"]}"
