"""The Airflow Assets of the lake: one per zone table, named with its bucket so that lakes with
different bucket prefixes never share an Asset in one Airflow."""

from __future__ import annotations

from airflow.sdk import Asset

from hub.core.settings import get_settings


def zone_asset(zone: str, dataset_id: str) -> Asset:
    settings = get_settings()
    return Asset(
        name=f"{settings.bucket(zone)}.{dataset_id}",
        uri=f"s3://{settings.bucket(zone)}/{dataset_id}",
        group=zone,
        extra={"dataset": dataset_id, "zone": zone},
    )
