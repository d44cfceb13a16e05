"""One SQLAlchemy engine per database URL per process, shared by the catalog, the lake's table
pointers and the key vault, so a process holds one bounded connection pool per database."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session

#: Connections a process keeps open to PostgreSQL, and how many more it may open at a peak.
#: A web worker's thread pool (40) queues on these instead of opening and closing overflow
#: connections per request; 2 web workers x 20 stay well inside PostgreSQL's 100.
POOL_SIZE = 10
POOL_OVERFLOW = 10


@cache
def engine_for(url: str) -> Engine:
    """The process's engine for ``url``: SQLite in WAL mode, or a pre-pinged pool (a restarted
    PostgreSQL costs one failed ping, not a failed request)."""
    if url.startswith("sqlite"):
        Path(url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(
            dbapi_conn: Any, _record: Any
        ) -> None:  # WAL lets readers run beside the one writer
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)


#: PostgreSQL advisory-lock keys by purpose (ASCII of a name; one key space per database).
LOCKS = {
    "migrate": 0x68756263_6174616C,  # "hubcatal"
    "audit": 0x68756261_75646974,  # "hubaudit"
    "vault-tables": 0x68757661_756C7474,  # "huvaultt"
    "iceberg-tables": 0x69636562_65726774,  # "icebergt"
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
