"""Bringing the whole embedded stack up and down, and describing it for outside clients."""

from __future__ import annotations

from typing import Any

from sqlalchemy import make_url

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


#: What stands in for a secret that was not asked for.
HIDDEN = "<hidden: hub status --json --show-secrets>"


def shown_url(database_url: str) -> str:
    """A database URL fit for a log: the password hidden."""
    return make_url(database_url).render_as_string(hide_password=True)


def status(settings: HubSettings, *, secrets: bool = False) -> dict[str, Any]:
    """What a client needs to reach the lake (see DESIGN.md, ``hub status --json``).

    Secrets (the S3 secret key, the database password) are shown only when asked for, so a
    status printed into a log or a ticket leaks nothing.
    """
    s3 = settings.s3()
    iceberg = {"name": settings.catalog_name, **settings.iceberg_properties()}
    database_url = settings.catalog_url
    if not secrets:
        iceberg["s3.secret-access-key"] = HIDDEN
        database_url = shown_url(database_url)
        iceberg["uri"] = database_url
    embedded = SeaweedFS(settings).state() if settings.s3_endpoint is None else None
    return {
        "s3": {
            "endpoint": s3.endpoint,
            "access_key": s3.access_key,
            "secret_key": s3.secret_key if secrets else HIDDEN,
            "region": s3.region,
            "buckets": settings.buckets,
        },
        "database_url": database_url,
        "iceberg": iceberg,
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
