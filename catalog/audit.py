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

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from catalog.db import ensure_current, session_for, sqlite_lock
from catalog.models import AuditEntry, Base

GENESIS = "0" * 64
ATTEMPTS = 20
#: The PostgreSQL advisory lock that queues appends ("hubaudit" in ASCII): without it, a crowd
#: of web workers each read the same last entry and all but one retry, again and again.
APPEND_LOCK = 0x68756261_75646974
_appending = threading.Lock()  # one append per process at a time; the lock orders processes


def actor() -> str:
    """Who acts: ``HUB_ACTOR`` when set (a service names its caller), else the OS user."""
    return os.environ.get("HUB_ACTOR") or getpass.getuser()


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
) -> AuditEntry:
    """Append one entry after the newest, with ``rows`` (a register's rows the entry speaks
    for) in the same transaction: both are stored or neither. Appends queue on a lock (PostgreSQL's advisory lock,
    a lock file beside an SQLite database), so a crowd of writers never spins on conflicts;
    a writer that appended without the lock is chained onto by retrying."""

    ensure_current(catalog_url)
    body = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str)
    who, origin = who or actor(), origin or socket.gethostname()
    with _appending, sqlite_lock(catalog_url, "audit"):
        return _append(catalog_url, action, target, purpose, body, who, origin, rows)


def _append(
    catalog_url: str,
    action: str,
    target: str,
    purpose: str,
    body: str,
    who: str,
    origin: str,
    rows: Sequence[Base],
) -> AuditEntry:
    for _ in range(ATTEMPTS):
        with session_for(catalog_url) as session:
            if session.get_bind().dialect.name == "postgresql":  # held until commit/rollback
                session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK})
            last = session.scalars(
                select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)
            ).first()
            prev = last.hash if last else GENESIS
            at = datetime.now(UTC)
            if last is not None and at <= last.at:
                at = last.at  # keep time order on clock skew
            entry = AuditEntry(
                at=at,
                actor=who,
                action=action,
                target=target,
                purpose=purpose,
                origin=origin,
                detail=body,
                prev_hash=prev,
                hash=entry_hash(prev, at, who, action, target, purpose, origin, body),
            )
            session.add_all([entry, *rows])
            try:
                session.commit()
                return entry
            except IntegrityError:  # someone appended after ``last``: chain onto theirs
                session.rollback()
    raise RuntimeError(f"audit log: could not append {action} {target} after {ATTEMPTS} tries")


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
