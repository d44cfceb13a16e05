"""The SQL-table connector on a source database that keeps changing (SQLite and PostgreSQL):
a snapshot first, then only what changed, merged by key, the watermark kept in the catalog."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from catalog import entries
from catalog.models import QualityScore, Run
from hub.cli import app
from hub.core.errors import DeliveryError, TransientDeliveryError
from hub.lake import iceberg
from hub.services.process import free_port
from hub.steps.context import RunContext
from hub.steps.pipeline import run_pipeline
from simulators import startups
from tests.privacy.test_protect_pipeline import leaked
from tests.support.staff import CLI_ENV, acting_as

KST = ZoneInfo("Asia/Seoul")
Q3 = (datetime(2026, 7, 1, tzinfo=KST), datetime(2026, 10, 1, tzinfo=KST))
Q4 = (datetime(2026, 10, 1, tzinfo=KST), datetime(2027, 1, 1, tzinfo=KST))


@pytest.fixture
def source_url(hub_settings, backend, request, monkeypatch) -> str:
    """The agency's database: SQLite beside the lake, or a PostgreSQL database of its own."""
    if backend == "postgres":
        url = request.getfixturevalue("pg_cluster").create_database(f"src{free_port()}")
        url = url.replace("postgresql+psycopg2://", "postgresql://")
    else:
        url = f"sqlite:///{hub_settings.home_dir}/sources/startup_tenants.db"
    monkeypatch.setenv("STARTUP_DB_URL", url)
    return url


def run_quarter(settings, quarter, run_id: str) -> dict:
    return run_pipeline(RunContext.create("startup_tenants", *quarter, run_id, settings=settings))


def published(settings):
    return (
        iceberg.table_catalog(settings).load_table(("trusted", "startup_tenants")).scan().to_arrow()
    )


def test_a_snapshot_then_only_the_changes_are_merged_and_a_rerun_changes_nothing(
    hub_settings, source_url
):
    url = hub_settings.catalog_url
    startups.write_state(source_url, Q3[1])
    first = run_quarter(hub_settings, Q3, "q3")
    at_q3 = startups.state_at(Q3[1])
    assert first["rows_published"] == at_q3.num_rows == published(hub_settings).num_rows
    # the key is the table's identifier in Iceberg too: other engines (Trino) see it
    table = iceberg.table_catalog(hub_settings).load_table(("trusted", "startup_tenants"))
    assert table.schema().identifier_field_names() == {"tenant_id"}
    mark = entries.watermark(url, "startup_tenants")
    assert datetime.fromisoformat(mark) == max(
        datetime.fromisoformat(v) for v in at_q3["updated_at"].to_pylist()
    )

    startups.write_state(source_url, Q4[1])  # the agency's system moves on a quarter
    at_q4 = startups.state_at(Q4[1])
    last = datetime.fromisoformat(mark)
    changed = sum(datetime.fromisoformat(v) > last for v in at_q4["updated_at"].to_pylist())
    second = run_quarter(hub_settings, Q4, "q4")
    assert second["rows_published"] == changed < at_q4.num_rows  # only the delta was read
    rows = published(hub_settings)
    assert rows.num_rows == at_q4.num_rows  # merged by key: no tenant twice
    by_tenant = dict(zip(rows["tenant_id"].to_pylist(), rows["employees"].to_pylist(), strict=True))
    assert by_tenant == dict(
        zip(at_q4["tenant_id"].to_pylist(), at_q4["employees"].to_pylist(), strict=True)
    )
    assert leaked(hub_settings, set(at_q4["biz_reg_no"].to_pylist())) == set()

    again = run_quarter(hub_settings, Q4, "q4-rerun")
    assert again["rows_published"] == 0 and published(hub_settings).num_rows == at_q4.num_rows
    assert entries.watermark(url, "startup_tenants") > mark


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_missing_source_table_fails_with_feed_table_and_cause(hub_settings, source_url):
    path = Path(source_url.removeprefix("sqlite:///"))
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as db:  # the agency's database, without the table
        db.execute("CREATE TABLE other (x INTEGER)")
    with pytest.raises(
        DeliveryError, match=r"feed startup_tenants: .*startup_tenants.*no such table"
    ):
        run_quarter(hub_settings, Q3, "q3")
    assert entries.watermark(hub_settings.catalog_url, "startup_tenants") is None


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_database_that_is_down_is_retried_and_the_retry_after_it_is_back_succeeds(
    hub_settings, source_url, monkeypatch
):
    monkeypatch.setenv("STARTUP_DB_URL", f"postgresql://hub:secret@127.0.0.1:{free_port()}/gone")
    with pytest.raises(
        TransientDeliveryError,
        match=r"feed startup_tenants: postgresql://127.0.0.1:\d+/gone .*cannot connect",
    ) as caught:
        run_quarter(hub_settings, Q3, "q3")
    assert "secret" not in str(caught.value)
    assert entries.listing(hub_settings.catalog_url, Run, "startup_tenants")[-1].status == "failed"
    monkeypatch.setenv("STARTUP_DB_URL", source_url)
    startups.write_state(source_url, Q3[1])
    assert (
        run_quarter(hub_settings, Q3, "q3")["rows_published"] == startups.state_at(Q3[1]).num_rows
    )


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_quarter_without_changes_is_a_healthy_delivery_and_keeps_its_score(
    hub_settings, source_url
):
    startups.write_state(source_url, Q3[1])
    run_quarter(hub_settings, Q3, "q3")
    run_quarter(hub_settings, Q4, "q4")  # the agency's table did not change this quarter
    scores = [
        s
        for s in entries.listing(hub_settings.catalog_url, QualityScore, "startup_tenants")
        if s.kind == "delivery"
    ]
    first, quiet = scores[-2], scores[-1]
    assert json.loads(quiet.detail)["content"]["rows_delivered"] == 0
    assert quiet.timeliness == 1.0 and quiet.score == first.score
    args = ["quality", "freshness", "startup_tenants", "--at", Q4[1].isoformat()]
    fresh = CliRunner(env=CLI_ENV).invoke(app, [*args, *acting_as("operator")])
    assert fresh.exit_code == 0 and "startup_tenants: fresh" in fresh.output, fresh.output
