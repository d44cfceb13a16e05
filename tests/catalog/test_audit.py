"""The audit log: every action on data is in it, chained; an edit anywhere is found and named."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import text
from typer.testing import CliRunner

from catalog import audit, people
from catalog.db import engine_for, migrate
from hub.cli import app
from hub.registry.roles import load_roles
from hub.steps.context import RunContext
from hub.steps.pipeline import run_pipeline

PASSWORD = "correct horse battery"
START, END = "2026-11-01T03:00:00+09:00", "2026-11-01T05:00:00+09:00"


def _verify() -> tuple[int, str]:
    result = CliRunner().invoke(app, ["audit", "verify", "--as", "aud"])
    return result.exit_code, result.output


def test_pipeline_actions_are_chained_and_any_edit_is_named(hub_settings, agency_api, monkeypatch):
    run_pipeline(
        RunContext.create("air_quality_hourly", START, END, "run-1", settings=hub_settings)
    )
    with engine_for(hub_settings.catalog_url).connect() as conn:
        rows = conn.execute(text("SELECT id, action, target FROM hub_audit_log ORDER BY id")).all()
    assert [r.action for r in rows] == ["land", "publish", "release", "export"]
    assert rows[1].target == "trusted.air_quality_hourly"
    # the auditor who verifies is a named person (making the account is the fifth entry)
    policy = load_roles(hub_settings.roles_file)
    people.add(
        hub_settings.catalog_url,
        policy,
        login="aud",
        name="Auditor",
        roles=["auditor"],
        by="test",
        password=PASSWORD,
    )
    monkeypatch.setenv("HUB_AS_PASSWORD", PASSWORD)
    code, out = _verify()
    assert code == 0 and "intact: 5 entries" in out

    with engine_for(hub_settings.catalog_url).begin() as conn:  # someone hides a release
        conn.execute(
            text("UPDATE hub_audit_log SET target = 'open.elsewhere' WHERE id = :i"),
            {"i": rows[2].id},
        )
    code, out = _verify()
    assert code == 1 and f"BROKEN at entry {rows[2].id}" in out and "edited" in out

    with engine_for(hub_settings.catalog_url).begin() as conn:  # put back, it verifies again
        conn.execute(
            text("UPDATE hub_audit_log SET target = :t WHERE id = :i"),
            {"t": rows[2].target, "i": rows[2].id},
        )
    assert _verify()[0] == 0
    with engine_for(hub_settings.catalog_url).begin() as conn:  # ... or deletes the landing
        conn.execute(text("DELETE FROM hub_audit_log WHERE id = :i"), {"i": rows[0].id})
    code, out = _verify()
    assert code == 1 and f"BROKEN at entry {rows[1].id}" in out and "does not follow" in out


def test_writers_at_once_still_make_one_chain(hub_settings):
    migrate(hub_settings.catalog_url)

    def write(n: int) -> None:
        audit.record(hub_settings.catalog_url, "export", f"dataset-{n}", purpose="test")

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(write, range(24)))
    count, broken = audit.verify(hub_settings.catalog_url)
    assert (count, broken) == (24, None)
