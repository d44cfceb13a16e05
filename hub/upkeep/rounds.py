"""The maintenance rounds the DAGs (and ``hub maintain``) run over every dataset.

Compaction is hourly, so an hourly feed's month partition never holds more than a couple of
files for long; the daily round also applies retention, expires snapshots and removes
orphan files, in that order (retention's deletions become orphans the same day).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hub.core.settings import HubSettings
from hub.lake import maintenance
from hub.registry.loader import load_registry
from hub.registry.spec import DatasetSpec
from hub.upkeep import retention, tables
from products import load_products


def datasets(settings: HubSettings) -> dict[str, DatasetSpec]:
    """Every dataset with tables in the lake: the feeds and the derived products."""
    return {**load_registry(settings.feeds_dir), **load_products()}


@dataclass
class Round:
    """What one round did to one dataset."""

    dataset_id: str
    tables: list[tables.TableUpkeep] = field(default_factory=list)
    swept: retention.Swept | None = None


def compaction(settings: HubSettings, spec: DatasetSpec) -> Round:
    """The hourly round: merge small files of crowded partitions, zone by zone."""
    return Round(spec.id, [tables.compact(settings, zone, spec.id) for zone in tables.ZONES])


def daily(
    settings: HubSettings,
    spec: DatasetSpec,
    now: datetime,
    *,
    orphan_min_age: timedelta = maintenance.ORPHAN_MIN_AGE,
    report: bool = True,
) -> Round:
    """The daily round of one dataset at ``now``: retention, then each table's maintenance."""
    swept = retention.sweep(settings, spec, now)
    done = [
        tables.maintain(settings, spec, zone, now, orphan_min_age=orphan_min_age, report=report)
        for zone in tables.ZONES
    ]
    return Round(spec.id, done, swept)
