"""A years-long open air-quality archive of any size, for download tests and load figures.

It is written straight into ``open.air_quality_hourly`` (as a release would leave it) and
exported with the release step's own exporter, so what is downloaded is what citizens get.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc

from catalog.db import ensure_current
from catalog.models import ExportFile
from hub.core.settings import HubSettings
from hub.lake import iceberg
from hub.registry import load_registry
from hub.steps.export import export_version
from simulators import air_quality

FEED = "air_quality_hourly"
NEWEST = datetime(2026, 11, 1, 5, tzinfo=ZoneInfo("Asia/Seoul"))


def open_archive(settings: HubSettings, rows: int, seed: int = 7) -> list[ExportFile]:
    """Replace the open release with ``rows`` archived readings; returns its export files."""
    ensure_current(settings.catalog_url)
    feed = load_registry(settings.feeds_dir)[FEED]
    source = air_quality.history(rows, start=NEWEST, seed=seed)
    fields = feed.published_fields
    partition = (feed.partition.column, feed.partition.transform)
    table = iceberg.ensure_table(settings, "open", FEED, fields, partition)
    schema = table.schema().as_arrow()
    columns = {}
    for f in fields:
        values = source[f.source or f.name]
        if f.name == feed.partition.column:  # KST wall-clock hours -> instants
            local = pa.array(values).cast(pa.timestamp("us"))
            values = pc.assume_timezone(local, feed.schedule.timezone)
        columns[f.name] = pa.array(values).cast(schema.field(f.name).type)
    data = pa.table(columns, schema=schema)
    snapshot = iceberg.replace_all(table, data, {"hub.feed": FEED, "hub.step": "archive"})
    return export_version(settings, FEED, snapshot)
