"""``hub maintain``: the lake's upkeep on demand, as the maintenance DAGs run it."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Annotated

import typer

from hub.cli.acting import As, signed
from hub.cli.errors import fail
from hub.core.time import as_utc, utc_now
from hub.registry.roles import Permission


def maintain(
    datasets: Annotated[
        list[str] | None, typer.Argument(help="Dataset ids (default: every dataset).")
    ] = None,
    compact_only: Annotated[
        bool, typer.Option("--compact-only", help="Only the hourly compaction.")
    ] = False,
    at: Annotated[
        str | None,
        typer.Option(help="Judge retention at this ISO instant instead of now (a drill)."),
    ] = None,
    as_: As = None,
) -> None:
    """Compact crowded partitions; unless --compact-only, also apply retention, expire
    snapshots nobody is owed and remove orphan files. Prints what was done as JSON."""
    from hub.upkeep import rounds

    settings = signed(Permission.pipelines_run, "maintain", as_).settings
    known = rounds.datasets(settings)
    unknown = [d for d in datasets or [] if d not in known]
    if unknown:
        fail(f"no dataset {unknown[0]!r} (datasets: {', '.join(sorted(known))})")
    now = as_utc(datetime.fromisoformat(at)) if at else utc_now()
    done = [
        rounds.compaction(settings, known[d])
        if compact_only
        else rounds.daily(settings, known[d], now)
        for d in datasets or list(known)
    ]
    typer.echo(json.dumps([asdict(r) for r in done], ensure_ascii=False, indent=2, default=str))
