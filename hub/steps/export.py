"""Export: the citizen download files of an open dataset version, each with its SHA-256.

CSV in UTF-8 with a BOM (Excel opens Hangul intact), Parquet, and GeoJSON where rows carry
coordinates. Files are written batch by batch to disk, hashed, and uploaded in parts to the open
bucket under ``exports/<dataset>/<snapshot>/``, so a dataset of any size never sits in memory.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
from sqlalchemy.exc import IntegrityError

from catalog import audit, entries
from catalog.models import ExportFile
from hub.core.settings import HubSettings
from hub.core.time import utc_now
from hub.lake import iceberg
from hub.lake.formats import (
    MEDIA_TYPES,
    coordinate_columns,
    csv_chunks,
    geojson_chunks,
    parquet_chunks,
)
from hub.lake.objectstore import ObjectStore
from hub.registry.spec import DatasetSpec

log = logging.getLogger(__name__)


def _write_in_step(files: list[tuple[Path, Iterator[bytes]]]) -> list[tuple[int, str]]:
    """Write each format's chunks to its file, taking one chunk of each in turn: the formats
    share one pass over the table (``itertools.tee``), so they must advance together for the
    tee to hold only the batches between the slowest and the fastest, not the table."""
    digests = [hashlib.sha256() for _ in files]
    sizes = [0] * len(files)
    with ExitStack() as stack:
        outs = [stack.enter_context(path.open("wb")) for path, _ in files]
        live = list(range(len(files)))
        while live:
            for i in list(live):
                chunk = next(files[i][1], None)
                if chunk is None:
                    live.remove(i)
                    continue
                digests[i].update(chunk)
                sizes[i] += len(chunk)
                outs[i].write(chunk)
    return [(size, digest.hexdigest()) for size, digest in zip(sizes, digests, strict=True)]


def export_version(
    settings: HubSettings, dataset_id: str, snapshot_id: int | None = None
) -> list[ExportFile]:
    """Write (once) the download files of ``open.<dataset_id>`` at a snapshot (default: current)."""
    table = iceberg.table_catalog(settings).load_table(("open", dataset_id))
    snapshot = table.snapshot_by_id(snapshot_id) if snapshot_id else table.current_snapshot()
    if snapshot is None:
        return []
    done = entries.exports_of(settings.catalog_url, dataset_id, snapshot.snapshot_id)
    if done:
        return done
    scan = table.scan(snapshot_id=snapshot.snapshot_id)
    schema = scan.projection().as_arrow()
    store, prefix = ObjectStore(settings), f"exports/{dataset_id}/{snapshot.snapshot_id}"
    rows = int(snapshot.summary.get("total-records", 0)) if snapshot.summary else 0
    written: list[ExportFile] = []
    point = coordinate_columns(schema.names)
    writers: dict[str, Callable[[Iterator[pa.RecordBatch]], Iterator[bytes]]] = {
        "csv": lambda batches: csv_chunks(schema, batches),
        "parquet": lambda batches: parquet_chunks(schema, batches),
    }
    if point:
        writers["geojson"] = lambda batches: geojson_chunks(schema, batches, *point)
    streams = itertools.tee(iceberg.stream_batches(scan), len(writers))
    with tempfile.TemporaryDirectory(prefix="hub-export-") as tmp:
        paths = [Path(tmp) / f"{dataset_id}.{fmt}" for fmt in writers]
        made = _write_in_step(
            [
                (path, write(batches))
                for write, path, batches in zip(writers.values(), paths, streams, strict=True)
            ]
        )

        def upload(fmt: str, path: Path, sha: str) -> str:
            key = f"{prefix}/{path.name}"
            store.put_file(
                "open", key, str(path), content_type=MEDIA_TYPES[fmt], metadata={"sha256": sha}
            )
            store.put(
                "open", f"{key}.sha256", f"{sha}  {path.name}\n".encode(), content_type="text/plain"
            )
            return key

        # the uploads wait on S3, not the CPU: side by side
        with ThreadPoolExecutor(max_workers=len(writers)) as pool:
            keys = list(pool.map(upload, writers, paths, [sha for _, sha in made]))
        for fmt, key, (size, sha) in zip(writers, keys, made, strict=True):
            written.append(
                ExportFile(
                    dataset_id=dataset_id,
                    snapshot_id=snapshot.snapshot_id,
                    format=fmt,
                    object_key=key,
                    media_type=MEDIA_TYPES[fmt],
                    rows=rows,
                    bytes=size,
                    sha256=sha,
                    created_at=utc_now(),
                )
            )
    try:
        entries.add(settings.catalog_url, *written)
    except IntegrityError:  # another run exported this version meanwhile: theirs stands
        return entries.exports_of(settings.catalog_url, dataset_id, snapshot.snapshot_id)
    audit.record(
        settings.catalog_url,
        "export",
        f"open.{dataset_id}",
        purpose="open data downloads",
        detail={
            "snapshot_id": snapshot.snapshot_id,
            "rows": rows,
            "files": {
                e.format: {"key": e.object_key, "bytes": e.bytes, "sha256": e.sha256}
                for e in written
            },
        },
    )
    log.info(
        "exported open.%s@%s: %s",
        dataset_id,
        snapshot.snapshot_id,
        ", ".join(f"{e.format} {e.bytes:,} B" for e in written),
    )
    return entries.exports_of(settings.catalog_url, dataset_id, snapshot.snapshot_id)


def export_due(
    settings: HubSettings, dataset_id: str, every: timedelta | None, now: datetime
) -> bool:
    """Whether a release writes the download files now: at every release without a cadence;
    with one, once the newest files are ``every`` old. Each writes the whole open table in
    every format, so a 15-minute feed re-exporting at each release would spend more on its
    files than on its windows as the table grows; the records API serves every release."""
    if every is None:
        return True
    newest = entries.exports_of(settings.catalog_url, dataset_id)
    if not newest:
        return True
    made = newest[0].created_at
    return now - (made if made.tzinfo else made.replace(tzinfo=UTC)) >= every


def export_owed(settings: HubSettings, spec: DatasetSpec, now: datetime) -> list[ExportFile]:
    """The hourly round's catch-up for a feed with a cadence: the files written for the
    current open version, once due and if it has none, so a feed that goes quiet after a
    skipped export still gets them (nothing when it already has them)."""
    every = getattr(spec, "exports_every", None)
    if every is None or not export_due(settings, spec.id, every, now):
        return []
    catalog = iceberg.table_catalog(settings)
    if not catalog.table_exists(("open", spec.id)):
        return []
    current = catalog.load_table(("open", spec.id)).current_snapshot()
    if current is None or entries.exports_of(settings.catalog_url, spec.id, current.snapshot_id):
        return []  # the current version has its files: a quiet feed is owed nothing
    return export_version(settings, spec.id, current.snapshot_id)
