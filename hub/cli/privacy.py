"""``hub pii``, ``hub vault`` and ``hub privacy``: the scanner, the key vault, the PD registers.

The scanner, the vault and pyarrow load inside the commands, so ``hub --help`` stays fast.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Annotated, TextIO

import typer

from hub.core.settings import get_settings

pii_app = typer.Typer(no_args_is_help=True, help="Find personal data (PIPA) in text.")
vault_app = typer.Typer(no_args_is_help=True, help="The key vault: rotate keys, re-identify.")
privacy_app = typer.Typer(no_args_is_help=True, help="Release reports and the PD registers.")


def _open_text(path: Path) -> TextIO:
    """UTF-8, or CP949 when the start of the file is not UTF-8 (common for Korean public data)."""
    with path.open("rb") as f:
        head = f.read(1 << 16)
    try:
        head.decode("utf-8")
        encoding = "utf-8-sig"
    except UnicodeDecodeError as exc:
        encoding = "utf-8-sig" if exc.start >= len(head) - 3 else "cp949"
    return path.open(encoding=encoding, errors="replace", newline="")


@pii_app.command()
def scan(
    file: Annotated[str, typer.Argument(help="Text file; stdin when omitted or '-'.")] = "-",
    min_score: Annotated[float, typer.Option(help="Report findings at or above this score.")] = 0.5,
) -> None:
    """Print one JSON object per finding: {"line", "start", "end", "kind", "score"}.

    Lines are 1-based and offsets count characters within the line. Exits 0 whether or not
    anything was found, so it can sit in a pipeline; only a missing FILE exits 1.
    """
    if file == "-":
        stdin = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace", newline="")
        try:
            _print_findings(stdin, min_score)
        finally:
            stdin.detach()  # leave sys.stdin usable (and open) for the caller
        return
    path = Path(file)
    if not path.is_file():
        typer.secho(f"error: no such file: {file}", fg="red", err=True)
        raise typer.Exit(1)
    with _open_text(path) as stream:
        _print_findings(stream, min_score)


def _print_findings(lines: TextIO, min_score: float) -> None:
    """Scan ``lines`` and echo each finding at or above ``min_score`` as one JSON line."""
    from privacy.scanner import scan_lines

    for record in scan_lines(lines, min_score):
        typer.echo(json.dumps(record, ensure_ascii=False))


@vault_app.command("rotate")
def vault_rotate(
    feed: str,
    actor: Annotated[str, typer.Option(help="Who rotates (logged).")],
    purpose: Annotated[str, typer.Option(help="Why (logged).")],
) -> None:
    """Start a new key version for FEED; old tokens stay resolvable."""
    from catalog import audit
    from privacy.vault import Vault

    settings = get_settings()
    key = Vault.open(settings).rotate(feed, actor=actor, purpose=purpose)
    audit.record(
        settings.catalog_url,
        "key_rotate",
        feed,
        purpose=purpose,
        who=actor,
        detail={"key_version": key.version},
    )
    typer.echo(f"{feed}: new deliveries are tokenized with key v{key.version}")


@vault_app.command("resolve")
def vault_resolve(
    feed: str,
    token: str,
    actor: Annotated[str, typer.Option(help="Who asks (logged).")],
    purpose: Annotated[str, typer.Option(help="The lawful purpose (logged).")],
) -> None:
    """Re-identify one token of FEED: an explicit operation, always logged."""
    from catalog import audit
    from privacy.errors import VaultError
    from privacy.vault import Vault

    settings = get_settings()
    try:
        value = Vault.open(settings).resolve(feed, token, actor=actor, purpose=purpose)
    except VaultError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(1) from exc
    finally:  # asked is logged, answered or not (the value itself never is)
        audit.record(
            settings.catalog_url,
            "key_resolve",
            feed,
            purpose=purpose,
            who=actor,
            detail={"token": token},
        )
    if value is None:
        typer.secho(f"{token}: not in the vault's token tables", fg="yellow", err=True)
        raise typer.Exit(1)
    typer.echo(value)


@privacy_app.command("report")
def privacy_report(
    feed: str,
    lang: Annotated[str, typer.Option(help="ko or en.")] = "ko",
    zone: Annotated[str | None, typer.Option(help="trusted or open; both when omitted.")] = None,
) -> None:
    """Print the latest release report(s) of FEED for a privacy officer."""
    from catalog import entries
    from catalog.models import Release

    releases = entries.listing(get_settings().catalog_url, Release, feed)
    latest = {r.zone: r for r in releases if zone in (None, r.zone)}
    if not latest:
        typer.secho(f"{feed}: no release recorded yet", fg="yellow", err=True)
        raise typer.Exit(1)
    for release in latest.values():
        typer.echo(release.report_ko if lang == "ko" else release.report_en)


@privacy_app.command("registers")
def privacy_registers(feed: str) -> None:
    """Print FEED's processing and destruction registers as JSON lines."""
    from catalog import entries
    from catalog.models import DestructionRecord, ProcessingRecord

    url = get_settings().catalog_url
    for register, model in (("processing", ProcessingRecord), ("destruction", DestructionRecord)):
        for row in entries.listing(url, model, feed):
            fields = {c: getattr(row, c) for c in model.__table__.columns.keys()}  # noqa: SIM118
            typer.echo(
                json.dumps({"register": register, **fields}, ensure_ascii=False, default=str)
            )
