"""Partner agencies, their API keys and grants, and the decision whether a request is served.

Keys are shown once and kept as SHA-256 only; they expire and can be revoked. A grant gives
one partner one dataset for a purpose, under a legal basis, for some columns, until a date.
Public datasets need no grant; restricted ones need a valid grant for the purpose asked;
non-public ones are never served.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from catalog.db import ensure_current, session_for
from catalog.models import ApiKey, ApiUsage, Grant, Partner

KEY_PREFIX = "hubk_"


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def add_partner(url: str, partner_id: str, name: str, contact: str | None = None) -> Partner:
    ensure_current(url)
    with session_for(url) as session, session.begin():
        if session.get(Partner, partner_id) is not None:
            raise ValueError(f"partner {partner_id!r} exists already")
        row = Partner(id=partner_id, name=name, contact=contact, created_at=datetime.now(UTC))
        session.add(row)
    return row


def issue_key(
    url: str,
    partner_id: str,
    valid_for: timedelta = timedelta(days=365),
    *,
    per_minute: int = 120,
    per_day: int = 20_000,
) -> str:
    """A new key for the partner; the only time its plain text exists outside the caller."""
    ensure_current(url)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with session_for(url) as session, session.begin():
        if session.get(Partner, partner_id) is None:
            raise ValueError(f"no partner {partner_id!r}")
        session.add(
            ApiKey(
                partner_id=partner_id,
                prefix=key[:12],
                key_hash=key_hash(key),
                created_at=now,
                expires_at=now + valid_for,
                per_minute=per_minute,
                per_day=per_day,
            )
        )
    return key


def revoke_key(url: str, prefix: str) -> int:
    with session_for(url) as session, session.begin():
        rows = list(session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)))
        for row in rows:
            row.revoked_at = datetime.now(UTC)
        return len(rows)


def add_grant(url: str, partner_id: str, dataset_id: str, **terms: Any) -> Grant:
    """A grant in a transaction of its own (the terms are ``new_grant``'s)."""
    ensure_current(url)
    with session_for(url) as session, session.begin():
        return new_grant(session, partner_id, dataset_id, **terms)


def new_grant(
    session: Session,
    partner_id: str,
    dataset_id: str,
    *,
    purpose: str,
    legal_basis: str,
    columns: list[str],
    valid_until: datetime,
) -> Grant:
    """A grant added in the caller's transaction (an approval and its grant commit together)."""
    if session.get(Partner, partner_id) is None:
        raise ValueError(f"no partner {partner_id!r}")
    row = Grant(
        partner_id=partner_id,
        dataset_id=dataset_id,
        purpose=purpose,
        legal_basis=legal_basis,
        columns=json.dumps(sorted(columns)),
        valid_until=valid_until,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    session.flush()  # its id, for the decision that refers to it
    return row


def revoke_grant(url: str, grant_id: int) -> None:
    with session_for(url) as session, session.begin():
        row = session.get(Grant, grant_id)
        if row is None:
            raise ValueError(f"no grant {grant_id}")
        row.revoked_at = datetime.now(UTC)


@dataclass
class Decision:
    """Whether a request is served, and if so which columns, for which purpose and basis."""

    allowed: bool
    status: int  # the HTTP status to answer with
    reason: str
    partner_id: str | None = None
    key_prefix: str | None = None
    columns: list[str] = field(default_factory=list)
    purpose: str = ""
    legal_basis: str = ""
    zone: str = "open"
    retry_after: int | None = None


def _spend(url: str, key: ApiKey, now: datetime) -> int | None:
    """Count one request against the key's minute and day; seconds to wait when over."""
    now = now.astimezone(UTC)
    periods = [
        (f"m:{now:%Y-%m-%dT%H:%M}", key.per_minute, 60 - now.second),
        (
            f"d:{now:%Y-%m-%d}",
            key.per_day,
            86400 - (now.hour * 3600 + now.minute * 60 + now.second),
        ),
    ]
    for period, _limit, _ in periods:
        for _attempt in range(5):
            with session_for(url) as session, session.begin():
                updated = session.execute(
                    update(ApiUsage)
                    .where(ApiUsage.key_hash == key.key_hash, ApiUsage.period == period)
                    .values(count=ApiUsage.count + 1)
                ).rowcount
                if updated:
                    break
                try:
                    with session.begin_nested():
                        session.add(ApiUsage(key_hash=key.key_hash, period=period, count=1))
                    break
                except IntegrityError:  # another process created the row first: count again
                    continue
    with session_for(url) as session:
        counts = dict(
            session.execute(
                select(ApiUsage.period, ApiUsage.count).where(
                    ApiUsage.key_hash == key.key_hash,
                    ApiUsage.period.in_([p for p, _, _ in periods]),
                )
            ).all()
        )
    for period, limit, wait in periods:
        if counts.get(period, 0) > limit:
            return max(1, wait)
    return None


def authorize(
    url: str,
    *,
    key: str | None,
    dataset_id: str,
    access_class: str,
    available: list[str],
    open_columns: list[str],
    purpose: str | None,
    columns: list[str] | None,
    now: datetime | None = None,
) -> Decision:
    """Decide one request for a dataset's records.

    ``available`` are the dataset's trusted columns, ``open_columns`` those of its open release.
    """
    ensure_current(url)
    now = now or datetime.now(UTC)
    partner = prefix = None
    if key:
        with session_for(url) as session:
            row = session.scalars(select(ApiKey).where(ApiKey.key_hash == key_hash(key))).first()
        if row is None:
            return Decision(False, 401, "unknown API key")
        prefix = row.prefix
        if row.revoked_at is not None:
            return Decision(False, 401, "the API key was revoked", row.partner_id, prefix)
        if row.expires_at <= now:
            return Decision(False, 401, "the API key has expired", row.partner_id, prefix)
        partner = row.partner_id
        wait = _spend(url, row, now)
        if wait is not None:
            return Decision(
                False,
                429,
                f"quota of key {prefix} used up; retry in {wait} s",
                partner,
                prefix,
                retry_after=wait,
            )
    if access_class == "non-public":
        return Decision(
            False, 403, f"{dataset_id} is not served to anyone (non-public)", partner, prefix
        )
    if access_class == "public":
        wanted = columns or open_columns
        outside = sorted(set(wanted) - set(open_columns))
        if outside:
            return Decision(
                False, 400, f"no such open column(s): {', '.join(outside)}", partner, prefix
            )
        return Decision(
            True,
            200,
            "public dataset",
            partner,
            prefix,
            wanted,
            purpose or "open data",
            "KOGL open licence",
            "open",
        )
    if partner is None:
        return Decision(False, 401, f"{dataset_id} is restricted: an API key is required")
    if not purpose:
        return Decision(
            False,
            403,
            "a restricted dataset is served for a stated purpose (?purpose=...)",
            partner,
            prefix,
        )
    with session_for(url) as session:
        grants = list(
            session.scalars(
                select(Grant).where(Grant.partner_id == partner, Grant.dataset_id == dataset_id)
            )
        )
    if not grants:
        return Decision(
            False, 403, f"partner {partner} has no grant for {dataset_id}", partner, prefix
        )
    for_purpose = [g for g in grants if g.purpose == purpose]
    if not for_purpose:
        return Decision(
            False,
            403,
            f"partner {partner}'s grants for {dataset_id} do not cover the purpose {purpose!r}",
            partner,
            prefix,
        )
    live = [g for g in for_purpose if g.revoked_at is None and g.valid_until > now]
    if not live:
        state = "revoked" if all(g.revoked_at for g in for_purpose) else "expired"
        return Decision(
            False, 403, f"partner {partner}'s grant for {dataset_id} is {state}", partner, prefix
        )
    grant = live[0]
    granted = json.loads(grant.columns)
    wanted = columns or [c for c in available if c in granted]
    outside = sorted(set(wanted) - set(granted))
    if outside:
        return Decision(
            False, 403, f"column(s) outside the grant: {', '.join(outside)}", partner, prefix
        )
    return Decision(
        True,
        200,
        f"grant {grant.id}",
        partner,
        prefix,
        wanted,
        purpose,
        grant.legal_basis,
        "trusted",
    )
