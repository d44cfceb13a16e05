"""The records API as deployed: ``hub serve --workers 2`` on a real socket, the catalog on SQLite
and PostgreSQL. Each worker keeps one catalog and the tables it read (issue 15); a version
published by another process is served within ``VERSION_CHECK_S``, and a crowd of clients gets
answers, not "too many clients"."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, func, select, text

from catalog import audit
from catalog.db import session_for
from catalog.models import AuditEntry, Provision
from hub.core.database import POOL_OVERFLOW, POOL_SIZE
from hub.services.process import free_port, stop_pid, wait_until
from hub.steps.context import RunContext
from hub.steps.pipeline import run_pipeline
from hub.web.records import VERSION_CHECK_S

FEED = "air_quality_hourly"
WINDOWS = [
    ("2026-11-01T03:00:00+09:00", "2026-11-01T04:00:00+09:00"),
    ("2026-11-01T04:00:00+09:00", "2026-11-01T05:00:00+09:00"),
]
WORKERS = 2
#: What one worker process may hold open to the catalog database: the hub's pool, which table
#: pointers also use, and the Iceberg catalog's (SQLAlchemy's 5 + 10, for metadata commits).
CONNECTIONS_PER_WORKER = POOL_SIZE + POOL_OVERFLOW + 15


def publish(settings, window: int) -> dict:
    start, end = WINDOWS[window]
    return run_pipeline(RunContext.create(FEED, start, end, f"run-{window}", settings=settings))


@pytest.fixture
def server(hub_settings, agency_api, tmp_path: Path):
    """``hub serve`` with two workers over the lake, as a citizen reaches it."""
    publish(hub_settings, 0)
    port = free_port()
    env = {**os.environ, **hub_settings.as_env(), "HUB_WEB_PORT": str(port)}
    env["HUB_WEB_WORKERS"] = str(WORKERS)
    log = (tmp_path / "serve.log").open("wb")
    hub = Path(sys.executable).parent / "hub"
    process = subprocess.Popen([str(hub), "serve"], env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return httpx.get(f"{base}/api/v1/datasets/{FEED}", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        assert wait_until(answers, timeout_s=60), (tmp_path / "serve.log").read_text()
        yield Server(base, tmp_path / "serve.log")
    finally:
        stop_pid(process.pid, grace_s=15)
        process.wait(timeout=30)
        log.close()


@dataclass
class Server:
    base: str
    log: Path

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def records(server: Server, **params: str) -> httpx.Response:
    return httpx.get(f"{server.base}/api/v1/datasets/{FEED}/records", params=params, timeout=30)


@pytest.mark.parametrize("backend", ["postgres"])  # the production topology's catalog
def test_every_worker_serves_a_version_published_by_another_process_within_a_second(
    hub_settings, server
):
    before = [records(server, limit="1000") for _ in range(2 * WORKERS)]
    assert {r.status_code for r in before} == {200}
    (first_version,) = {r.json()["version"] for r in before}
    assert {r.json()["rows"] for r in before} == {40}

    second = publish(hub_settings, 1)  # this test's process is the pipeline's worker
    time.sleep(VERSION_CHECK_S)  # every worker looks the version up again within this

    after = [records(server, limit="1000") for _ in range(4 * WORKERS)]
    assert {r.status_code for r in after} == {200}
    assert {r.json()["version"] for r in after} == {second["release"]["snapshot_id"]}
    assert {r.json()["rows"] for r in after} == {80}
    assert second["release"]["snapshot_id"] != first_version
    # a filter planned before the publish is planned again for the new version
    station = after[0].json()["items"][0]["station_id"]
    filtered = records(server, limit="1000", station_id=station).json()
    assert filtered["rows"] == 2 and {i["station_id"] for i in filtered["items"]} == {station}


@pytest.mark.parametrize("backend", ["postgres"])
def test_64_clients_get_answers_and_the_catalog_connections_stay_bounded(hub_settings, server):
    engine = create_engine(_admin_url(hub_settings))
    database = hub_settings.catalog_url.rsplit("/", 1)[1]
    peak, done = [0], threading.Event()

    def watch() -> None:
        with engine.connect() as conn:
            while not done.is_set():
                count = conn.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE datname = :db"),
                    {"db": database},
                ).scalar_one()
                peak[0] = max(peak[0], count)
                time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(max_workers=64) as pool:
            answers = list(pool.map(lambda i: records(server, limit="100").status_code, range(640)))
    finally:
        done.set()
        watcher.join()
        engine.dispose()
    assert answers.count(200) == len(answers), server.tail()
    # every answer is in the audit log once, chained, with its provision-register row
    entries, broken = audit.verify(hub_settings.catalog_url)
    assert broken is None and entries > len(answers)
    with session_for(hub_settings.catalog_url) as session:
        pulls = session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "api_pull")
        )
        provided = session.scalar(
            select(func.count(Provision.id)).where(Provision.channel == "api")
        )
    assert pulls == provided == len(answers)
    assert 0 < peak[0] <= WORKERS * CONNECTIONS_PER_WORKER + 1  # + the watcher's own


def _admin_url(settings) -> str:
    """The same cluster's maintenance database, to watch the catalog's connections from."""
    return settings.catalog_url.rsplit("/", 1)[0] + "/postgres"
