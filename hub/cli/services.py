"""``hub up|down|status|serve``: the embedded lake services and the web app, from a shell."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from hub.cli.errors import fail
from hub.core.errors import HubError
from hub.core.settings import get_settings


def serve(
    port: Annotated[int, typer.Option(envvar="HUB_WEB_PORT", help="Port to listen on.")] = 8000,
    host: Annotated[
        str, typer.Option(envvar="HUB_WEB_HOST", help="Address to bind (0.0.0.0 in a container).")
    ] = "127.0.0.1",
    workers: Annotated[
        int, typer.Option(envvar="HUB_WEB_WORKERS", min=1, help="Server processes.")
    ] = 1,
) -> None:
    """Serve the web app: the open data map, catalog endpoints and /catalog.jsonld."""
    import uvicorn

    typer.echo(f"data map on http://{host}:{port}/  (DCAT-AP 3: /catalog.jsonld)")
    # by import string, so that each worker process builds its own app
    uvicorn.run(
        "hub.web.app:served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )


def up() -> None:
    """Start the embedded S3 server, create the zone buckets and the catalog database."""
    from hub.services.lake import shown_url
    from hub.services.lake import up as start

    configured = get_settings()
    try:
        settings, started = start(configured)
    except HubError as exc:
        fail(exc)
    s3 = settings.s3()
    if configured.s3_endpoint is not None:  # production: an S3 service the hub does not run
        typer.echo(f"S3 at {s3.endpoint} (external; nothing started)")
    else:
        verb = "started" if started.get("seaweedfs") else "already running"
        typer.echo(f"S3 (SeaweedFS) {verb} at {s3.endpoint}")
    typer.echo(f"zones: {', '.join(f'{z}=s3://{b}' for z, b in settings.buckets.items())}")
    typer.echo(f"catalog: {shown_url(settings.catalog_url)}")
    typer.echo("clients: `hub status --json --show-secrets` prints the connection details")


def down() -> None:
    """Stop the embedded services this home started (by PID)."""
    from hub.services.lake import down as stop

    typer.echo("stopped SeaweedFS" if stop(get_settings()) else "nothing was running")


def status(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable.")] = False,
    show_secrets: Annotated[
        bool, typer.Option("--show-secrets", help="Include the S3 secret key and DB password.")
    ] = False,
) -> None:
    """Where the lake is and how to reach it (secrets only with --show-secrets)."""
    from hub.services.lake import status as describe

    info = describe(get_settings(), secrets=show_secrets)
    if as_json:
        typer.echo(json.dumps(info, indent=2))
        return
    running = info["services"]["seaweedfs"]
    state = "running" if running.get("running") or running.get("external") else "not running"
    typer.echo(f"S3 endpoint: {info['s3']['endpoint']} ({state})")
    typer.echo(f"buckets: {info['s3']['buckets']}")
    typer.echo(f"catalog: {info['database_url']}")
