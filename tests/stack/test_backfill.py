"""A day of the city through the production topology, driven as the Airflow UI drives it.

Through the api-server's REST API only: every feed DAG (and product DAG) is unpaused, then a
backfill of the 24 hourly windows of ``air_quality_hourly`` and of the same day's window of two
daily file-drop feeds runs through the scheduler and the two Celery workers. Checked as a user
would notice: every run succeeded, every window's valid rows are in the trusted table exactly
once, the derived products ran from Asset events, and both workers took tasks.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from minio.error import S3Error

from hub.core.settings import PROJECT_ROOT
from hub.lake.objectstore import ObjectStore
from hub.registry import load_registry
from products import load_products
from simulators import drops
from tests.stack import airflow_api as af

pytestmark = [pytest.mark.stack, pytest.mark.timeout(50 * 60)]

KST = ZoneInfo("Asia/Seoul")
DAY = datetime(2026, 11, 1, tzinfo=KST)
HOURS = [DAY + timedelta(hours=h) for h in range(24)]
#: the two daily feeds whose window is the same day (delivered as files into the inbox)
DAILY = ("bike_trips", "pm_composition")
FEEDS = load_registry(PROJECT_ROOT / "feeds")
PRODUCTS = load_products()
#: the products whose inputs this test publishes: air_quality_by_gu also reads
#: iot_air_sensors, which, unpaused, publishes its latest 10-minute window on its schedule
EXPECTED_PRODUCTS = {"product_air_quality_by_gu", "product_bike_demand"}


def _trusted(stack, feed_id: str):
    from hub.lake import iceberg

    catalog = iceberg.table_catalog(stack.hub_settings())
    return catalog.load_table(("trusted", feed_id)).scan().to_arrow()


@pytest.fixture(scope="module")
def backfilled(stack):
    """Drop the day's files, unpause, backfill; wait until every backfill run has finished."""
    inbox = ObjectStore(stack.hub_settings("INBOX"))  # an agency's own identity: inbox only
    for feed_id in DAILY:
        for key, data in drops.DROPS[feed_id](DAY, 7).items():
            inbox.put("inbox", key, data)

    with stack.client() as api:
        for dag_id in [*FEEDS, *(f"product_{p}" for p in PRODUCTS)]:
            af.unpause(api, dag_id)
        backfills = [
            af.backfill(api, "air_quality_hourly", HOURS[0], HOURS[-1], max_active_runs=3),
            *(af.backfill(api, f, DAY, DAY, max_active_runs=1) for f in DAILY),
        ]

        expected = {"air_quality_hourly": HOURS, **{f: [DAY] for f in DAILY}}

        def finished():
            runs = {d: _backfill_runs(api, d, dates) for d, dates in expected.items()}
            pending = [
                (d, r["logical_date"], r["state"])
                for d, rs in runs.items()
                for r in rs
                if r["state"] not in af.TERMINAL
            ]
            created = all(len(runs[d]) >= len(dates) for d, dates in expected.items())
            return runs if created and not pending else None

        runs = af.wait_for(finished, timeout_s=40 * 60, every_s=15, what="the backfills' runs")
    return backfills, runs


def _backfill_runs(api, dag_id, dates):
    """The feed's backfill runs for those logical dates."""
    return [
        r
        for r in af.dag_runs(api, dag_id)
        if r["run_type"] == "backfill" and datetime.fromisoformat(r["logical_date"]) in dates
    ]


def test_every_backfill_run_succeeded(backfilled):
    _, runs = backfilled
    assert len(runs["air_quality_hourly"]) == 24
    assert (
        sorted(datetime.fromisoformat(r["logical_date"]) for r in runs["air_quality_hourly"])
        == HOURS
    )
    for feed_id in DAILY:
        assert [datetime.fromisoformat(r["logical_date"]) for r in runs[feed_id]] == [DAY]
    failed = {d: [r["dag_run_id"] for r in rs if r["state"] != "success"] for d, rs in runs.items()}
    assert not any(failed.values()), failed
    assert {r["run_type"] for rs in runs.values() for r in rs} == {"backfill"}


