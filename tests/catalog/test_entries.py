"""The catalog's entries stay whole when tasks on several workers write the same row at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from catalog import entries
from catalog.db import ensure_current, session_for
from catalog.models import Dataset, Run
from hub.core.delivery import Window
from hub.registry import load_registry

WRITERS = 8


def _at_once(work) -> list[BaseException]:
    """Run ``work`` on WRITERS threads released together; the exceptions they raised."""
    start = threading.Barrier(WRITERS)

    def one(i: int) -> None:
        start.wait()
        work(i)

    with ThreadPoolExecutor(WRITERS) as pool:
        futures = [pool.submit(one, i) for i in range(WRITERS)]
    return [f.exception() for f in futures if f.exception() is not None]


def test_first_land_tasks_racing_on_an_empty_catalog_all_succeed(hub_settings):
    url = hub_settings.catalog_url
    ensure_current(url)
    feed = load_registry(hub_settings.feeds_dir)["air_quality_hourly"]
    start = datetime(2026, 11, 1, 3, tzinfo=ZoneInfo("Asia/Seoul"))
    window = Window(start, start + timedelta(hours=1))

    assert _at_once(lambda i: entries.upsert_dataset(url, feed, "trusted.air_quality_hourly")) == []
    assert (
        _at_once(lambda i: entries.update_run(url, feed.id, "run-1", window, rows_landed=40)) == []
    )

    with session_for(url) as session:
        assert session.scalar(select(func.count()).select_from(Dataset)) == 1
        (run,) = session.scalars(select(Run)).all()
    assert (run.dataset_id, run.run_id, run.status, run.rows_landed) == (
        feed.id,
        "run-1",
        "running",
        40,
    )
    assert run.window_start == window.start
