"""``hub feeds list|validate`` and ``hub run``: the feed registry, and one feed run by hand."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from hub.cli.acting import As, signed
from hub.cli.errors import fail
from hub.core.errors import HubError
from hub.core.settings import get_settings
from hub.registry.roles import Permission

feeds_app = typer.Typer(no_args_is_help=True, help="The feed registry (feeds/*.yaml).")


@feeds_app.command("list")
def feeds_list() -> None:
    """List the feeds in the registry."""
    from hub.registry import load_registry

    try:
        feeds = load_registry(get_settings().feeds_dir)
    except HubError as exc:
        fail(exc)
    for feed in feeds.values():
        typer.echo(
            f"{feed.id:30} {feed.type.value:15} {feed.access_class.value:11} "
            f"{feed.schedule.cron:12} {feed.title.ko}"
        )


@feeds_app.command("validate")
def feeds_validate(
    path: Annotated[
        str | None, typer.Argument(help="Folder or file (default: the registry).")
    ] = None,
) -> None:
    """Check every feed file; each problem names the file, the field and the reason."""
    from hub.registry import load_feed, validate_registry

    target = Path(path) if path else get_settings().feeds_dir
    feeds: Collection[str]
    if target.is_file():
        try:
            feeds, errors = {load_feed(target).id: None}, []
        except HubError as exc:
            feeds, errors = {}, [str(exc)]
    else:
        feeds, errors = validate_registry(target)
    for error in errors:
        typer.secho(error, fg="red", err=True)
    if errors:
        raise typer.Exit(1)
    typer.echo(f"{len(feeds)} feed(s) valid: {', '.join(feeds)}")


def run(
    feed: str,
    end: Annotated[
        str | None, typer.Option(help="Window end (ISO); default: the last one.")
    ] = None,
    as_: As = None,
) -> None:
    """Run one feed's steps here, without Airflow, for the window ending at END."""
    from hub.steps.context import RunContext
    from hub.steps.pipeline import run_pipeline

    settings = signed(Permission.pipelines_run, "run", as_).settings
    try:
        from hub.registry import load_feed
        from hub.registry.schedule import last_window

        spec = load_feed(settings.feeds_dir / f"{feed}.yaml")
        start_at, end_at = last_window(spec.schedule, datetime.fromisoformat(end) if end else None)
        ctx = RunContext.create(
            feed, start_at, end_at, f"cli__{datetime.now().isoformat()}", settings=settings
        )
        result = run_pipeline(ctx)
    except HubError as exc:
        fail(exc)
    typer.echo(json.dumps(result, indent=2, default=str))
