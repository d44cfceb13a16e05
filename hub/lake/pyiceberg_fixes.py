"""Workarounds for pyiceberg 0.12 performance bugs, each named for its upstream thread; drop
one when the locked pyiceberg has the fix."""

from __future__ import annotations

from typing import Any

_applied = False


def apply() -> None:
    """Install the workarounds (once per process; called wherever a catalog is opened)."""
    global _applied
    if _applied:
        return
    _cache_transaction_metadata()
    _applied = True


def _cache_transaction_metadata() -> None:
    """``Transaction.table_metadata`` replays the staged updates and deep-copies the whole
    metadata, snapshot list included, on every read, and a commit reads it ~18 times: a
    window's publish grew from 150 ms to 1.3 s over 200 snapshots of a 15-minute feed.
    apache/iceberg-python#3302 (approved) and #3784 cache it keyed on the identity of the
    table's metadata and the staged-updates tuple, which every change rebinds; so does this.
    """
    from pyiceberg.table import Transaction
    from pyiceberg.table.update import update_table_metadata

    def table_metadata(self: Any) -> Any:
        base, updates = self._table.metadata, self._updates
        cached = self.__dict__.get("_hub_metadata")
        if cached is not None and cached[0] is base and cached[1] is updates:
            return cached[2]
        metadata = update_table_metadata(base, updates)
        self.__dict__["_hub_metadata"] = (base, updates, metadata)
        return metadata

    Transaction.table_metadata = property(table_metadata)  # type: ignore[method-assign,assignment]
