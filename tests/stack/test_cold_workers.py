"""Two Celery workers started cold at the same moment against an empty catalog database both
come up and run the feed's tasks: the first tasks on each migrate the catalog at once, and
the migration's advisory lock (catalog/db.py) lets exactly one of them do it."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.stack import airflow_api as af
from tests.stack.conftest import WORKERS, start_airflow_worker, worker_ready

pytestmark = [pytest.mark.stack, pytest.mark.timeout(25 * 60)]

KST = ZoneInfo("Asia/Seoul")
#: two hours no other test runs, so both runs land at once (max_active_runs=2)
HOURS = [datetime(2026, 11, 2, tzinfo=KST) + timedelta(hours=h) for h in range(2)]
COLD = ("cold1", "cold2")


@pytest.fixture(scope="module")
def cold(stack):
    """Stop the session's workers, start two on an empty catalog together, backfill two hours."""
    for name in WORKERS:  # only the cold workers may take these runs' tasks
        stack.process(name).stop(grace_s=30)
    stack.psql("CREATE DATABASE hub_cold OWNER hub")
    stack.psql("REVOKE ALL ON DATABASE hub_cold FROM PUBLIC")
    url = stack.env_of("worker1")["HUB_DATABASE_URL"]
    cold_url = re.sub(r"/hub$", "/hub_cold", url)
    assert cold_url != url
    env = {"HUB_DATABASE_URL": cold_url, "AIRFLOW__CELERY__WORKER_CONCURRENCY": "1"}
    workers = [start_airflow_worker(stack.topo, name, env) for name in COLD]
    for worker in workers:
        worker.wait_for(lambda w=worker: worker_ready(w), timeout_s=180, what="ready")

    with stack.client() as api:
        af.unpause(api, "air_quality_hourly")
        af.backfill(api, "air_quality_hourly", HOURS[0], HOURS[-1], max_active_runs=2)

        def finished():
            runs = [
                r
                for r in af.dag_runs(api, "air_quality_hourly")
                if r["run_type"] == "backfill"
                and datetime.fromisoformat(r["logical_date"]) in HOURS
            ]
            done = len(runs) == 2 and all(r["state"] in af.TERMINAL for r in runs)
            return runs if done else None

        runs = af.wait_for(finished, timeout_s=15 * 60, every_s=10, what="the cold runs")
        tis = {r["dag_run_id"]: af.task_instances(api, r["dag_id"], r["dag_run_id"]) for r in runs}
    return runs, workers, tis


def test_two_workers_started_together_on_an_empty_catalog_both_run_tasks(stack, cold):
    runs, workers, _ = cold
    assert [r["state"] for r in runs] == ["success", "success"], runs
    for worker in workers:
        assert worker.alive(), worker.tail()
        log = worker.log.read_text(errors="replace")
        ran = re.findall(r"Executing workload in Celery: .*dag_id='air_quality_hourly'", log)
        assert ran, f"{worker.name} ran no task\n{worker.tail()}"
    # migrated once, to one head, by whichever task took the lock first
    versions = stack.psql("SELECT version_num FROM hub_alembic_version", database="hub_cold")
    assert len(versions.split()) == 1, versions


def test_no_first_attempt_fails_on_an_empty_catalog(cold):
    _, _, tis = cold
    retried = {
        (run_id, ti["task_id"]): ti["try_number"]
        for run_id, run_tis in tis.items()
        for ti in run_tis
        if ti["try_number"] > 1
    }
    assert not retried
