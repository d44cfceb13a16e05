"""Engines, sessions and migrations for the catalog database."""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session, sessionmaker

from hub.core.database import engine_for

MIGRATIONS = Path(__file__).parent / "migrations"
#: The PostgreSQL advisory-lock key that serializes migrations ("hubcatal" in ASCII).
MIGRATION_LOCK = 0x68756263_6174616C


@cache
def _sessions(url: str) -> sessionmaker[Session]:
    return sessionmaker(engine_for(url), expire_on_commit=False)


def session_for(url: str) -> Session:
    """A new session on the process's engine for ``url`` (its factory is made once: building
    one per call costs more than a short query)."""
    return _sessions(url)()


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
    """Bring the catalog schema to the newest Alembic revision, once, however many race.

    Workers started together against an empty database would each create the tables; the
    first one to take the lock migrates, the others then find the schema at head.
    """
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with serialized(url, "migrate") as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")
    _current.add(url)


#: PostgreSQL advisory-lock keys by purpose (ASCII of a name; one key space per database).
LOCKS = {
    "migrate": MIGRATION_LOCK,
    "audit": 0x68756261_75646974,  # "hubaudit"
    "vault-tables": 0x68757661_756C7474,  # "huvaultt"
}


@contextmanager
def serialized(url: str, purpose: str) -> Iterator[Connection]:
    """A transaction that no other process runs for the same ``purpose`` at the same time:
    PostgreSQL's advisory lock (held until the transaction ends), a lock file for SQLite. For
    what workers started together would otherwise race on (creating tables, chaining the
    audit log)."""
    with sqlite_lock(url, purpose), engine_for(url).begin() as connection:
        hold(connection, purpose)
        yield connection


def hold(connection: Connection | Session, purpose: str) -> None:
    """Take ``purpose``'s PostgreSQL advisory lock until the current transaction ends (SQLite:
    nothing; wrap the work in ``sqlite_lock``)."""
    bind = connection if isinstance(connection, Connection) else connection.get_bind()
    if bind.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCKS[purpose]})


@contextmanager
def sqlite_lock(url: str, purpose: str) -> Iterator[None]:
    """SQLite has no advisory lock: a lock file beside the database serves the same purpose
    between processes (on other databases this does nothing; they take advisory locks)."""
    if not url.startswith("sqlite"):
        yield
        return
    path = Path(url.split("///", 1)[1] + f".{purpose}.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
