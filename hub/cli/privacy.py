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

from hub.cli.acting import As, signed
from hub.registry.roles import Permission

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
    purpose: Annotated[str, typer.Option(help="Why (logged).")],
    as_: As = None,
) -> None:
    """Start a new key version for FEED (the protection officer); old tokens stay resolvable."""
    from catalog import audit
    from privacy.vault import Vault

    settings, _, person = signed(Permission.keys_rotate, "vault rotate", as_)
    key = Vault.open(settings).rotate(feed, actor=person.login, purpose=purpose)
    audit.record(
        settings.catalog_url,
        "key_rotate",
        feed,
        purpose=purpose,
        who=person.login,
        detail={"key_version": key.version},
    )
    typer.echo(f"{feed}: new deliveries are tokenized with key v{key.version}")


@vault_app.command("request")
def vault_request(
    feed: str,
    token: str,
    reason: Annotated[str, typer.Option(help="Why this person must be re-identified.")],
    as_: As = None,
) -> None:
    """Ask to re-identify one token of FEED; a second person approves before it is resolved."""
    from catalog import reidentification

    settings, policy, person = signed(Permission.reidentify_request, "vault request", as_)
    row = reidentification.ask(settings.catalog_url, policy, person, feed, token, reason)
    typer.echo(f"re-identification request {row.id} filed; it waits for a second person")


@vault_app.command("decide")
def vault_decide(
    request: int,
    refuse: Annotated[bool, typer.Option("--refuse", help="Refuse (give --reason).")] = False,
    reason: Annotated[str, typer.Option(help="Why (required to refuse).")] = "",
    as_: As = None,
) -> None:
    """Approve or refuse a re-identification request (never one's own)."""
    from catalog import reidentification

    settings, policy, person = signed(Permission.reidentify_approve, "vault decide", as_)
    row = reidentification.decide(
        settings.catalog_url, policy, person, request, approve=not refuse, reason=reason
    )
    typer.echo(f"re-identification request {request}: {row.status}")


@vault_app.command("resolve")
def vault_resolve(request: int, as_: As = None) -> None:
    """Use an approved request once: print the value its token stands for (logged, the value
    never is)."""
    from catalog import audit, reidentification
    from privacy.vault import Vault

    settings, policy, person = signed(Permission.reidentify_request, "vault resolve", as_)
    row = reidentification.claim(settings.catalog_url, policy, person, request)
    value = None
    try:
        value = Vault.open(settings).resolve(
            row.feed_id, row.token, actor=person.login, purpose=row.reason
        )
    finally:  # asked is logged, answered or not (the value itself never is)
        audit.record(
            settings.catalog_url,
            "key_resolve",
            row.feed_id,
            purpose=row.reason,
            who=person.login,
            detail={
                "request": request,
                "token": row.token,
                "approved_by": row.decided_by,
                "found": value is not None,
            },
        )
    if value is None:
        typer.secho(f"{row.token}: not in the vault's token tables", fg="yellow", err=True)
        raise typer.Exit(1)
    typer.echo(value)


@privacy_app.command("report")
def privacy_report(
    feed: str,
    lang: Annotated[str, typer.Option(help="ko or en.")] = "ko",
    zone: Annotated[str | None, typer.Option(help="trusted or open; both when omitted.")] = None,
    as_: As = None,
) -> None:
    """Print the latest release report(s) of FEED for a privacy officer."""
    from catalog import entries
    from catalog.models import Release

    settings = signed(Permission.audit_read, "privacy report", as_).settings
    releases = entries.listing(settings.catalog_url, Release, feed)
    latest = {r.zone: r for r in releases if zone in (None, r.zone)}
    if not latest:
        typer.secho(f"{feed}: no release recorded yet", fg="yellow", err=True)
        raise typer.Exit(1)
    for release in latest.values():
        typer.echo(release.report_ko if lang == "ko" else release.report_en)


@privacy_app.command("registers")
def privacy_registers(feed: str, as_: As = None) -> None:
    """Print FEED's processing, provision and destruction registers as JSON lines."""
    from catalog import registers

    url = signed(Permission.registers_read, "privacy registers", as_).settings.catalog_url
    for register, (model, _, _) in registers.REGISTERS.items():
        for row in reversed(registers.read(url, register, feed)):
            fields = {c: getattr(row, c) for c in model.__table__.columns.keys()}  # noqa: SIM118
            typer.echo(
                json.dumps({"register": register, **fields}, ensure_ascii=False, default=str)
            )
