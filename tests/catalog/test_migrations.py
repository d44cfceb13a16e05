"""The catalog schema migrates the same way on SQLite and PostgreSQL, and twice is harmless."""

from __future__ import annotations

import subprocess
import sys

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from catalog import engine_for, migrate
from catalog.db import MIGRATIONS


def test_migrations_create_the_catalog_tables_and_rerun_cleanly(hub_settings):
    url = hub_settings.catalog_url
    migrate(url)
    migrate(url)
    tables = set(inspect(engine_for(url)).get_table_names())
    assert {"hub_datasets", "hub_dataset_versions", "hub_runs", "hub_alembic_version"} <= tables


def test_processes_that_start_cold_together_all_migrate_the_empty_catalog(hub_settings):
    """Workers started at once against an empty database must all come up (no migration race)."""
    url = hub_settings.catalog_url
    code = "import sys; from catalog.db import migrate; migrate(sys.argv[1])"
    workers = [
        subprocess.Popen([sys.executable, "-c", code, url], stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    failures = [w.stderr.read()[-400:] for w in workers if w.wait(timeout=120) != 0]
    assert failures == []
    with engine_for(url).connect() as conn:
        (version,) = conn.execute(text("SELECT version_num FROM hub_alembic_version")).one()
    assert version == ScriptDirectory.from_config(_alembic_config()).get_current_head()


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg
