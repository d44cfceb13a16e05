"""Engines, sessions and migrations for the catalog database."""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from hub.core.database import engine_for, serialized

MIGRATIONS = Path(__file__).parent / "migrations"


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


def move(
    session: Session, model: Any, key: int, *, when: dict[str, Any], to: dict[str, Any]
) -> bool:
    """Change row ``key`` from the state ``when`` describes to ``to``, in the session's
    transaction, unless another process changed it first (a compare-and-set: two people
    deciding the same request at once cannot both win). True when this call moved it."""
    guards = [getattr(model, column) == value for column, value in when.items()]
    moved = session.execute(update(model).where(model.id == key, *guards).values(**to))
    return moved.rowcount == 1
