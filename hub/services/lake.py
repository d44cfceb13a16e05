"""Bringing the whole embedded stack up and down, and describing it for outside clients."""

from __future__ import annotations

from typing import Any

from catalog import migrate
from hub.core.settings import HubSettings
from hub.lake.objectstore import ObjectStore
from hub.services.seaweedfs import SeaweedFS


def up(settings: HubSettings) -> tuple[HubSettings, dict[str, Any]]:
    """Start what is embedded (unless an S3 endpoint is configured), create zones, migrate.

    Returns settings pinned to the running endpoint, and what was started now.
    """

    started: dict[str, Any] = {}
    if settings.s3_endpoint is None:
        state, new = SeaweedFS(settings).start()
        started["seaweedfs"] = new
        settings = settings.model_copy(update={"s3_endpoint": state.endpoint})
    ObjectStore(settings).ensure_buckets()
    migrate(settings.catalog_url)
    return settings, started


def down(settings: HubSettings) -> bool:
    return SeaweedFS(settings).stop()


def status(settings: HubSettings) -> dict[str, Any]:
    """What a client needs to reach the lake (see DESIGN.md, ``hub status --json``)."""
    s3 = settings.s3()
    embedded = SeaweedFS(settings).state() if settings.s3_endpoint is None else None
    return {
        "s3": {
            "endpoint": s3.endpoint,
            "access_key": s3.access_key,
            "secret_key": s3.secret_key,
            "region": s3.region,
            "buckets": settings.buckets,
        },
        "database_url": settings.catalog_url,
        "iceberg": {"name": settings.catalog_name, **settings.iceberg_properties()},
        "services": {
            "seaweedfs": (
                {"running": True, "pid": embedded.pid, "log": embedded.log_file}
                if embedded
                else {"running": False}
                if settings.s3_endpoint is None
                else {"external": True}
            )
        },
        "home": str(settings.home_dir),
    }
