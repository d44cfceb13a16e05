"""The catalog schema migrates the same way on SQLite and PostgreSQL, and twice is harmless."""

from __future__ import annotations

from sqlalchemy import inspect

from catalog import engine_for, migrate


def test_migrations_create_the_catalog_tables_and_rerun_cleanly(hub_settings):
    url = hub_settings.catalog_url
    migrate(url)
    migrate(url)
    tables = set(inspect(engine_for(url)).get_table_names())
    assert {"hub_datasets", "hub_dataset_versions", "hub_runs", "hub_alembic_version"} <= tables
