"""The privacy registers an auditor reads (processing, provision, destruction), filtered by
dataset and time, for the workspace's pages and their CSV exports."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import select

from catalog.db import session_for
from catalog.models import DestructionRecord, ProcessingRecord, Provision


class Register(NamedTuple):
    model: Any
    #: the column that dates an entry (what ``since`` and ``until`` filter on)
    at: str
    #: the columns an auditor is shown, in order
    columns: tuple[str, ...]


#: Every register by the name its page has.
REGISTERS = {
    "processing": Register(
        ProcessingRecord,
        "recorded_at",
        (
            "id",
            "recorded_at",
            "dataset_id",
            "run_id",
            "column_name",
            "classification",
            "technique",
            "key_version",
            "values_changed",
            "legal_basis",
            "purpose",
        ),
    ),
    "provision": Register(
        Provision,
        "provided_at",
        (
            "id",
            "provided_at",
            "dataset_id",
            "snapshot_id",
            "recipient",
            "channel",
            "purpose",
            "legal_basis",
            "rows",
            "client_address",
        ),
    ),
    "destruction": Register(
        DestructionRecord,
        "destroyed_at",
        (
            "id",
            "destroyed_at",
            "dataset_id",
            "run_id",
            "bucket",
            "object_key",
            "sha256",
            "size",
            "reason",
        ),
    ),
}


def read(
    url: str,
    kind: str,
    dataset: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
) -> list[Any]:
    """Newest first: ``kind``'s entries for ``dataset`` (all when None) dated in [since, until)."""
    register = REGISTERS[kind]
    model, at = register.model, getattr(register.model, register.at)
    query = select(model).order_by(model.id.desc())
    if dataset:
        query = query.where(model.dataset_id == dataset)
    if since:
        query = query.where(at >= since)
    if until:
        query = query.where(at < until)
    with session_for(url) as session:
        return list(session.scalars(query.limit(limit)))