def test_every_window_is_in_the_trusted_table_exactly_once(stack, backfilled):
    """The rows each run's validate step passed are in trusted once: none lost, none doubled."""
    _, runs = backfilled
    with stack.client() as api:
        valid = {
            feed_id: {
                datetime.fromisoformat(r["logical_date"]): af.xcom(
                    api, feed_id, r["dag_run_id"], "validate"
                )["rows_valid"]
                for r in feed_runs
            }
            for feed_id, feed_runs in runs.items()
        }
    table = _trusted(stack, "air_quality_hourly")
    for hour in HOURS:
        at = pa.scalar(hour, type=table["measured_at"].type)
        rows = table.filter(pc.equal(table["measured_at"], at))
        keys = Counter(
            zip(rows["station_id"].to_pylist(), rows["measured_at"].to_pylist(), strict=True)
        )
        assert sum(keys.values()) == valid["air_quality_hourly"][hour] >= 36, hour
        assert max(keys.values()) == 1, (hour, keys.most_common(2))

    bike = _trusted(stack, "bike_trips")
    trips = Counter(bike["trip_id"].to_pylist())
    assert bike.num_rows == valid["bike_trips"][DAY] > 0
    assert max(trips.values()) == 1
    pm = _trusted(stack, "pm_composition")
    sites = Counter(zip(pm["site_id"].to_pylist(), pm["measured_on"].to_pylist(), strict=True))
    assert pm.num_rows == valid["pm_composition"][DAY] > 0
    assert max(sites.values()) == 1


def test_the_products_ran_from_asset_events(stack, backfilled):
    """Each product whose inputs published ran, only ever asset-triggered, and published."""

    def settled():
        with stack.client() as api:
            runs = {p: af.dag_runs(api, p) for p in (f"product_{i}" for i in PRODUCTS)}
        done = all(
            runs[p] and all(r["state"] in af.TERMINAL for r in runs[p]) for p in EXPECTED_PRODUCTS
        )
        return runs if done else None

    runs = af.wait_for(settled, timeout_s=10 * 60, every_s=10, what="the product runs")
    for dag_id, product_runs in runs.items():
        assert {r["run_type"] for r in product_runs} <= {"asset_triggered"}, (dag_id, product_runs)
    with stack.client() as api:
        for dag_id in EXPECTED_PRODUCTS:
            assert [r["state"] for r in runs[dag_id]].count("success") >= 1, runs[dag_id]
            inputs = PRODUCTS[dag_id.removeprefix("product_")].inputs
            for run in runs[dag_id]:  # what set it off: its inputs' publish tasks
                events = af.upstream_asset_events(api, dag_id, run["dag_run_id"])
                sources = {(e["source_dag_id"], e["source_task_id"]) for e in events}
                assert sources and sources <= {(f, "publish") for f in inputs}, (run, events)
            assert _trusted(stack, dag_id.removeprefix("product_")).num_rows > 0


def test_both_workers_ran_tasks(stack, backfilled):
    per_worker = {}
    for name in ("worker1", "worker2"):
        log = stack.process(name).log.read_text(errors="replace")
        per_worker[name] = len(re.findall(r"Executing workload in Celery: .*dag_id='", log))
    assert all(n > 0 for n in per_worker.values()), per_worker
    # 24 + 2 feed runs of 5-6 tasks each went through the two of them (plus scheduled runs)
    assert sum(per_worker.values()) >= 24 * 6 + 2 * 5, per_worker


def _run_now(api, dag_id: str) -> str:
    """The UI's "Trigger" of an upkeep DAG; its run id."""
    answer = api.post(
        f"/dags/{dag_id}/dagRuns", json={"logical_date": datetime.now(KST).isoformat()}
    )
    assert answer.status_code in (200, 201), answer.text
    return answer.json()["dag_run_id"]


def test_the_upkeep_dags_run_on_the_workers_and_back_up_apart_from_the_lake(stack, backfilled):
    """After the day's windows: the nightly maintenance keeps every row of the hourly table
    while it gathers its files, and the backup lands in the backups bucket, which the pipeline
    can read and the web app cannot."""
    before = _trusted(stack, "air_quality_hourly").num_rows
    with stack.client() as api:
        for dag_id in ("hub_maintenance", "hub_backup"):
            af.unpause(api, dag_id)
        run_ids = {d: _run_now(api, d) for d in ("hub_maintenance", "hub_backup")}

        def finished():
            runs = {
                d: [r for r in af.dag_runs(api, d) if r["dag_run_id"] == i]
                for d, i in run_ids.items()
            }
            states = {d: rs[0]["state"] for d, rs in runs.items() if rs}
            done = len(states) == 2 and all(s in af.TERMINAL for s in states.values())
            return states if done else None

        states = af.wait_for(finished, timeout_s=15 * 60, every_s=10, what="the upkeep runs")
    assert states == {"hub_maintenance": "success", "hub_backup": "success"}, states

    assert _trusted(stack, "air_quality_hourly").num_rows == before
    bucket = f"{stack.env_of('worker1')['HUB_BUCKET_PREFIX']}backups"
    writer = ObjectStore(stack.hub_settings("WRITER")).client
    names = [o.object_name for o in writer.list_objects(bucket, prefix="hub/", recursive=True)]
    assert any(n.endswith("manifest.json") for n in names), names
    web = ObjectStore(stack.hub_settings("WEB")).client
    with pytest.raises(S3Error):
        list(web.list_objects(bucket, prefix="hub/", recursive=True))
