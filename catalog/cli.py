"""``hub audit``: read and verify the hash-chained audit log."""

from __future__ import annotations

import json
from typing import Annotated

import typer

audit_app = typer.Typer(no_args_is_help=True, help="The append-only audit log.")


@audit_app.command()
def verify() -> None:
    """Prove the audit log is one unbroken chain; name the first entry that is not (exit 1)."""
    from catalog.audit import verify as walk
    from hub.core.settings import get_settings

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

    from catalog.db import session_for
    from catalog.models import AuditEntry
    from hub.core.settings import get_settings

    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(last)
    if action:
        query = query.where(AuditEntry.action == action)
    with session_for(get_settings().catalog_url) as session:
        rows = list(session.scalars(query))
    for e in reversed(rows):
        typer.echo(json.dumps({
            "id": e.id, "at": e.at.isoformat(), "actor": e.actor, "action": e.action,
            "target": e.target, "purpose": e.purpose, "origin": e.origin,
            "detail": json.loads(e.detail), "hash": e.hash,
        }, ensure_ascii=False))  # fmt: skip


lineage_app = typer.Typer(no_args_is_help=True, help="Lineage (OpenLineage run events).")


def _dataset_name(settings, name: str) -> str:
    """``zone.dataset`` as a person writes it -> the namespace/name the events use."""
    zone, _, dataset = name.partition(".")
    if not dataset or zone not in settings.buckets:
        raise typer.BadParameter(f"{name!r}: write zone.dataset, e.g. trusted.street_safety")
    return f"s3://{settings.bucket(zone)}/{dataset}"


@lineage_app.command("export")
def lineage_export(
    out: Annotated[str, typer.Option(help="File to write; stdout when '-'.")] = "-",
) -> None:
    """Every stored OpenLineage run event, one JSON object a line, oldest first."""
    from catalog import audit
    from catalog.lineage import events
    from hub.core.settings import get_settings

    settings = get_settings()
    lines = [
        json.dumps(e, ensure_ascii=False, separators=(",", ":"))
        for e in events(settings.catalog_url)
    ]
    text = "\n".join(lines) + ("\n" if lines else "")
    if out == "-":
        typer.echo(text, nl=False)
    else:
        with open(out, "w", encoding="utf-8") as f:
            f.write(text)
    audit.record(settings.catalog_url, "export", "lineage", purpose="lineage export",
                 detail={"events": len(lines), "to": out})  # fmt: skip


@lineage_app.command("show")
def lineage_show(
    dataset: Annotated[str, typer.Argument(help="zone.dataset, e.g. trusted.street_safety")],
    column: Annotated[
        str | None, typer.Option(help="Follow this column back to the source.")
    ] = None,
    hops: Annotated[int | None, typer.Option(help="At most this many steps away.")] = None,
    downstream: Annotated[bool, typer.Option(help="What is computed from it, instead.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable.")] = False,
) -> None:
    """Upstream (or downstream) datasets of DATASET, or the column-level path of one column."""
    from catalog import lineage
    from hub.core.settings import get_settings

    settings = get_settings()
    target = _dataset_name(settings, dataset)
    if column:
        paths = lineage.column_paths(settings.catalog_url, target, column)
        if as_json:
            typer.echo(json.dumps([[{
                "output": list(e.output), "input": list(e.input), "subtype": e.subtype,
                "masking": e.masking, "job": e.job} for e in p] for p in paths],
                ensure_ascii=False, indent=2))  # fmt: skip
            return
        for path in paths:
            hops_text = " <- ".join(
                f"{e.input[0]}:{e.input[1]}" + (" [masked]" if e.masking else "") for e in path
            )
            typer.echo(f"{dataset}:{column} <- {hops_text}")
        return
    walk = lineage.downstream if downstream else lineage.upstream
    found = walk(settings.catalog_url, target, hops)
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    for name, depth in sorted(found.items(), key=lambda kv: (kv[1], kv[0])):
        typer.echo(f"{depth} {name}")


catalog_app = typer.Typer(no_args_is_help=True, help="The catalog in open standards.")


