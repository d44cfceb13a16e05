"""The ``hub`` command line: services, feeds, runs, the demo and the benchmarks."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Annotated

import typer

from catalog.cli import audit_app, catalog_app, lineage_app, partner_app
from hub.core.errors import HubError
from hub.core.settings import get_settings
from privacy.cli import pii_app, privacy_app, vault_app
from quality.cli import quality_app

app = typer.Typer(no_args_is_help=True, add_completion=False, help="City Data Hub")
feeds_app = typer.Typer(no_args_is_help=True, help="The feed registry (feeds/*.yaml).")
app.add_typer(feeds_app, name="feeds")
app.add_typer(pii_app, name="pii", help="Find personal data (PIPA) in text files.")
app.add_typer(vault_app, name="vault")
app.add_typer(privacy_app, name="privacy")
app.add_typer(quality_app, name="quality")
app.add_typer(audit_app, name="audit")
app.add_typer(lineage_app, name="lineage")
app.add_typer(catalog_app, name="catalog")
app.add_typer(partner_app, name="partner")


def _fail(exc: Exception) -> None:
    typer.secho(f"error: {exc}", fg="red", err=True)
    raise typer.Exit(1)


@app.command()
def serve(
    port: Annotated[int, typer.Option(envvar="HUB_WEB_PORT", help="Port on 127.0.0.1.")] = 8000,
) -> None:
    """Serve the web app: the open data map, catalog endpoints and /catalog.jsonld."""
    import uvicorn

    from hub.web.app import create_app

    typer.echo(f"data map on http://127.0.0.1:{port}/  (DCAT-AP 3: /catalog.jsonld)")
    uvicorn.run(create_app(), host="127.0.0.1", port=port, log_level="warning")


@app.command()
def up() -> None:
    """Start the embedded S3 server, create the zone buckets and the catalog database."""
    from hub.services.lake import up as start

    try:
        settings, started = start(get_settings())
    except HubError as exc:
        _fail(exc)
    s3 = settings.s3()
    verb = "started" if started.get("seaweedfs") else "already running"
    typer.echo(f"S3 (SeaweedFS) {verb} at {s3.endpoint}")
    typer.echo(f"zones: {', '.join(f'{z}=s3://{b}' for z, b in settings.buckets.items())}")
    typer.echo(f"catalog: {settings.catalog_url}")
    typer.echo("clients: `hub status --json` prints the connection details")


@app.command()
def down() -> None:
    """Stop the embedded services this home started (by PID)."""
    from hub.services.lake import down as stop

    typer.echo("stopped SeaweedFS" if stop(get_settings()) else "nothing was running")


@app.command()
def status(as_json: Annotated[bool, typer.Option("--json", help="Machine-readable.")] = False):
    """Where the lake is and how to reach it."""
    from hub.services.lake import status as describe

    info = describe(get_settings())
    if as_json:
        typer.echo(json.dumps(info, indent=2))
        return
    running = info["services"]["seaweedfs"]
    typer.echo(
        f"S3 endpoint: {info['s3']['endpoint']} ({'running' if running.get('running') or running.get('external') else 'not running'})"
    )
    typer.echo(f"buckets: {info['s3']['buckets']}")
    typer.echo(f"catalog: {info['database_url']}")


@feeds_app.command("list")
def feeds_list() -> None:
    """List the feeds in the registry."""
    from hub.registry import load_registry

    try:
        feeds = load_registry(get_settings().feeds_dir)
    except HubError as exc:
        _fail(exc)
    for feed in feeds.values():
        typer.echo(
            f"{feed.id:30} {feed.type.value:15} {feed.access_class.value:11} {feed.schedule.cron:12} {feed.title.ko}"
        )


@feeds_app.command("validate")
def feeds_validate(
    path: Annotated[
        str | None, typer.Argument(help="Folder or file (default: the registry).")
    ] = None,
) -> None:
    """Check every feed file; each problem names the file, the field and the reason."""
    from pathlib import Path

    from hub.registry import load_feed, validate_registry

    target = Path(path) if path else get_settings().feeds_dir
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


@app.command()
def run(
    feed: str,
    end: Annotated[
        str | None, typer.Option(help="Window end (ISO); default: the last one.")
    ] = None,
) -> None:
    """Run one feed's steps here, without Airflow, for the window ending at END."""
    from hub.steps.context import RunContext
    from hub.steps.pipeline import run_pipeline

    settings = get_settings()
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
        _fail(exc)
    typer.echo(json.dumps(result, indent=2, default=str))


@app.command()
def demo(
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Exit after the run.")] = False,
    at: Annotated[str | None, typer.Option(help="Run as if now were AT (ISO time).")] = None,
) -> None:
    """Start everything, run every feed's DAG through Airflow, summarise, then serve the UI."""
    from hub.demo import run_demo

    try:
        code = run_demo(serve=not no_serve, at=datetime.fromisoformat(at) if at else None)
    except HubError as exc:
        _fail(exc)
    raise typer.Exit(code)


@app.command()
def bench(
    rows: Annotated[int, typer.Option(help="Rows for the publish benchmark.")] = 1_000_000,
    only: Annotated[
        str | None,
        typer.Option(help="Groups to run (publish,connectors,protect,dags); others are kept."),
    ] = None,
) -> None:
    """Run bench/ and write bench/results.json."""
    from hub.benchmarks import run_benchmarks

    run_benchmarks(rows=rows, only=only)


def main() -> None:  # pragma: no cover - entry point
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
