"""Derive: build a product from the trusted tables of its input feeds and publish it whole to
the trusted and open zones (products are aggregates of public or protected data)."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from catalog import audit, entries
from catalog.lineage import emitting
from hub.core.errors import NoDeliveryError
from hub.core.settings import HubSettings
from hub.lake import iceberg
from hub.steps.export import export_version
from hub.steps.lineage import product_emission
from hub.steps.protect import scanned_columns
from privacy.errors import UndeclaredPersonalData
from privacy.scanner import scan_table
from products import load_products

log = logging.getLogger(__name__)


def derive(product_id: str, run_id: str, settings: HubSettings) -> dict[str, Any]:
    """Read every input's current snapshot, build, scan, and replace the product's tables,
    between the build's OpenLineage START and COMPLETE (or FAIL) events.

    Raises:
        NoDeliveryError: an input has never been published.
        UndeclaredPersonalData: the product would expose an identifier.
    """

    product = load_products()[product_id]
    job = f"product_{product_id}.build"
    with emitting(settings.catalog_url, job, run_id, product_emission(settings, product)):
        return _build(product, run_id, settings)


def _build(product, run_id: str, settings: HubSettings) -> dict[str, Any]:

    product_id = product.id
    cat = iceberg.table_catalog(settings)
    inputs, snapshots = {}, {}
    for feed_id in product.inputs:
        if not cat.table_exists(("trusted", feed_id)):
            raise NoDeliveryError(
                f"product {product_id}: its input {feed_id} has never been published"
            )
        table = cat.load_table(("trusted", feed_id))
        snapshot = table.current_snapshot()
        snapshots[feed_id] = snapshot.snapshot_id if snapshot else None
        inputs[feed_id] = table.scan(snapshot_id=snapshots[feed_id]).to_arrow()
    built = product.build(inputs).select(product.arrow_schema.names).cast(product.arrow_schema)
    findings = scan_table(built.select(scanned_columns(None, built)))
    if findings:
        raise UndeclaredPersonalData(
            f"product {product_id}: the built table holds personal data: {findings}"
        )
    lineage = ",".join(f"{f}@{s}" for f, s in sorted(snapshots.items()))
    properties = {"hub.product": product_id, "hub.run-id": run_id, "hub.inputs": lineage}
    partition = (product.partition.column, product.partition.transform)
    published = {}
    zones = ("trusted", "open") if product.is_public else ("trusted",)
    for zone in zones:
        table = iceberg.ensure_table(
            settings,
            zone,
            product_id,
            product.schema_,
            partition,
            properties={"comment": product.title.en},
        )
        made_from = {"hub.trusted-snapshot": str(published["trusted"])} if published else {}
        iceberg.replace_all(table, built, {**properties, **made_from})
        published[zone] = table.current_snapshot().snapshot_id
    entries.upsert_dataset(settings.catalog_url, product, f"trusted.{product_id}")
    if "open" in published:
        export_version(settings, product_id, published["open"])
    part = built.column(product.partition.column)
    low, high = _bounds(part)
    entries.add_version(
        settings.catalog_url,
        dataset_id=product_id,
        snapshot_id=published["trusted"],
        window_start=low,
        window_end=high,
        rows_in_window=built.num_rows,
        total_rows=built.num_rows,
        run_id=run_id,
        delivery_id=f"derived:{run_id}"[:100],
        raw_checksum=hashlib.sha256(lineage.encode()).hexdigest(),
    )

    audit.record(
        settings.catalog_url,
        "derive",
        f"trusted.{product_id}",
        purpose=product.description.en,
        detail={
            "run_id": run_id,
            "snapshots": published,
            "inputs": snapshots,
            "rows": built.num_rows,
        },
    )
    log.info("product %s: %d rows from %s", product_id, built.num_rows, lineage)
    return {
        "product": product_id,
        "rows": built.num_rows,
        "snapshots": published,
        "inputs": snapshots,
    }


def _bounds(values) -> tuple:
    """The product's time span as instants, for the version record."""
    from datetime import UTC, datetime, time

    import pyarrow.compute as pc

    low, high = pc.min(values).as_py(), pc.max(values).as_py()
    if low is None:
        now = datetime.now(UTC)
        return now, now
    if not isinstance(low, datetime):
        low, high = datetime.combine(low, time(), UTC), datetime.combine(high, time(), UTC)
    return low, high
