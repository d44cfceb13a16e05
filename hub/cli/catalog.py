"""``hub catalog export``: every dataset as DCAT-AP 3 or schema.org JSON-LD, for portals."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from catalog import audit
from catalog.db import migrate
from catalog.dcat import dcat_catalog, schemaorg_catalog
from hub.cli.output import emit
from hub.core.settings import get_settings
from hub.registry.loader import load_registry
from products import load_products

catalog_app = typer.Typer(no_args_is_help=True, help="The catalog in open standards.")


@catalog_app.command("export")
def catalog_export(
    format_: Annotated[
        str, typer.Option("--format", help="dcat (DCAT-AP 3) or schemaorg.")
    ] = "dcat",
    out: Annotated[str, typer.Option(help="File to write; stdout when '-'.")] = "-",
) -> None:
    """Every dataset (feeds and products) as JSON-LD that portals can harvest."""

    builders = {"dcat": dcat_catalog, "schemaorg": schemaorg_catalog}
    if format_ not in builders:
        raise typer.BadParameter(f"--format {format_!r}: choose dcat or schemaorg")
    settings = get_settings()
    migrate(settings.catalog_url)
    doc = builders[format_](
        settings.catalog_url, load_registry(settings.feeds_dir), load_products()
    )
    text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    emit(text, out)
    audit.record(
        settings.catalog_url,
        "export",
        "catalog",
        purpose=f"catalog export ({format_})",
        detail={"format": format_, "to": out},
    )
