"""``hub audit verify|list``: read and verify the hash-chained audit log."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from catalog.audit import verify as walk
from catalog.db import session_for
from catalog.models import AuditEntry
from hub.cli.acting import As, signed
from hub.registry.roles import Permission

audit_app = typer.Typer(no_args_is_help=True, help="The append-only audit log.")


def _reader(what: str, login: str | None) -> str:
    """The catalog of the auditor (audit.read) who runs ``what``."""
    return signed(Permission.audit_read, what, login).settings.catalog_url


@audit_app.command()
def verify(as_: As = None) -> None:
    """Prove the audit log is one unbroken chain; name the first entry that is not (exit 1)."""

    count, broken = walk(_reader("audit verify", as_))
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
    as_: As = None,
) -> None:
    """The newest entries, oldest first, one JSON object a line."""
    from sqlalchemy import select

    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(last)
    if action:
        query = query.where(AuditEntry.action == action)
    with session_for(_reader("audit list", as_)) as session:
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
