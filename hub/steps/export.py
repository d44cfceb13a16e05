"""Export: the citizen download files of an open dataset version, each with its SHA-256.

CSV in UTF-8 with a BOM (Excel opens Hangul intact), Parquet, and GeoJSON where rows carry
coordinates. Files are written batch by batch to disk, hashed, and uploaded in parts to the open
bucket under ``exports/<dataset>/<snapshot>/``, so a dataset of any size never sits in memory.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from catalog import audit
from catalog import store as catalog
from catalog.db import session_for
from catalog.models import ExportFile
from hub.lake import iceberg
from hub.lake.objectstore import ObjectStore
from hub.settings import HubSettings

log = logging.getLogger(__name__)

BOM = b"\xef\xbb\xbf"
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
    "geojson": "application/geo+json",
}
#: Column pairs read as WGS84 points, in the order they are looked for (x/y are often
#: Korean TM metres, so they are not taken for longitude and latitude).
COORDINATES = (("lon", "lat"), ("longitude", "latitude"))


def csv_chunks(schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> Iterator[bytes]:
    """CSV in UTF-8 with a BOM, one chunk per batch; the header even when there are no rows."""
    yield BOM
    header = True
    for batch in batches:
        sink = io.BytesIO()
        options = pacsv.WriteOptions(include_header=header)
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
            features.append({"type": "Feature", "geometry": geometry,
                             "properties": {p: _finite(row[p]) for p in properties}})  # fmt: skip
        if not features:
            continue
        text = ",".join(
            json.dumps(f, ensure_ascii=False, default=str, allow_nan=False) for f in features
        )
        yield (text if first else "," + text).encode()
        first = False
    yield b"]}"


def _write(path: Path, chunks: Iterable[bytes]) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with path.open("wb") as out:
        for chunk in chunks:
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return size, digest.hexdigest()


def exports_of(url: str, dataset_id: str, snapshot_id: int | None = None) -> list[ExportFile]:
    """The export files of a dataset's newest exported version (or of ``snapshot_id``)."""
    with session_for(url) as session:
        query = select(ExportFile).where(ExportFile.dataset_id == dataset_id)
        if snapshot_id is None:
            newest = session.scalars(
                query.order_by(ExportFile.created_at.desc(), ExportFile.id.desc())
            ).first()
            if newest is None:
                return []
            snapshot_id = newest.snapshot_id
        query = query.where(ExportFile.snapshot_id == snapshot_id).order_by(ExportFile.format)
        return list(session.scalars(query))


def export_version(
    settings: HubSettings, dataset_id: str, snapshot_id: int | None = None
) -> list[ExportFile]:
    """Write (once) the download files of ``open.<dataset_id>`` at a snapshot (default: current)."""
    table = iceberg.catalog(settings).load_table(("open", dataset_id))
    snapshot = table.snapshot_by_id(snapshot_id) if snapshot_id else table.current_snapshot()
    if snapshot is None:
        return []
    done = exports_of(settings.catalog_url, dataset_id, snapshot.snapshot_id)
    if done:
        return done
    scan = table.scan(snapshot_id=snapshot.snapshot_id)
    schema = scan.projection().as_arrow()
    store, prefix = ObjectStore(settings), f"exports/{dataset_id}/{snapshot.snapshot_id}"
    rows = int(snapshot.summary.get("total-records", 0)) if snapshot.summary else 0
    written: list[ExportFile] = []
    with tempfile.TemporaryDirectory(prefix="hub-export-") as tmp:
        files: list[tuple[str, Path, int, str]] = []
        path = Path(tmp) / f"{dataset_id}.csv"
        files.append(("csv", path, *_write(path, csv_chunks(schema, iceberg.stream_batches(scan)))))
        path = Path(tmp) / f"{dataset_id}.parquet"
        chunks = parquet_chunks(schema, iceberg.stream_batches(scan))
        files.append(("parquet", path, *_write(path, chunks)))
        point = coordinate_columns(schema.names)
        if point:
            path = Path(tmp) / f"{dataset_id}.geojson"
            chunks = geojson_chunks(schema, iceberg.stream_batches(scan), *point)
            files.append(("geojson", path, *_write(path, chunks)))
        for fmt, path, size, sha in files:
            key = f"{prefix}/{path.name}"
            store.put_file("open", key, str(path), content_type=MEDIA_TYPES[fmt],
                           metadata={"sha256": sha})  # fmt: skip
            store.put("open", f"{key}.sha256", f"{sha}  {path.name}\n".encode(),
                      content_type="text/plain")  # fmt: skip
            written.append(ExportFile(
                dataset_id=dataset_id, snapshot_id=snapshot.snapshot_id, format=fmt,
                object_key=key, media_type=MEDIA_TYPES[fmt], rows=rows, bytes=size, sha256=sha,
                created_at=catalog.now(),
            ))  # fmt: skip
    try:
        catalog.add(settings.catalog_url, *written)
    except IntegrityError:  # another run exported this version meanwhile: theirs stands
        return exports_of(settings.catalog_url, dataset_id, snapshot.snapshot_id)
    audit.record(
        settings.catalog_url, "export", f"open.{dataset_id}", purpose="open data downloads",
        detail={"snapshot_id": snapshot.snapshot_id, "rows": rows,
                "files": {e.format: {"key": e.object_key, "bytes": e.bytes, "sha256": e.sha256}
                          for e in written}},
    )  # fmt: skip
    log.info("exported open.%s@%s: %s", dataset_id, snapshot.snapshot_id,
             ", ".join(f"{e.format} {e.bytes:,} B" for e in written))  # fmt: skip
    return exports_of(settings.catalog_url, dataset_id, snapshot.snapshot_id)
