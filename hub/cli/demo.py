"""``hub demo``: the whole hub on one machine, fed by the simulated city (see ``demo_run``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from hub.cli.errors import fail
from hub.core.errors import HubError


def demo(
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Exit after the run.")] = False,
    at: Annotated[str | None, typer.Option(help="Run as if now were AT (ISO time).")] = None,
) -> None:
    """Start everything, run every feed's DAG through Airflow, summarise, then serve the UI."""
    from hub.cli.demo_run import run_demo

    try:
        code = run_demo(serve=not no_serve, at=datetime.fromisoformat(at) if at else None)
    except HubError as exc:
        fail(exc)
    raise typer.Exit(code)
