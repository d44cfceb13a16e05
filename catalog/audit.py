"""Writing and verifying the hash-chained audit log (``hub_audit_log``).

An entry's hash is SHA-256 over the previous entry's hash and the entry's own fields in a
canonical JSON form; the first entry follows ``GENESIS``. Editing, deleting or reordering any
entry breaks the chain at that entry, which :func:`verify` names.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from catalog.db import ensure_current, session_for
from catalog.models import AuditEntry, Base
from hub.core.database import hold, sqlite_lock

GENESIS = "0" * 64
ATTEMPTS = 20
_appending = threading.Lock()  # one appender per process at a time; APPEND_LOCK orders processes


#: The signed-in person a ``hub`` command acts as (hub/cli/acting.py): process-wide, since a
#: command's steps run on threads of their own; the CLI clears it as each command starts.
_acting_person: list[str | None] = [None]


def act_as(login: str | None) -> None:
    """Record what this process does from now on under ``login`` (None: as before)."""
    _acting_person[0] = login


def actor() -> str:
    """Who acts: the person a command signed in as, else ``HUB_ACTOR`` (a service names
    itself), else the OS user."""
    return _acting_person[0] or os.environ.get("HUB_ACTOR") or getpass.getuser()


def entry_hash(
    prev_hash: str,
    at: datetime,
    actor: str,
    action: str,
    target: str,
    purpose: str,
    origin: str,
    detail: str,
) -> str:
    body = json.dumps(
        [
            prev_hash,
            at.astimezone(UTC).isoformat(timespec="microseconds"),
            actor,
            action,
            target,
            purpose,
            origin,
            detail,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass
class _Pending:
    """One entry waiting to be appended, and what became of it."""

    action: str
    target: str
    purpose: str
    body: str
    who: str
    origin: str
    rows: Sequence[Base]
    done: bool = False
    error: BaseException | None = None


_queued: dict[str, list[_Pending]] = {}
_queueing = threading.Lock()


def record(
    catalog_url: str,
    action: str,
    target: str,
    *,
    purpose: str,
    detail: dict[str, Any] | None = None,
    who: str | None = None,
    origin: str | None = None,
    rows: Sequence[Base] = (),
) -> None:
    """Append one entry after the newest, with ``rows`` (a register's rows the entry speaks
    for) in the same transaction: both are stored, or neither, before this returns.

    Appends are group-committed: a writer queues its entry, and whichever writer of the process
    holds the append lock chains every queued entry in one transaction. Between processes they
    queue on PostgreSQL's advisory lock (a lock file beside an SQLite database), so a crowd of
    web workers neither spins on conflicts nor pays one commit per answer.
    """
    ensure_current(catalog_url)
    body = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str)
    pending = _Pending(
        action, target, purpose, body, who or actor(), origin or socket.gethostname(), rows
    )
    with _queueing:
        _queued.setdefault(catalog_url, []).append(pending)
    with _appending:
        if not pending.done and pending.error is None:  # no other writer took it along
            with _queueing:
                batch = _queued.pop(catalog_url, [])
            _append_all(catalog_url, batch)
    if pending.error is not None:
        raise pending.error


def _append_all(catalog_url: str, batch: list[_Pending]) -> None:
    """Append a batch in one transaction; if it fails, each on its own (one bad register row
    must not cost the other writers their answers)."""
    try:
        _append(catalog_url, batch)
    except Exception as exc:
        if len(batch) == 1:
            batch[0].error = exc
            return
        for pending in batch:
            try:
                _append(catalog_url, [pending])
            except Exception as alone:
                pending.error = alone


def _append(catalog_url: str, batch: list[_Pending]) -> None:
    """Chain ``batch`` after the newest entry and insert it with its register rows, in one
    transaction; a batch is written as bulk INSERTs (no unit of work per object)."""
    for _ in range(ATTEMPTS):
        with sqlite_lock(catalog_url, "audit"), session_for(catalog_url) as session:
            hold(session, "audit")  # appends from every process queue here
            last = session.execute(
                select(AuditEntry.hash, AuditEntry.at).order_by(AuditEntry.id.desc()).limit(1)
            ).first()
            prev, newest = (last.hash, last.at) if last is not None else (GENESIS, None)
            entries = []
            for p in batch:
                at = datetime.now(UTC)
                if newest is not None and at <= newest:
                    at = newest  # keep time order on clock skew
                digest = entry_hash(
                    prev, at, p.who, p.action, p.target, p.purpose, p.origin, p.body
                )
                entries.append(
                    {
                        "at": at,
                        "actor": p.who,
                        "action": p.action,
                        "target": p.target,
                        "purpose": p.purpose,
                        "origin": p.origin,
                        "detail": p.body,
                        "prev_hash": prev,
                        "hash": digest,
                    }
                )
                prev, newest = digest, at
            # Core INSERTs (the ORM's bulk path costs more than the database), the entries in
            # chain order: ids follow the chain
            connection = session.connection()
            connection.execute(AuditEntry.__table__.insert(), entries)
            for model, rows in _rows_by_model(batch).items():
                connection.execute(model.__table__.insert(), rows)
            try:
                session.commit()
            except IntegrityError:  # someone appended after ``last``: chain onto theirs
                session.rollback()
                continue
            for p in batch:
                p.done = True
            return
    first = batch[0]
    raise RuntimeError(
        f"audit log: could not append {first.action} {first.target} after {ATTEMPTS} tries"
    )


def _rows_by_model(batch: list[_Pending]) -> dict[type[Base], list[dict[str, Any]]]:
    """The register rows of a batch as their set attributes (unset ones get their column
    defaults), by model."""
    found: dict[type[Base], list[dict[str, Any]]] = {}
    for p in batch:
        for row in p.rows:
            columns = inspect(type(row)).column_attrs.keys()
            state = inspect(row).dict
            found.setdefault(type(row), []).append({k: state[k] for k in columns if k in state})
    return found


@dataclass
class Break:
    entry_id: int
    reason: str


def verify(catalog_url: str) -> tuple[int, Break | None]:
    """Walk the chain: the number of entries, and the first broken one (or None)."""
    prev, count = GENESIS, 0
    with session_for(catalog_url) as session:
        for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id)):
            count += 1
            if entry.prev_hash != prev:
                return count, Break(
                    entry.id,
                    "does not follow the entry before it (one was deleted, inserted or reordered)",
                )
            expected = entry_hash(
                entry.prev_hash,
                entry.at,
                entry.actor,
                entry.action,
                entry.target,
                entry.purpose,
                entry.origin,
                entry.detail,
            )
            if expected != entry.hash:
                return count, Break(entry.id, "its content no longer matches its hash (edited)")
            prev = entry.hash
    return count, None


def entries(
    catalog_url: str,
    *,
    actor: str | None = None,
    action: str | None = None,
    target: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = 100,
    offset: int = 0,
) -> list[AuditEntry]:
    """Entries newest first, narrowed by who, what, on which target and when (the auditor's
    filters; ``target`` matches a dataset id inside ``trusted.<id>`` or ``open.<id>`` too)."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(AuditEntry.action == action)
    if target:
        query = query.where(AuditEntry.target.in_([target, f"trusted.{target}", f"open.{target}"]))
    if since:
        query = query.where(AuditEntry.at >= since)
    if until:
        query = query.where(AuditEntry.at < until)
    query = query.offset(offset).limit(limit) if limit is not None else query.offset(offset)
    with session_for(catalog_url) as session:
        return list(session.scalars(query))
