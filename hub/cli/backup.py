"""``hub backup [--keep N]``, ``hub backup list`` and ``hub restore BACKUP --yes``: copies of the
catalog database and the key vault, apart from the lake, and bringing them back.

The backup module (pyarrow, the S3 client) loads inside the commands, so ``hub --help`` stays
fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from hub.cli.acting import As, signed
from hub.cli.errors import fail
from hub.core.settings import get_settings
from hub.registry.roles import Permission

if TYPE_CHECKING:
    from hub.upkeep.backup import DatabaseCopy

backup_app = typer.Typer()


@backup_app.callback(invoke_without_command=True)
def backup(
    ctx: typer.Context,
    keep: Annotated[
        int | None,
        typer.Option(
            min=1, help="Backups to keep, this one included; older go. [default: HUB_BACKUP_KEEP]"
        ),
    ] = None,
    as_: As = None,
) -> None:
    """Back up the catalog database and the key vault (`hub backup list` lists the backups).

    The catalog (with the Iceberg table pointers) and the vault, encrypted under HUB_BACKUP_KEY,
    go to HUB_BACKUP_LOCATION; then only the newest KEEP backups are kept.
    """
    if ctx.invoked_subcommand is not None:
        return
    from hub.upkeep.backup import backup as make_backup

    settings = signed(Permission.pipelines_run, "backup", as_).settings
    done = make_backup(settings, keep=keep, purpose="backup on request (hub backup)")
    m = done.manifest
    typer.echo(f"backup {m.id} written to {done.location}")
    audit_note = f", audit chain of {m.audit.entries} entries"
    lines = [
        (
            m.catalog.file,
            f"catalog database ({m.catalog.dialect}): {_tables(m.catalog)}{audit_note}",
        ),
        (
            m.vault.file,
            f"key vault ({m.vault.dialect}): {_tables(m.vault)}; AES-256-GCM under "
            f"HUB_BACKUP_KEY (key id {m.vault.key_id})",
        ),
    ]
    for name, what in lines:
        typer.echo(f"  {name:<20} {_size(m.files[name].bytes):>9}  {what}")
    typer.echo(
        f"  {'manifest.json':<20} {'':>9}  checksums, rows per table, "
        f"{len(m.iceberg_pointers)} Iceberg table pointers"
    )
    removed = f"; removed {', '.join(done.removed)}" if done.removed else ""
    typer.echo(f"keeping the newest {keep or settings.backup_keep} backups{removed}")


@backup_app.command("list")
def list_backups(as_: As = None) -> None:
    """The backups at HUB_BACKUP_LOCATION, newest first (an unfinished one has no manifest)."""
    from hub.upkeep.backup import list_backups as listing

    found = listing(signed(Permission.pipelines_run, "backup list", as_).settings)
    if not found:
        typer.echo("no backups yet (`hub backup` makes one)")
    for b in found:
        if b.manifest is None:
            typer.echo(f"{b.id}  unfinished: no manifest.json (pruned after a day)")
            continue
        m = b.manifest
        typer.echo(
            f"{b.id}  {_size(m.bytes):>9}  catalog {m.catalog.rows:,} rows, vault "
            f"{m.vault.rows:,} rows, {len(m.iceberg_pointers)} tables  {b.location}"
        )


def restore(
    backup: Annotated[str, typer.Argument(help="A backup id (hub backup list), or its folder.")],
    yes: Annotated[
        bool, typer.Option("--yes", help="Replace the catalog database and the key vault.")
    ] = False,
) -> None:
    """Replace the catalog database and the key vault with BACKUP, and check them.

    After restoring, it checks the rows, the audit chain, the Iceberg metadata files, the
    downloads and the vault's keys, and exits 1 if any check fails.
    """
    if not yes:
        fail(
            f"restore replaces the catalog database and the key vault with backup {backup}: "
            "whatever was recorded after it (runs, versions, tokens' keys, audit entries) is "
            "gone. Stop the pipeline and the web app, then rerun with --yes"
        )
    from hub.upkeep.backup import restore as bring_back

    report = bring_back(get_settings(), backup)
    m = report.manifest
    typer.echo(
        f"restored backup {m.id} (made {m.created_at:%Y-%m-%d %H:%M:%S}Z) from {report.location}"
    )
    typer.echo(f"  catalog database ({m.catalog.dialect}): {_tables(m.catalog)}")
    typer.echo(f"  key vault ({m.vault.dialect}): {_tables(m.vault)}")
    if report.replaced is not None:
        typer.echo(f"  replaced a catalog whose audit chain had {report.replaced.entries} entries")
    typer.echo("checks:")
    for check in report.checks:
        typer.secho(
            f"  {'ok' if check.ok else 'FAILED':<6} {check.name}: {check.detail}",
            fg=None if check.ok else "red",
        )
    typer.echo("audit: a 'restore' entry was appended to the restored chain")
    if not report.ok:
        raise typer.Exit(1)


def _tables(part: DatabaseCopy) -> str:
    return f"{len(part.tables)} tables, {part.rows:,} rows"


def _size(n: float) -> str:
    """Bytes for a reader: ``512 B``, ``40.1 kB``, ``1.2 MB``, ``3.4 GB``."""
    if n < 1000:
        return f"{n:.0f} B"
    for unit in ("kB", "MB"):
        n /= 1000
        if n < 1000:
            return f"{n:.1f} {unit}"
    return f"{n / 1000:.1f} GB"
