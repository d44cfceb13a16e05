"""What a retried step finds already done: the run's snapshots, catalog rows and audit entries.

A step may be retried after failing at any line, or cleared after it succeeded. A snapshot an
earlier attempt committed is found by its properties and not committed again; the rows a step
registers for its run are replaced (not added again); an action already in the audit log for
this run is not logged twice; an object already in the destruction register is not registered
again. The lake and the catalog say what the run did, not how many attempts it took.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from catalog.db import session_for
from catalog.models import AuditEntry, Base, DestructionRecord
from hub.steps.context import RunContext

if TYPE_CHECKING:
    from pyiceberg.table import Table
    from pyiceberg.table.snapshots import Snapshot


def committed_by(
    table: Table, properties: dict[str, str], marks: tuple[str, ...]
) -> Snapshot | None:
    """The newest snapshot whose ``marks`` properties equal those in ``properties``: an
    earlier attempt of this run already committed it."""
    wanted = {name: properties[name] for name in marks}
    for snapshot in reversed(table.snapshots()):
        summary = snapshot.summary
        if summary is not None and all(summary.get(k) == v for k, v in wanted.items()):
            return snapshot
    return None


def replace_run_rows(ctx: RunContext, model: type[Base], rows: list[Any], **match: Any) -> None:
    """In one transaction, drop this run's earlier rows of ``model`` (those matching ``match``
    too) and add ``rows``: an attempt's rows replace the previous attempt's."""
    columns = [getattr(model, name) == value for name, value in match.items()]
    with session_for(ctx.settings.catalog_url) as session, session.begin():
        session.execute(
            delete(model).where(
                model.dataset_id == ctx.feed.id,  # type: ignore[attr-defined]
                model.run_id == ctx.run_id,  # type: ignore[attr-defined]
                *columns,
            )
        )
        session.add_all(rows)


def run_rows(ctx: RunContext, model: type[Base], **match: Any) -> list[Any]:
    """This run's rows of ``model`` that match ``match``, oldest first."""
    query = select(model).where(
        model.dataset_id == ctx.feed.id,  # type: ignore[attr-defined]
        model.run_id == ctx.run_id,  # type: ignore[attr-defined]
        *(getattr(model, name) == value for name, value in match.items()),
    )
    with session_for(ctx.settings.catalog_url) as session:
        return list(session.scalars(query.order_by(model.id)))  # type: ignore[attr-defined]


def update_row(ctx: RunContext, row: Base, **fields: Any) -> None:
    """Set ``fields`` on one stored row."""
    with session_for(ctx.settings.catalog_url) as session, session.begin():
        stored = session.get(type(row), row.id)  # type: ignore[attr-defined]
        for name, value in fields.items():
            setattr(stored, name, value)


def audit_once(ctx: RunContext, action: str, target: str, **detail: Any) -> None:
    """Log this run's ``action`` on ``target`` unless an earlier attempt of the run did."""
    marker = f'"run_id": {json.dumps(ctx.run_id, ensure_ascii=False)}'
    query = (
        select(AuditEntry.id)
        .where(
            AuditEntry.action == action,
            AuditEntry.target == target,
            AuditEntry.detail.contains(marker, autoescape=True),
        )
        .limit(1)
    )
    with session_for(ctx.settings.catalog_url) as session:
        if session.scalars(query).first() is not None:
            return
    ctx.audit(action, target, **detail)


def destroyed_keys(ctx: RunContext, bucket: str, keys: list[str]) -> set[str]:
    """Which of ``keys`` the destruction register already lists (registered, maybe not yet
    deleted: a delete that failed after registering is retried without a second entry)."""
    found: set[str] = set()
    with session_for(ctx.settings.catalog_url) as session:
        for start in range(0, len(keys), 500):
            query = select(DestructionRecord.object_key).where(
                DestructionRecord.dataset_id == ctx.feed.id,
                DestructionRecord.bucket == bucket,
                DestructionRecord.object_key.in_(keys[start : start + 500]),
            )
            found.update(session.scalars(query))
    return found
