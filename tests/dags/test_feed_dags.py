"""The feed DAGs: structure as the Airflow UI shows it, and real runs through Airflow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime

import pytest

from hub.core.settings import PROJECT_ROOT, get_settings
from hub.orchestration.airflow_env import airflow_env, dags_test_many
from hub.registry import load_registry
from products import load_products

FEEDS = load_registry(PROJECT_ROOT / "feeds")
PRODUCTS = load_products()
LOGICAL = datetime.fromisoformat("2026-11-01T05:00:00+09:00")


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(PROJECT_ROOT / "dags"))


def test_one_documented_owned_tagged_dag_per_feed(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == set(FEEDS) | {f"product_{p}" for p in PRODUCTS} | {
        "hub_quality_freshness",
        "hub_maintenance",
        "hub_maintenance_compaction",
        "hub_backup",
    }
    for feed in FEEDS.values():
        dag = dagbag.dags[feed.id]
        assert feed.title.ko in dag.doc_md and feed.department.name.ko in dag.doc_md
        assert set(feed.tags) <= set(dag.tags)
        assert {t.owner for t in dag.tasks} == {feed.department.id}
        assert all(t.retries >= 1 for t in dag.tasks)
        outlets = {t.task_id: [a.name for a in t.outlets] for t in dag.tasks}
        expected = {
            "land": [f"raw.{feed.id}"],
            "validate": [f"quarantine.{feed.id}"],
            "protect": [],
            "publish": [f"trusted.{feed.id}"],
        }
        if feed.access_class == "public":  # only public datasets get an open release
            expected["release"] = [f"open.{feed.id}"]
        expected["cleanup"] = []  # last: stages and identified raw data go once the run succeeded
        assert outlets == expected
        assert dag.get_task("cleanup").trigger_rule == "all_success"
        assert dag.get_task("cleanup").upstream_task_ids == {
            "release" if feed.access_class == "public" else "publish"
        }


def test_the_lake_is_maintained_hourly_and_nightly_for_every_dataset(dagbag):
    for dag_id, cron in (
        ("hub_maintenance_compaction", "40 * * * *"),
        ("hub_maintenance", "30 2 * * *"),
    ):
        dag = dagbag.dags[dag_id]
        assert dag.schedule == cron
        assert "retention" in dag.doc_md and "maintenance" in dag.tags
        assert {t.task_id for t in dag.tasks} == set(FEEDS) | set(PRODUCTS)
        assert all(t.retries >= 1 for t in dag.tasks)


def test_each_product_dag_runs_when_its_inputs_publish(dagbag):
    for product in PRODUCTS.values():
        dag = dagbag.dags[f"product_{product.id}"]
        trusted = {f"{get_settings().bucket('trusted')}.{f}" for f in product.inputs}
        assert {a.name for a in dag.timetable.asset_condition.objects} == trusted
        (build,) = dag.tasks
        assert {a.name for a in build.outlets} == {
            f"{get_settings().bucket(z)}.{product.id}" for z in ("trusted", "open")
        }
        for feed_id in product.inputs:  # the feed's publish task is what triggers it
            publish = dagbag.dags[feed_id].get_task("publish")
            assert f"{get_settings().bucket('trusted')}.{feed_id}" in {
                a.name for a in publish.outlets
            }


def test_task_retries_are_the_deployments_setting():
    """An operator sets how tasks retry (HUB_TASK_RETRIES, HUB_TASK_RETRY_DELAY_S) for feed and
    product DAGs alike, without editing a DAG file."""
    code = (
        "import json, sys; from airflow.dag_processing.dagbag import DagBag;"
        "bag = DagBag(dag_folder=sys.argv[1]);"
        "print(json.dumps({i: [(t.retries, t.retry_delay.total_seconds(),"
        " t.retry_exponential_backoff) for t in d.tasks] for i, d in bag.dags.items()}))"
    )
    env = {**os.environ, "HUB_TASK_RETRIES": "4", "HUB_TASK_RETRY_DELAY_S": "7.5"}
    out = subprocess.run(
        [sys.executable, "-c", code, str(PROJECT_ROOT / "dags")],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    found = json.loads(out.stdout.strip().splitlines()[-1])
    governed = [*FEEDS, *(f"product_{p}" for p in PRODUCTS)]
    assert {tuple(t) for dag_id in governed for t in found[dag_id]} == {(4, 7.5, True)}


@pytest.mark.parametrize("dag_file", ["hub_feeds.py", "hub_products.py", "hub_quality.py"])
def test_dag_files_import_nothing_heavy(dag_file):
    code = (
        "import sys, runpy; import airflow.sdk; before = set(sys.modules);"
        "runpy.run_path(sys.argv[1]);"
        "heavy = ('pyiceberg', 'pyarrow', 'great_expectations', 'httpx', 'minio', 'sqlalchemy');"
        "print(sorted(m for m in set(sys.modules) - before if m.split('.')[0] in heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(PROJECT_ROOT / "dags" / dag_file)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "[]"


def _read_with_plain_pyiceberg(settings, feed_id: str = "air_quality_hourly") -> int:
    """Read the table knowing only `hub status --json`, as an outside client would."""
    status = subprocess.run(
        [str(PROJECT_ROOT / ".venv" / "bin" / "hub"), "status", "--json", "--show-secrets"],
        capture_output=True,
        text=True,
        check=True,
        env=airflow_env(settings),
    )
    script = (
        "import json, sys\n"
        "from pyiceberg.catalog.sql import SqlCatalog\n"
        "props = json.loads(sys.stdin.read())['iceberg']\n"
        "catalog = SqlCatalog(props.pop('name'), **props)\n"
        "print(catalog.load_table(sys.argv[1]).scan().to_arrow().num_rows)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, f"trusted.{feed_id}"],
        input=status.stdout,
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
    )
    return int(out.stdout.strip())


@pytest.mark.parametrize("backend", ["postgres"], indirect=False)
def test_air_quality_dag_runs_through_airflow_on_postgres_too(hub_settings, agency_api, tmp_path):
    (run,) = dags_test_many(
        hub_settings, [("air_quality_hourly", LOGICAL)], log_file=tmp_path / "dags.log"
    )
    assert run["state"] == "success", (tmp_path / "dags.log").read_text()[-3000:]
    assert _read_with_plain_pyiceberg(hub_settings) == 40


@pytest.mark.parametrize("backend", ["sqlite"], indirect=False)
def test_agency_error_fails_the_dag_run_with_the_cause_and_publishes_nothing(
    hub_settings, agency_api, tmp_path
):
    agency_api.state.service_key = "rotated-by-the-agency"
    log = tmp_path / "bad.log"
    (run,) = dags_test_many(hub_settings, [("air_quality_hourly", LOGICAL)], log_file=log)
    text = log.read_text()
    assert run["state"] == "failed" and "state=failed" in text
    assert "feed air_quality_hourly" in text and "SERVICE_KEY_IS_NOT_REGISTERED_ERROR" in text
    from hub.lake import iceberg

    assert not iceberg.table_catalog(hub_settings).table_exists(("trusted", "air_quality_hourly"))


@pytest.mark.stack  # minutes of Airflow runs: `make test-stack` runs it, not `make test`
@pytest.mark.parametrize("backend", ["sqlite"], indirect=False)
def test_every_feed_dag_reruns_with_row_counts_unchanged(
    hub_settings, agency_api, tmp_path, monkeypatch
):
    """Every feed's DAG, twice for the same logical date, through Airflow: the second run of
    each finds what the first published and leaves every table's row count as it was."""
    from hub.lake.objectstore import ObjectStore
    from hub.registry.schedule import last_window
    from simulators import drops
    from simulators.sources import SOURCES

    extra = {}
    for feed_id, feed in FEEDS.items():
        start, end = last_window(feed.schedule, LOGICAL)
        for key, data in drops.DROPS.get(feed_id, lambda *_: {})(start, 7).items():
            ObjectStore(hub_settings).put("inbox", key, data)
        if feed_id in SOURCES:  # the agency's database, as of the window's end
            variable, write = SOURCES[feed_id]
            extra[variable] = f"sqlite:///{tmp_path}/{feed_id}.db"
            write(extra[variable], end)
    runs = [(feed_id, LOGICAL) for feed_id in sorted(FEEDS)]
    counts = []
    for attempt in ("first", "second"):
        log = tmp_path / f"{attempt}.log"
        results = dags_test_many(hub_settings, runs, log_file=log, extra_env=extra)
        failed = [r for r in results if r["state"] != "success"]
        assert not failed, (failed, log.read_text()[-3000:])
        counts.append({f: _read_with_plain_pyiceberg(hub_settings, f) for f in sorted(FEEDS)})
    assert counts[0] == counts[1]
    assert all(n > 0 for n in counts[0].values()), counts[0]
    assert counts[0]["air_quality_hourly"] == 40
