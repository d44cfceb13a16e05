"""``hub partner add|key|grant``: partner agencies, their API keys and their data grants."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import typer

from catalog import audit, partners
from hub.cli.acting import As, signed
from hub.registry.roles import Permission

partner_app = typer.Typer(no_args_is_help=True, help="Partner agencies: keys and grants.")


@partner_app.command("add")
def partner_add(
    partner_id: str,
    name: Annotated[str, typer.Option(help="The agency's name.")],
    contact: Annotated[str | None, typer.Option(help="Who to reach there.")] = None,
    as_: As = None,
) -> None:
    """Register a partner agency (partners.manage)."""

    settings, _, person = signed(Permission.partners_manage, "partner add", as_)
    who = person.login
    url = settings.catalog_url
    partners.add_partner(url, partner_id, name, contact)
    audit.record(
        url,
        "partner_add",
        partner_id,
        purpose="partner registration",
        who=who,
        detail={"name": name},
    )
    typer.echo(f"partner {partner_id} added")


@partner_app.command("key")
def partner_key(
    partner_id: str,
    days: Annotated[int, typer.Option(help="Days until the key expires.")] = 365,
    per_minute: Annotated[int, typer.Option(help="Requests a minute before 429.")] = 120,
    per_day: Annotated[int, typer.Option(help="Requests a day before 429.")] = 20_000,
    revoke: Annotated[str | None, typer.Option(help="Revoke the key with this prefix.")] = None,
    as_: As = None,
) -> None:
    """Issue a key (printed once; only its hash is kept), or revoke one by its prefix
    (partners.manage)."""

    settings, _, person = signed(Permission.partners_manage, "partner key", as_)
    who = person.login
    url = settings.catalog_url
    if revoke:
        count = partners.revoke_key(url, revoke)
        audit.record(
            url,
            "key_revoke",
            partner_id,
            purpose="access control",
            who=who,
            detail={"prefix": revoke, "keys": count},
        )
        typer.echo(f"revoked {count} key(s) starting {revoke}")
        return
    key = partners.issue_key(
        url, partner_id, timedelta(days=days), per_minute=per_minute, per_day=per_day
    )
    audit.record(
        url,
        "key_issue",
        partner_id,
        purpose="access control",
        who=who,
        detail={"prefix": key[:12], "days": days, "per_minute": per_minute, "per_day": per_day},
    )
    typer.echo(key)
    typer.echo("(shown once: only its hash is kept)", err=True)


@partner_app.command("grant")
def partner_grant(
    partner_id: str,
    dataset: str,
    purpose: Annotated[str, typer.Option(help="The purpose the data is provided for.")],
    legal_basis: Annotated[str, typer.Option(help="The law or agreement it rests on.")],
    columns: Annotated[str, typer.Option(help="Comma-separated columns allowed.")],
    until: Annotated[str, typer.Option(help="ISO date-time the grant ends.")],
    as_: As = None,
) -> None:
    """Grant a partner a dataset for a purpose, some columns, until a date: a provision
    decision (provisions.decide), as an approved request on /provisions is."""

    settings, _, person = signed(Permission.provisions_decide, "partner grant", as_)
    who = person.login
    url = settings.catalog_url
    valid_until = datetime.fromisoformat(until)
    if valid_until.tzinfo is None:
        raise typer.BadParameter("--until needs a time zone, e.g. 2027-12-31T23:59+09:00")
    grant = partners.add_grant(
        url,
        partner_id,
        dataset,
        purpose=purpose,
        legal_basis=legal_basis,
        columns=[c for c in columns.split(",") if c],
        valid_until=valid_until,
    )
    audit.record(
        url,
        "grant",
        dataset,
        purpose=purpose,
        who=who,
        detail={"partner": partner_id, "grant": grant.id, "columns": columns, "until": until},
    )
    typer.echo(f"grant {grant.id}: {partner_id} may pull {dataset} for {purpose!r}")
