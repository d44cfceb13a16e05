"""Web sign-ins of the hub's people: server-side, so sign-out and disabling end them at once.

The cookie carries a random token; the catalog keeps its SHA-256 only. A sign-in ends at
sign-out, after ``idle`` without a request, or at ``lifetime``, and with the account. Every
sign-in starts a new token (no fixation). Refused passwords are counted per account and per
address: past ``GUESSES`` in ``GUESS_WINDOW`` the next try waits, and each refusal is audited.
The CSRF token of a form is derived from the sign-in's token, which script cannot read.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update

from catalog import audit, people
from catalog.db import ensure_current, session_for
from catalog.models import FailedSignIn, SignIn

IDLE = timedelta(minutes=30)
LIFETIME = timedelta(hours=12)
GUESSES, GUESS_WINDOW = 5, timedelta(minutes=15)
#: a sign-in's last_seen is written at most this often (not once per request)
TOUCH = timedelta(minutes=1)


class Throttled(people.AccessDenied):
    """Too many refused passwords for an account or an address: wait ``retry_after`` s."""

    def __init__(self, message: str, retry_after: int = 0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(token: str) -> str:
    """The form token of a sign-in: derived from its secret cookie, so a page of another site
    can neither read nor forge it."""
    return hmac.new(token.encode(), b"hub-csrf", hashlib.sha256).hexdigest()


def csrf_ok(token: str | None, sent: str | None) -> bool:
    return bool(token and sent) and hmac.compare_digest(csrf_token(token or ""), sent or "")


def wait_before_try(url: str, login: str, client: str, now: datetime | None = None) -> int:
    """Seconds until ``login`` from ``client`` may try a password again (0: now)."""
    ensure_current(url)
    now = now or datetime.now(UTC)
    since = now - GUESS_WINDOW
    with session_for(url) as session:
        recent = list(
            session.scalars(
                select(FailedSignIn.at)
                .where(FailedSignIn.at >= since)
                .where(or_(FailedSignIn.login == login, FailedSignIn.client_address == client))
                .order_by(FailedSignIn.at.desc())
                .limit(GUESSES)
            )
        )
    if len(recent) < GUESSES:
        return 0
    return max(0, int((recent[-1] + GUESS_WINDOW - now).total_seconds()) + 1)


def sign_in(url: str, login: str, password: str, client: str) -> tuple[str, people.Person] | None:
    """A new sign-in's token and person, or None (a refusal, counted and audited).

    Raises:
        Throttled: too many refused passwords for the account or the address.
    """
    wait = wait_before_try(url, login, client)
    if wait:
        refused(url, login, client, "too many refused passwords", wait_s=wait)
        raise Throttled(f"too many refused passwords; try again in {wait} s", wait)
    person = people.authenticate(url, login, password)
    now = datetime.now(UTC)
    if person is None:
        with session_for(url) as session, session.begin():
            session.add(FailedSignIn(login=login, client_address=client, at=now))
        refused(url, login, client, "wrong password, or no enabled account")
        return None
    return start(url, person, client, "password"), person


def refused(url: str, who: str, client: str, reason: str, **detail: object) -> None:
    """Audit a sign-in that did not happen, with why."""
    audit.record(
        url,
        "sign_in_refused",
        who,
        purpose="access control",
        who=who,
        origin=client,
        detail={"reason": reason, **detail},
    )


def start(url: str, person: people.Person, client: str, how: str) -> str:
    """A new sign-in for a person already authenticated (by password or by the city IdP):
    its token, for the cookie. Audited with how the person proved who they are."""
    token, now = secrets.token_urlsafe(32), datetime.now(UTC)
    with session_for(url) as session, session.begin():
        session.add(
            SignIn(
                token_hash=_hash(token),
                login=person.login,
                client_address=client,
                created_at=now,
                last_seen=now,
            )
        )
    audit.record(
        url,
        "sign_in",
        person.login,
        purpose="access control",
        who=person.login,
        origin=client,
        detail={"by": how},
    )
    return token


def signed_in(url: str, token: str | None, now: datetime | None = None) -> people.Person | None:
    """The person behind a live sign-in token, or None (unknown, ended, idle, too old, or the
    account disabled)."""
    if not token:
        return None
    ensure_current(url)
    now = now or datetime.now(UTC)
    with session_for(url) as session:
        row = session.scalars(select(SignIn).where(SignIn.token_hash == _hash(token))).first()
        if row is None or row.ended_at is not None:
            return None
        if now - row.last_seen > IDLE or now - row.created_at > LIFETIME:
            return None
        login, stale = row.login, now - row.last_seen > TOUCH
    person = people.find(url, login)
    if person is not None and stale:
        with session_for(url) as session, session.begin():
            session.execute(
                update(SignIn).where(SignIn.token_hash == _hash(token)).values(last_seen=now)
            )
    return person


def sign_out(url: str, token: str | None, client: str) -> None:
    """End the sign-in (audited once); an unknown or ended token is nothing to end."""
    if not token:
        return
    ensure_current(url)
    with session_for(url) as session, session.begin():
        row = session.scalars(
            select(SignIn).where(SignIn.token_hash == _hash(token), SignIn.ended_at.is_(None))
        ).first()
        if row is None:
            return
        row.ended_at = datetime.now(UTC)
        login = row.login
    audit.record(url, "sign_out", login, purpose="access control", who=login, origin=client)
