"""What ``hub demo`` runs: the whole hub on one machine, fed by the simulated city.

Starts SeaweedFS and the simulated agency endpoints (as a separate process: the hub never
imports the simulators), runs each feed's DAG through Airflow, prints a summary, and serves
the Airflow UI until Ctrl-C. Everything it started, it stops, by PID.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import httpx

from hub.core.errors import ServiceError
from hub.core.settings import PROJECT_ROOT, HubSettings, get_settings
from hub.services.process import free_port, stop_pid, wait_until

if TYPE_CHECKING:
    from hub.registry import FeedSpec


def _agency_key(settings: HubSettings) -> str:
    """The simulated agencies' service key: generated at run time, kept under var/secrets."""
    path = settings.secrets_dir / "agency_service_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(24))
        path.chmod(0o600)
    return path.read_text().strip()


def start_simulators(settings: HubSettings) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    """Start the simulated agencies in their own process, and wait until they answer.

    Returns:
        The process, and the environment the feed DAGs need to reach the agencies.

    Raises:
        ServiceError: When the process died before it answered.
    """
    key = _agency_key(settings)
    port = free_port()
    log = open(settings.home_dir / "log" / "simulators.log", "ab")  # noqa: SIM115 - owned by the child
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulators", "serve", "--port", str(port)],
        env={**os.environ, "DATA_GO_KR_SERVICE_KEY": key},
        cwd=PROJECT_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            httpx.get(base, timeout=0.5)
        except httpx.HTTPError:
            return proc.poll() is not None
        return True

    wait_until(answers, timeout_s=20)
    if proc.poll() is not None:
        raise ServiceError(f"the simulated agencies did not start; see {log.name}")
    sources = subprocess.run(  # where the agencies' databases live (the simulators know)
        [sys.executable, "-m", "simulators", "sources", "--home", str(settings.home_dir)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return proc, {
        "DATA_GO_KR_BASE_URL": base,
        "DATA_GO_KR_SERVICE_KEY": key,
        "CITY_IOT_BROKER_URL": base,
        **json.loads(sources),
    }


def drop_files(settings: HubSettings, feed: FeedSpec, logical: datetime) -> None:
    """Have the simulated agency drop its files for the window the DAG run will cover."""
    from hub.registry.schedule import last_window

    start, _ = last_window(feed.schedule, logical)
    s3 = settings.s3()
    env = {
        **os.environ,
        "HUB_S3_ENDPOINT": s3.endpoint,
        "HUB_S3_ACCESS_KEY": s3.access_key,
        "HUB_S3_SECRET_KEY": s3.secret_key,
        "HUB_BUCKET_PREFIX": settings.bucket_prefix,
    }
    _simulate(
        ["drop", feed.id, "--start", start.isoformat()],
        env,
        f"the simulated provider of {feed.id} could not drop its files",
    )


def advance_source(feed: FeedSpec, logical: datetime, env: dict[str, str]) -> None:
    """Have the agency's database change up to the end of the window the DAG run will cover."""
    from hub.registry.schedule import last_window

    _, end = last_window(feed.schedule, logical)
    _simulate(
        ["source", feed.id, "--at", end.isoformat()],
        {**os.environ, **env},
        f"the source database of {feed.id} could not be updated",
    )


def _simulate(args: list[str], env: dict[str, str], failure: str) -> None:
    """Run one ``python -m simulators`` command; a failure is a ServiceError with its output."""
    proc = subprocess.run(
        [sys.executable, "-m", "simulators", *args],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise ServiceError(f"{failure}: {proc.stderr[-500:]}")


def summary(settings: HubSettings, feed_ids: list[str]) -> str:
    """Each feed's latest run as a table: what landed, was quarantined, published and released."""
    from catalog import entries
    from catalog.models import QualityScore, Release

    lines = [
        f"{'feed':26} {'status':10} {'landed':>8} {'quarant.':>8} {'published':>9} {'in table':>9} "
        f"{'open':>8} {'k':>4} {'quality':>7}  snapshot",
    ]
    for feed_id in feed_ids:
        runs = entries.runs(settings.catalog_url, feed_id)
        run = runs[-1] if runs else None
        versions = entries.versions(settings.catalog_url, feed_id)
        total = versions[-1].total_rows if versions else 0
        if run is None:
            lines.append(f"{feed_id:26} {'no run':10}")
            continue
        opened = [
            r
            for r in entries.listing(settings.catalog_url, Release, feed_id)
            if r.zone == "open" and r.run_id == run.run_id
        ]
        released = (
            f"{opened[-1].rows:>8} {opened[-1].k or '-':>4}" if opened else f"{'-':>8} {'-':>4}"
        )
        scores = entries.listing(settings.catalog_url, QualityScore, feed_id)
        score = f"{scores[-1].score:>7.1f}" if scores else f"{'-':>7}"
        lines.append(
            f"{feed_id:26} {run.status:10} {run.rows_landed or 0:>8} {run.rows_quarantined or 0:>8} "
            f"{run.rows_published or 0:>9} {total:>9} {released} {score}  {run.snapshot_id}"
        )
        if run.error:
            lines.append(f"  error: {run.error}")
    return "\n".join(lines)


def product_summary(settings: HubSettings, product_ids: list[str]) -> str:
    """Each product's latest version: rows and the snapshot, in trusted and open."""
    from catalog import entries

    lines = [f"{'product':26} {'rows':>8}  snapshot"]
    for product_id in product_ids:
        versions = entries.versions(settings.catalog_url, product_id)
        if not versions:
            lines.append(f"{product_id:26} {'not built':>8}")
            continue
        lines.append(f"{product_id:26} {versions[-1].total_rows:>8}  {versions[-1].snapshot_id}")
    return "\n".join(lines)


def run_demo(*, serve: bool, at: datetime | None = None) -> int:
    """Start the lake and the agencies, run every feed's and product's DAG, summarise, serve.

    Args:
        serve: Serve the data map and the Airflow UI until Ctrl-C after the run.
        at: Run as if now were this time (default: now, in the city's time zone).

    Returns:
        The exit code: 1 when a DAG run failed, else 0.
    """
    from hub.orchestration.airflow_env import dags_test_many
    from hub.registry import load_registry
    from hub.services.lake import down, up

    interruptible()
    base_settings = get_settings()
    (base_settings.home_dir / "log").mkdir(parents=True, exist_ok=True)
    settings, started = up(base_settings)
    sim = None
    failures = 0
    try:
        sim, sim_env = start_simulators(settings)
        feeds = load_registry(settings.feeds_dir)
        tz = ZoneInfo(settings.timezone)
        now = (at or datetime.now(tz)).astimezone(tz)
        logical = now.replace(minute=0, second=0, microsecond=0)
        print(f"lake: {settings.s3().endpoint}   catalog: {settings.catalog_url}")
        print(
            f"running {len(feeds)} feed DAG(s) through Airflow for the window ending {logical.isoformat()}"
        )
        for feed in feeds.values():
            if feed.delivery.connector == "file_drop":
                drop_files(settings, feed, logical)
            if feed.delivery.connector == "sql_table":
                advance_source(feed, logical, sim_env)
        from products import load_products

        products = load_products()
        log_file = settings.home_dir / "log" / "dags.log"

        def report(result: dict[str, Any]) -> None:
            nonlocal failures
            name = result["dag_id"].removeprefix("product_")
            if result["dag_id"] == f"product_{next(iter(products))}":
                print(f"building {len(products)} derived product(s) from the trusted tables")
            ok = result["state"] == "success"
            failures += not ok
            print(f"  {name}: {'ok' if ok else f'FAILED (see {log_file})'}", flush=True)

        runs = [(f, logical) for f in feeds] + [(f"product_{p}", logical) for p in products]
        dags_test_many(settings, runs, log_file=log_file, extra_env=sim_env, on_result=report)
        print()
        print(summary(settings, list(feeds)))
        print()
        print(product_summary(settings, list(products)))
        from quality.report import write_report

        index = write_report(
            settings.catalog_url, list(feeds.values()), settings.home_dir / "quality"
        )
        print(
            f"\nquality report (HTML): {index}; per feed: `hub quality show FEED --as LOGIN` (the first account: `hub users add`)"
        )
        props = {"name": settings.catalog_name, **settings.iceberg_properties()}
        props["s3.secret-access-key"] = "<see `hub status --json --show-secrets`>"
        print("\nread the tables with any pyiceberg client:")
        print(f"  SqlCatalog(**{json.dumps(props, ensure_ascii=False)})")
        if serve:
            _serve_airflow(settings, sim_env)
    finally:
        if sim is not None:
            stop_pid(sim.pid, grace_s=3)
        if started.get("seaweedfs"):
            down(base_settings)
    return 1 if failures else 0


def _serve_airflow(settings: HubSettings, sim_env: dict[str, str]) -> None:
    """Airflow standalone on 127.0.0.1 until Ctrl-C (it shuts down cleanly only on SIGINT)."""
    from hub.orchestration.airflow_env import airflow_bin, airflow_env, airflow_home

    port = int(os.environ.get("HUB_AIRFLOW_PORT", "8080"))
    api = {
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
    }
    env = airflow_env(settings, extra={**sim_env, **api})
    print(
        f"\ndata map on http://127.0.0.1:{os.environ.get('HUB_WEB_PORT', '8000')}/ "
        "(catalog API /api/v1/datasets, DCAT-AP 3 /catalog.jsonld)"
    )
    print(
        f"Airflow UI on http://127.0.0.1:{port} (user 'admin', password in "
        f"{airflow_home(settings) / 'simple_auth_manager_passwords.json.generated'}); "
        "Ctrl-C stops everything"
    )
    # Its own process group, with SIGINT at its default even if ours was ignored (a background
    # job of a non-interactive shell): then SIGINT to the group shuts every component down.
    web_port = int(os.environ.get("HUB_WEB_PORT", "8000"))
    portal = subprocess.Popen(
        [str(Path(sys.executable).parent / "hub"), "serve", "--port", str(web_port)],
        env=airflow_env(settings, extra=sim_env),
        start_new_session=True,
    )
    proc = subprocess.Popen(
        [airflow_bin(), "standalone"],
        env=env,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        proc.wait()
    except KeyboardInterrupt:
        print("\nstopping the data map and Airflow...", flush=True)
        _signal_group(proc, signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL)
            proc.wait()
    finally:
        stop_pid(portal.pid, grace_s=5)


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    """Send ``sig`` to the process group ``proc`` leads, if it is still there."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)


def interruptible() -> None:
    """Make Ctrl-C and SIGTERM both raise KeyboardInterrupt here, so cleanup always runs."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
