"""Workarounds for pyiceberg 0.12 performance bugs, each named for its upstream thread; drop
one when the locked pyiceberg has the fix."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from cachetools import LRUCache

_applied = False
#: Parsed metadata files, manifest lists and manifests, by location, in this process. Iceberg
#: never rewrites one (each commit writes new files named with fresh UUIDs), so a location
#: names its content for good.
METADATA_KEPT = 64
MANIFEST_LISTS_KEPT = 1024
MANIFESTS_KEPT = 1024
_metadata: LRUCache[str, Any] = LRUCache(maxsize=METADATA_KEPT)
_manifest_lists: LRUCache[str, tuple[Any, ...]] = LRUCache(maxsize=MANIFEST_LISTS_KEPT)
_manifests: LRUCache[tuple[Any, ...], list[Any]] = LRUCache(maxsize=MANIFESTS_KEPT)
_lock = threading.Lock()
#: The pyiceberg release whose ``update_table_metadata`` ``_skip_defensive_deep_copy`` copies.
COPIED_FROM = "0.12.0"


def apply() -> None:
    """Install the workarounds (once per process; called wherever a catalog is opened)."""
    global _applied
    if _applied:
        return
    _skip_defensive_deep_copy()
    _cache_transaction_metadata()
    _cache_metadata_files()
    _cache_manifests()
    _applied = True


def _cache_transaction_metadata() -> None:
    """``Transaction.table_metadata`` replays the staged updates and deep-copies the whole
    metadata, snapshot list included, on every read, and a commit reads it ~18 times: a
    window's publish grew from 150 ms to 1.3 s over 200 snapshots of a 15-minute feed.
    apache/iceberg-python#3302 (approved) and #3784 cache it keyed on the identity of the
    table's metadata and the staged-updates tuple, which every change rebinds; so does this.
    """
    import pyiceberg.table as tables
    from pyiceberg.table import Transaction

    def table_metadata(self: Any) -> Any:
        base, updates = self._table.metadata, self._updates
        cached = self.__dict__.get("_hub_metadata")
        if cached is not None and cached[0] is base and cached[1] is updates:
            return cached[2]
        metadata = tables.update_table_metadata(base, updates)  # type: ignore[attr-defined]
        self.__dict__["_hub_metadata"] = (base, updates, metadata)
        return metadata

    Transaction.table_metadata = property(table_metadata)  # type: ignore[method-assign,assignment]


def _skip_defensive_deep_copy() -> None:
    """``update_table_metadata`` ends with ``model_copy(deep=True)`` of the whole metadata
    (every snapshot and its summary), though each update it applies builds new lists and
    dicts (copy on write; apache/iceberg-python#182 kept the deep copy as a precaution). With
    a few hundred snapshots that copy takes ~17 ms, paid twice per commit. This is pyiceberg
    0.12's function with that last copy shallow: the models are frozen, and neither pyiceberg
    nor the hub changes a metadata list in place. Another pyiceberg keeps its own function."""
    from datetime import datetime

    import pyiceberg

    if pyiceberg.__version__ != COPIED_FROM:
        return
    import pyiceberg.catalog
    import pyiceberg.table
    import pyiceberg.table.update as update
    from pyiceberg.table.metadata import TableMetadataUtil
    from pyiceberg.utils.datetime import datetime_to_millis

    def update_table_metadata(
        base_metadata: Any,
        updates: tuple[Any, ...],
        enforce_validation: bool = False,
        metadata_location: str | None = None,
    ) -> Any:
        context = update._TableMetadataUpdateContext()
        new_metadata = base_metadata
        for change in updates:
            new_metadata = update._apply_table_update(change, new_metadata, context)
        if context.has_changes():
            if metadata_location:
                new_metadata = update._update_table_metadata_log(
                    new_metadata, metadata_location, base_metadata.last_updated_ms
                )
            if base_metadata.last_updated_ms == new_metadata.last_updated_ms:
                now = datetime_to_millis(datetime.now().astimezone())
                new_metadata = new_metadata.model_copy(update={"last_updated_ms": now})
        new_metadata.spec().check_compatible(new_metadata.schema())
        new_metadata.sort_order().check_compatible(new_metadata.schema())
        if enforce_validation:
            return TableMetadataUtil.parse_obj(new_metadata.model_dump())
        return new_metadata.model_copy()

    for module in (update, pyiceberg.table, pyiceberg.catalog):
        module.update_table_metadata = update_table_metadata  # type: ignore[attr-defined]


def _cache_metadata_files() -> None:
    """Every ``load_table`` and ``refresh`` reads and parses the table's whole metadata JSON
    from S3 (O(snapshots)); a publish and its release load the same file up to ten times.
    Parsed files are kept by location, and a commit keeps the metadata it just wrote."""
    from pyiceberg import serializers

    read = serializers.FromInputFile.table_metadata
    write = serializers.ToOutputFile.table_metadata

    def table_metadata(input_file: Any, encoding: str = "utf-8") -> Any:
        return _cached(_metadata, input_file.location, lambda: read(input_file, encoding))

    def write_table_metadata(metadata: Any, output_file: Any, overwrite: bool = False) -> None:
        write(metadata, output_file, overwrite)
        with _lock:
            _metadata[output_file.location] = metadata

    serializers.FromInputFile.table_metadata = staticmethod(table_metadata)  # type: ignore[method-assign]
    serializers.ToOutputFile.table_metadata = staticmethod(write_table_metadata)  # type: ignore[method-assign]


def _cached(cache: LRUCache[Any, Any], key: Any, read: Callable[[], Any]) -> Any:
    with _lock:
        found = cache.get(key)
    if found is None:
        found = read()
        with _lock:
            cache[key] = found
    return found


def _cache_manifests() -> None:
    """Planning a scan reads the snapshot's manifest list and every manifest it names from S3
    again each time (pyiceberg 0.12 keeps only the ``ManifestFile`` rows of a list), and a
    window's run plans about ten scans of the same few manifests: ~25 ms each. Entries are
    kept per manifest as read (sequence numbers already inherited from the manifest's row,
    which is part of the key); callers get their own list."""
    import pyiceberg.table.snapshots as snapshots
    from pyiceberg import manifest as module

    read_list, read_entries = module._manifests, module.ManifestFile.fetch_manifest_entry

    def manifests(io: Any, manifest_list: str) -> Any:
        return _cached(_manifest_lists, manifest_list, lambda: read_list(io, manifest_list))

    def fetch_manifest_entry(self: Any, io: Any, discard_deleted: bool = True) -> list[Any]:
        key = (
            self.manifest_path,
            self.sequence_number,
            self.min_sequence_number,
            self.added_snapshot_id,
            discard_deleted,
        )
        return list(_cached(_manifests, key, lambda: read_entries(self, io, discard_deleted)))

    module._manifests = manifests
    snapshots._manifests = manifests  # type: ignore[attr-defined]
    module.ManifestFile.fetch_manifest_entry = fetch_manifest_entry  # type: ignore[method-assign]