@catalog_app.command("export")
def catalog_export(
    format_: Annotated[
        str, typer.Option("--format", help="dcat (DCAT-AP 3) or schemaorg.")
    ] = "dcat",
    out: Annotated[str, typer.Option(help="File to write; stdout when '-'.")] = "-",
) -> None:
    """Every dataset (feeds and products) as JSON-LD that portals can harvest."""
    from catalog import audit
    from catalog.db import migrate
    from catalog.dcat import dcat_catalog, schemaorg_catalog
    from hub.core.settings import get_settings
    from hub.registry.loader import load_registry
    from products import load_products

    builders = {"dcat": dcat_catalog, "schemaorg": schemaorg_catalog}
    if format_ not in builders:
        raise typer.BadParameter(f"--format {format_!r}: choose dcat or schemaorg")
    settings = get_settings()
    migrate(settings.catalog_url)
    doc = builders[format_](
        settings.catalog_url, load_registry(settings.feeds_dir), load_products()
    )
    text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    if out == "-":
        typer.echo(text, nl=False)
    else:
        with open(out, "w", encoding="utf-8") as f:
            f.write(text)
    audit.record(settings.catalog_url, "export", "catalog", purpose=f"catalog export ({format_})",
                 detail={"format": format_, "to": out})  # fmt: skip


partner_app = typer.Typer(no_args_is_help=True, help="Partner agencies: keys and grants.")


@partner_app.command("add")
def partner_add(
    partner_id: str,
    name: Annotated[str, typer.Option(help="The agency's name.")],
    contact: Annotated[str | None, typer.Option(help="Who to reach there.")] = None,
) -> None:
    """Register a partner agency."""
    from catalog import audit, partners
    from hub.core.settings import get_settings

    url = get_settings().catalog_url
    partners.add_partner(url, partner_id, name, contact)
    audit.record(url, "partner_add", partner_id, purpose="partner registration",
                 detail={"name": name})  # fmt: skip
    typer.echo(f"partner {partner_id} added")


@partner_app.command("key")
def partner_key(
    partner_id: str,
    days: Annotated[int, typer.Option(help="Days until the key expires.")] = 365,
    per_minute: Annotated[int, typer.Option(help="Requests a minute before 429.")] = 120,
    per_day: Annotated[int, typer.Option(help="Requests a day before 429.")] = 20_000,
    revoke: Annotated[str | None, typer.Option(help="Revoke the key with this prefix.")] = None,
) -> None:
    """Issue a key (printed once; only its hash is kept), or revoke one by its prefix."""
    from datetime import timedelta

    from catalog import audit, partners
    from hub.core.settings import get_settings

    url = get_settings().catalog_url
    if revoke:
        count = partners.revoke_key(url, revoke)
        audit.record(url, "key_revoke", partner_id, purpose="access control",
                     detail={"prefix": revoke, "keys": count})  # fmt: skip
        typer.echo(f"revoked {count} key(s) starting {revoke}")
        return
    key = partners.issue_key(url, partner_id, timedelta(days=days), per_minute=per_minute,
                             per_day=per_day)  # fmt: skip
    audit.record(url, "key_issue", partner_id, purpose="access control",
                 detail={"prefix": key[:12], "days": days, "per_minute": per_minute,
                         "per_day": per_day})  # fmt: skip
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
) -> None:
    """Grant a partner a dataset for a purpose, some columns, until a date."""
    from datetime import datetime

    from catalog import audit, partners
    from hub.core.settings import get_settings

    url = get_settings().catalog_url
    valid_until = datetime.fromisoformat(until)
    if valid_until.tzinfo is None:
        raise typer.BadParameter("--until needs a time zone, e.g. 2027-12-31T23:59+09:00")
    grant = partners.add_grant(url, partner_id, dataset, purpose=purpose, legal_basis=legal_basis,
                               columns=[c for c in columns.split(",") if c],
                               valid_until=valid_until)  # fmt: skip
    audit.record(url, "grant", dataset, purpose=purpose, detail={
        "partner": partner_id, "grant": grant.id, "columns": columns, "until": until})  # fmt: skip
    typer.echo(f"grant {grant.id}: {partner_id} may pull {dataset} for {purpose!r}")
