"""Engines, sessions and migrations for the catalog database."""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"


@cache
def engine_for(url: str) -> Engine:
    """One engine per database URL per process."""
    if url.startswith("sqlite"):
        Path(url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # WAL lets readers run beside the one writer
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def session_for(url: str) -> Session:
    return sessionmaker(engine_for(url), expire_on_commit=False)()


_current: set[str] = set()
_migrating = threading.Lock()


def ensure_current(url: str) -> None:
    """Migrate once per process and database: writers call this before their first write."""
    if url in _current:
        return
    with _migrating:  # Alembic is not safe to run from two threads at once
        if url not in _current:
            migrate(url)


def migrate(url: str) -> None:
    """Bring the catalog schema to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine_for(url).begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")
    _current.add(url)
