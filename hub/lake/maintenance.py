"""Iceberg table upkeep: compaction of small files, snapshot expiry, orphan files, health.

Mechanics only. Which snapshots the hub still owes its users, and when each task runs, is
decided above (``hub.upkeep``), where the catalog's promises are known.
"""

from __future__ import annotations

import logging
import random
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from hub.core.errors import CommitFailedError, LakeError
from hub.lake import iceberg
from hub.lake.objectstore import ObjectStore

if TYPE_CHECKING:
    from pyiceberg.manifest import DataFile
    from pyiceberg.table import FileScanTask, Table

log = logging.getLogger(__name__)

#: A data file smaller than this is worth merging with its partition's other small files.
SMALL_FILE_BYTES = 64 * 1024 * 1024
#: A partition with more data files than this is compacted (its small files merged).
MAX_FILES_PER_PARTITION = 2
#: Files younger than this are never orphans: a writer may be about to commit them.
ORPHAN_MIN_AGE = timedelta(hours=1)
#: Tries of a compaction when pipeline writers commit to the table first.
COMPACT_ATTEMPTS = 3
#: More live manifests than this make every scan plan read them all: rewrite them as one.
MAX_MANIFESTS = 4


@dataclass
class Shape:
    """A table's health as a maintainer reads it."""

    data_files: int = 0
    rows: int = 0
    files_per_partition: dict[str, int] = field(default_factory=dict)
    snapshots: int = 0
    manifests: int = 0
    metadata_bytes: int = 0

    @property
    def most_files_in_a_partition(self) -> int:
        return max(self.files_per_partition.values(), default=0)


def _partition_name(data_file: DataFile) -> str:
    record = data_file.partition
    return "/".join(str(record[i]) for i in range(len(record))) or "(unpartitioned)"


def shape(table: Table) -> Shape:
    """Files per partition, snapshots, live manifests and the current metadata file's size."""
    found = Shape(snapshots=len(table.metadata.snapshots))
    snapshot = table.current_snapshot()
    if snapshot is None:
        return found
    per: dict[str, int] = defaultdict(int)
    for task in table.scan().plan_files():
        per[_partition_name(task.file)] += 1
        found.rows += task.file.record_count
    found.files_per_partition = dict(per)
    found.data_files = sum(per.values())
    found.manifests = len(snapshot.manifests(table.io))
    found.metadata_bytes = len(table.io.new_input(table.metadata_location))
    return found


@dataclass(frozen=True)
class Compaction:
    """What one compaction commit did."""

    snapshot_id: int | None
    partitions: list[str]
    files_before: int
    files_after: int
    rows: int


def compact(
    table: Table,
    properties: dict[str, str],
    *,
    max_files: int = MAX_FILES_PER_PARTITION,
    small_bytes: int = SMALL_FILE_BYTES,
) -> Compaction:
    """Merge the small data files of every partition holding more than ``max_files`` into
    as few files as the writer makes, sorted by the partition's column, in one snapshot.

    The rows are the same before and after, and the swap is one atomic commit: a reader sees
    the old files or the new ones, never a gap. A pipeline commit landing first makes it plan
    again (a few times), so no row published meanwhile is lost.

    Raises:
        CommitFailedError: writers won every attempt; the next maintenance run tries again.
    """
    from pyiceberg.exceptions import CommitFailedException, ValidationException
    from pyiceberg.expressions import AlwaysTrue
    from pyiceberg.io.pyarrow import ArrowScan

    name = ".".join(table.name())
    current = table.current_snapshot()
    if current is None or (current.summary and current.summary.get("hub.step") == "maintenance"):
        return Compaction(None, [], 0, 0, 0)  # nothing committed since the last compaction
    for attempt in range(1, COMPACT_ATTEMPTS + 1):
        groups = _crowded(table.scan().plan_files(), max_files, small_bytes)
        if not groups:
            return Compaction(None, [], 0, 0, 0)
        before = table.current_snapshot()
        reader = ArrowScan(table.metadata, table.io, table.schema(), AlwaysTrue(), True)
        sort_column = _sort_column(table)
        old = [t.file for tasks in groups.values() for t in tasks]
        new: list[Any] = []
        rows = 0
        try:
            with table.transaction() as tx:
                snap_properties = iceberg.stamped({**properties, "hub.step": "maintenance"})
                with tx.update_snapshot(snapshot_properties=snap_properties).overwrite() as snap:
                    for data_file in old:
                        snap.delete_data_file(data_file)
                    for tasks in groups.values():  # one partition in memory at a time
                        data = reader.to_table(tasks)
                        if sort_column is not None:
                            data = data.sort_by(sort_column)
                        rows += data.num_rows
                        for data_file in iceberg.write_data_files(
                            table, tx, snap.commit_uuid, _as_written(table, data)
                        ):
                            snap.append_data_file(data_file)
                            new.append(data_file)
            break
        except (CommitFailedException, ValidationException) as exc:
            if attempt == COMPACT_ATTEMPTS:
                raise CommitFailedError(
                    f"compaction of {name} lost the commit to pipeline writers "
                    f"{COMPACT_ATTEMPTS} times; the next maintenance run tries again: {exc}"
                ) from exc
            time.sleep(random.uniform(0, 0.2 * attempt))
            table.refresh()
        except OSError as exc:
            raise LakeError(f"compaction of {name} could not read or write files: {exc}") from exc
    snapshot_id = iceberg.committed_snapshot(table, before)
    partitions = sorted(groups)
    log.info(
        "compacted %s: %d files in %d partitions into %d (%d rows)",
        name,
        len(old),
        len(partitions),
        len(new),
        rows,
    )
    return Compaction(snapshot_id, partitions, len(old), len(new), rows)


