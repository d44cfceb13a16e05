"""The ``hub`` command line: one Typer app composed of one module per command group.

Heavy modules (steps, web, pyiceberg, GX, uvicorn, Airflow) are imported inside the commands
that need them, so ``hub --help`` and every other command stay fast.
"""

from __future__ import annotations

import sys

import typer

from catalog.audit import act_as
from hub.cli.audit import audit_app
from hub.cli.backup import backup_app, restore
from hub.cli.bench import bench
from hub.cli.catalog import catalog_app
from hub.cli.demo import demo
from hub.cli.errors import say_error
from hub.cli.feeds import feeds_app, run
from hub.cli.lineage import lineage_app
from hub.cli.maintain import maintain
from hub.cli.partner import partner_app
from hub.cli.privacy import pii_app, privacy_app, vault_app
from hub.cli.quality import quality_app
from hub.cli.services import down, serve, status, up
from hub.cli.users import users_app
from hub.core.errors import HubError

app = typer.Typer(no_args_is_help=True, add_completion=False, help="City Data Hub")


@app.callback()
def _each_command() -> None:
    # Each command starts as no one until its --as signs a person in (hub/cli/acting.py).
    act_as(None)


# `hub --help` lists the commands in the order they are registered here, then the groups.
for command in (serve, up, down, status, run, demo, bench, maintain):
    app.command()(command)
app.add_typer(feeds_app, name="feeds")
app.add_typer(pii_app, name="pii", help="Find personal data (PIPA) in text files.")
app.add_typer(vault_app, name="vault")
app.add_typer(privacy_app, name="privacy")
app.add_typer(quality_app, name="quality")
app.add_typer(audit_app, name="audit")
app.add_typer(lineage_app, name="lineage")
app.add_typer(catalog_app, name="catalog")
app.add_typer(partner_app, name="partner")
app.add_typer(users_app, name="users")
app.add_typer(backup_app, name="backup")
app.command()(restore)


def main() -> None:
    """The ``hub`` console script: a hub error is one ``error:`` line and exit code 1, Ctrl-C
    exits with 130, neither with a traceback."""
    try:
        app()
    except HubError as exc:
        say_error(exc)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


__all__ = ["app", "main"]
