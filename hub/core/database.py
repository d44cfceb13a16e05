"""One SQLAlchemy engine per database URL per process, shared by the catalog, the lake's table
pointers and the key vault, so a process holds one bounded connection pool per database."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event

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