def _crowded(
    tasks: Iterable[FileScanTask], max_files: int, small_bytes: int
) -> dict[str, list[FileScanTask]]:
    """Per partition over its file budget, the scan tasks of its small files (two or more)."""
    by_partition: dict[str, list[FileScanTask]] = defaultdict(list)
    for task in tasks:
        by_partition[_partition_name(task.file)].append(task)
    crowded = {}
    for partition, found in by_partition.items():
        small = [t for t in found if t.file.file_size_in_bytes < small_bytes]
        if len(found) > max_files and len(small) >= 2:
            crowded[partition] = small
    return crowded


def _sort_column(table: Table) -> str | None:
    """The column the table is partitioned on: rows sorted by it make each file's bounds
    tight, so a time-filtered scan skips files by their statistics."""
    spec = table.spec()
    if spec.is_unpartitioned():
        return None
    return table.schema().find_field(spec.fields[0].source_id).name


def _as_written(table: Table, data: pa.Table) -> pa.Table:
    return data.cast(iceberg.arrow_schema(table, data))


def expire(table: Table, snapshot_ids: Iterable[int]) -> list[int]:
    """Remove these snapshots from the table's metadata (never the current one); their files
    stay until ``remove_orphans`` finds nothing refers to them."""
    current = table.current_snapshot()
    ids = sorted(
        {s for s in snapshot_ids if current is None or s != current.snapshot_id}
        & {s.snapshot_id for s in table.metadata.snapshots}
    )
    if not ids:
        return []
    table.maintenance.expire_snapshots().by_ids(ids).commit()
    iceberg.forget_pointers()
    log.info("expired %d snapshots of %s", len(ids), ".".join(table.name()))
    return ids


#: Threads reading a table's manifest lists and manifests (S3 round trips, not CPU).
READERS = 8


def referenced(table: Table) -> set[str]:
    """Every file the table's metadata still refers to: metadata files, manifest lists,
    manifests, data and delete files of every snapshot kept."""
    from concurrent.futures import ThreadPoolExecutor

    keep = {table.metadata_location, *(e.metadata_file for e in table.metadata.metadata_log)}
    snapshots = table.metadata.snapshots
    keep.update(s.manifest_list for s in snapshots)
    # one small S3 read per snapshot and per manifest: a frequent feed keeps hundreds of
    # snapshots, so the reads overlap
    with ThreadPoolExecutor(max_workers=READERS) as pool:
        lists = pool.map(lambda s: s.manifests(table.io), snapshots)
        manifests = {m.manifest_path: m for listed in lists for m in listed}  # shared: read once
        entries = pool.map(
            lambda m: m.fetch_manifest_entry(table.io, discard_deleted=False), manifests.values()
        )
        keep.update(e.data_file.file_path for found in entries for e in found)
    return keep | set(manifests)


