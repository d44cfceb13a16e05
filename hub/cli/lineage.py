"""``hub lineage export|show``: the stored OpenLineage events, and walks up or down the graph."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from catalog import audit, lineage
from catalog.lineage import events
from hub.cli.acting import As, signed
from hub.cli.output import emit
from hub.core.settings import HubSettings
from hub.registry.roles import Permission

lineage_app = typer.Typer(no_args_is_help=True, help="Lineage (OpenLineage run events).")


def _dataset_name(settings: HubSettings, name: str) -> str:
    """``zone.dataset`` as a person writes it -> the namespace/name the events use."""
    zone, _, dataset = name.partition(".")
    if not dataset or zone not in settings.buckets:
        raise typer.BadParameter(f"{name!r}: write zone.dataset, e.g. trusted.street_safety")
    return f"s3://{settings.bucket(zone)}/{dataset}"


@lineage_app.command("export")
def lineage_export(
    out: Annotated[str, typer.Option(help="File to write; stdout when '-'.")] = "-",
    as_: As = None,
) -> None:
    """Every stored OpenLineage run event, one JSON object a line, oldest first."""

    settings = signed(Permission.audit_read, "lineage export", as_).settings
    lines = [
        json.dumps(e, ensure_ascii=False, separators=(",", ":"))
        for e in events(settings.catalog_url)
    ]
    text = "\n".join(lines) + ("\n" if lines else "")
    emit(text, out)
    audit.record(
        settings.catalog_url,
        "export",
        "lineage",
        purpose="lineage export",
        detail={"events": len(lines), "to": out},
    )


@lineage_app.command("show")
def lineage_show(
    dataset: Annotated[str, typer.Argument(help="zone.dataset, e.g. trusted.street_safety")],
    column: Annotated[
        str | None, typer.Option(help="Follow this column back to the source.")
    ] = None,
    hops: Annotated[int | None, typer.Option(help="At most this many steps away.")] = None,
    downstream: Annotated[bool, typer.Option(help="What is computed from it, instead.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable.")] = False,
    as_: As = None,
) -> None:
    """Upstream (or downstream) datasets of DATASET, or the column-level path of one column."""

    settings = signed(Permission.audit_read, "lineage show", as_).settings
    target = _dataset_name(settings, dataset)
    if column:
        paths = lineage.column_paths(settings.catalog_url, target, column)
        if as_json:
            typer.echo(
                json.dumps(
                    [
                        [
                            {
                                "output": list(e.output),
                                "input": list(e.input),
                                "subtype": e.subtype,
                                "masking": e.masking,
                                "job": e.job,
                            }
                            for e in p
                        ]
                        for p in paths
                    ],
                    ensure_ascii=False,
                    indent=2,
                )
            )
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
