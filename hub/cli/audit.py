"""``hub audit verify|list``: read and verify the hash-chained audit log."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from catalog.audit import verify as walk
from catalog.db import session_for
from catalog.models import AuditEntry
from hub.core.settings import get_settings

audit_app = typer.Typer(no_args_is_help=True, help="The append-only audit log.")


@audit_app.command()
def verify() -> None:
    """Prove the audit log is one unbroken chain; name the first entry that is not (exit 1)."""

    count, broken = walk(get_settings().catalog_url)
    if broken is not None:
        typer.secho(
            f"audit log BROKEN at entry {broken.entry_id}: {broken.reason}", fg="red", err=True
        )
        raise typer.Exit(1)
    typer.echo(f"audit log intact: {count} entries, each chained to the one before")


@audit_app.command("list")
def list_entries(
    action: Annotated[str | None, typer.Option(help="Only this action, e.g. release.")] = None,
    last: Annotated[int, typer.Option(help="How many of the newest entries.")] = 50,
) -> None:
    """The newest entries, oldest first, one JSON object a line."""
    from sqlalchemy import select

    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(last)
    if action:
        query = query.where(AuditEntry.action == action)
    with session_for(get_settings().catalog_url) as session:
        rows = list(session.scalars(query))
    for e in reversed(rows):
        typer.echo(
            json.dumps(
                {
                    "id": e.id,
                    "at": e.at.isoformat(),
                    "actor": e.actor,
                    "action": e.action,
                    "target": e.target,
                    "purpose": e.purpose,
                    "origin": e.origin,
                    "detail": json.loads(e.detail),
                    "hash": e.hash,
                },
                ensure_ascii=False,
            )
        )