def remove_orphans(
    table: Table,
    store: ObjectStore,
    zone: str,
    *,
    min_age: timedelta = ORPHAN_MIN_AGE,
) -> list[str]:
    """Delete the objects under the table's location that nothing refers to any more.

    Only objects older than ``min_age`` (by the object store's clock) go: a writer between
    writing its files and committing them must not lose them.
    """
    bucket = store.settings.bucket(zone)
    location = table.location().rstrip("/") + "/"
    scheme = f"s3://{bucket}/"
    if not location.startswith(scheme):
        raise LakeError(f"{'.'.join(table.name())} lies at {location}, outside bucket {bucket}")
    keep = {path.removeprefix(scheme) for path in referenced(table)}
    cutoff = datetime.now(UTC) - min_age
    orphans = [
        obj.key
        for obj in store.listing(zone, location.removeprefix(scheme))
        if obj.key not in keep and obj.last_modified is not None and obj.last_modified < cutoff
    ]
    for start in range(0, len(orphans), 1000):
        store.delete(zone, orphans[start : start + 1000])
    if orphans:
        log.info("removed %d orphan files of %s", len(orphans), ".".join(table.name()))
    return orphans


def rewrite_manifests(
    table: Table, properties: dict[str, str], *, max_manifests: int = MAX_MANIFESTS
) -> int | None:
    """Gather the current snapshot's live file entries into one manifest per partition spec
    (a REPLACE snapshot: same files, same rows), when more than ``max_manifests`` piled up.

    Each publish adds a manifest, and pyiceberg's overwrite keeps the manifests left holding
    only deleted entries, so a frequent feed's scans would plan through hundreds of them.
    pyiceberg 0.12 has no manifest rewrite, so this is a small snapshot producer of its own.

    Returns:
        The new snapshot id, or None when there was nothing to rewrite.
    """
    from pyiceberg.exceptions import CommitFailedException
    from pyiceberg.manifest import ManifestContent
    from pyiceberg.table.snapshots import Operation

    current = table.current_snapshot()
    if current is None:
        return None
    manifests = current.manifests(table.io)
    data = [m for m in manifests if m.content == ManifestContent.DATA]
    if len(manifests) <= max_manifests or len(data) < 2:
        return None
    try:
        with table.transaction() as tx:
            _manifest_rewrite_class()(
                Operation.REPLACE,
                tx,
                table.io,
                snapshot_properties=iceberg.stamped({**properties, "hub.step": "maintenance"}),
            ).commit()
    except CommitFailedException as exc:
        raise CommitFailedError(
            f"manifest rewrite of {'.'.join(table.name())} lost the commit to a writer; the "
            f"next maintenance run tries again: {exc}"
        ) from exc
    snapshot_id = iceberg.committed_snapshot(table, current)
    log.info("rewrote %d manifests of %s", len(manifests), ".".join(table.name()))
    return snapshot_id


def _manifest_rewrite_class() -> type:
    from pyiceberg.manifest import ManifestContent, ManifestEntry, ManifestEntryStatus
    from pyiceberg.table.snapshots import Summary
    from pyiceberg.table.update.snapshot import _SnapshotProducer
    from pyiceberg.typedef import EMPTY_DICT

    class ManifestRewrite(_SnapshotProducer["ManifestRewrite"]):
        """Every live data-file entry of the parent snapshot, as EXISTING entries of one new
        manifest per partition spec; delete-file manifests are kept as they are."""

        def _existing_manifests(self) -> list:
            parent = self._transaction.table_metadata.snapshot_by_name(name=self._target_branch)
            if parent is None:
                return []
            kept, entries = [], defaultdict(list)
            for manifest in parent.manifests(io=self._io):
                if manifest.content != ManifestContent.DATA:
                    kept.append(manifest)
                    continue
                for entry in manifest.fetch_manifest_entry(io=self._io, discard_deleted=True):
                    entries[manifest.partition_spec_id].append(entry)
            for spec_id, found in entries.items():
                with self.new_manifest_writer(self.spec(spec_id)) as writer:
                    for entry in found:
                        writer.add_entry(
                            ManifestEntry.from_args(
                                status=ManifestEntryStatus.EXISTING,
                                snapshot_id=entry.snapshot_id,
                                sequence_number=entry.sequence_number,
                                file_sequence_number=entry.file_sequence_number,
                                data_file=entry.data_file,
                            )
                        )
                kept.append(writer.to_manifest_file())
            return kept

        def _deleted_entries(self) -> list:
            return []

        def _summary(self, snapshot_properties: dict[str, str] = EMPTY_DICT) -> Summary:
            # pyiceberg sums up only appends, overwrites and deletes; a REPLACE changes no
            # file and no row, so the parent's totals carry over as they are
            parent = self._transaction.table_metadata.snapshot_by_name(name=self._target_branch)
            totals = {
                k: v
                for k, v in (
                    parent.summary.additional_properties if parent and parent.summary else {}
                ).items()
                if k.startswith("total-")
            }
            return Summary(operation=self._operation, **totals, **snapshot_properties)

    return ManifestRewrite
