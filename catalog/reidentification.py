"""Re-identification under dual control: resolving a pseudonym needs a request with a reason
from one person and the approval of a second with ``reidentify.approve``; the asker may then
use it once. The vault resolves (``privacy.vault``); this keeps the requests and their rules,
and every step is an audit entry (the value itself never is)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from catalog import audit, people
from catalog.db import ensure_current, move, session_for
from catalog.models import ReidentificationRequest
from hub.registry.roles import Permission, RolePolicy

FILED, APPROVED, REFUSED, USED = "filed", "approved", "refused", "used"


class ReidentificationError(people.AccountError):
    """A request cannot be made, decided or used as asked; the message says why."""


def ask(
    url: str, policy: RolePolicy, person: people.Person, feed_id: str, token: str, reason: str
) -> ReidentificationRequest:
    """File a request to resolve ``token`` of ``feed_id``, with the reason it is needed."""
    ensure_current(url)
    people.require(policy, person, Permission.reidentify_request)
    if len(reason.strip()) < 10:
        raise ReidentificationError("a re-identification request states its reason in full")
    row = ReidentificationRequest(
        feed_id=feed_id,
        token=token,
        reason=reason.strip(),
        requested_by=person.login,
        requested_at=datetime.now(UTC),
        status=FILED,
    )
    with session_for(url) as session, session.begin():
        session.add(row)
    audit.record(
        url,
        "reidentify_request",
        feed_id,
        purpose=row.reason,
        who=person.login,
        detail={"request": row.id, "token": token},
    )
    return row


def decide(
    url: str,
    policy: RolePolicy,
    person: people.Person,
    request_id: int,
    *,
    approve: bool,
    reason: str = "",
) -> ReidentificationRequest:
    """The second person's decision; never the asker's own.

    Raises:
        people.AccessDenied: the person may not approve re-identification.
        ReidentificationError: no such open request, the asker deciding their own, or a
            refusal without a reason.
    """
    ensure_current(url)
    people.require(policy, person, Permission.reidentify_approve)
    with session_for(url) as session, session.begin():
        # Take the request first, so two deciders at once cannot both decide it.
        decider = {"decided_by": person.login, "decided_at": datetime.now(UTC)}
        taken = move(
            session, ReidentificationRequest, request_id, when={"status": FILED}, to=decider
        )
        row = session.get(ReidentificationRequest, request_id)
        if row is None or not taken:
            state = "no such request" if row is None else f"decided already ({row.status})"
            raise ReidentificationError(f"re-identification request {request_id}: {state}")
        if row.requested_by == person.login:
            raise ReidentificationError(
                f"re-identification request {request_id}: a second person decides it, "
                f"not {person.login} who asked"
            )
        if not approve and not reason.strip():
            raise ReidentificationError("a refusal gives its reason")
        row.status = APPROVED if approve else REFUSED
        row.decision_reason = reason.strip() or None
    audit.record(
        url,
        f"reidentify_{'approve' if approve else 'refuse'}",
        row.feed_id,
        purpose=row.reason,
        who=person.login,
        detail={
            "request": request_id,
            "asked_by": row.requested_by,
            "reason": reason.strip() or None,
        },
    )
    return row


def claim(
    url: str, policy: RolePolicy, person: people.Person, request_id: int
) -> ReidentificationRequest:
    """Take an approved request for its one use, by the person who asked; the caller then
    resolves the token and shows the value once.

    Raises:
        ReidentificationError: not approved, used already, or not this person's request.
    """
    ensure_current(url)
    people.require(policy, person, Permission.reidentify_request)
    now = datetime.now(UTC)
    with session_for(url) as session, session.begin():
        taken = move(
            session,
            ReidentificationRequest,
            request_id,
            when={"status": APPROVED, "requested_by": person.login},
            to={"status": USED, "used_at": now},
        )
        row = session.get(ReidentificationRequest, request_id)
    if not taken or row is None:
        state = "no such request" if row is None else row.status
        if row is not None and row.requested_by != person.login:
            state = f"it is {row.requested_by}'s request"
        raise ReidentificationError(
            f"re-identification request {request_id} cannot be used: {state}"
        )
    return row


def pending(url: str) -> list[ReidentificationRequest]:
    ensure_current(url)
    with session_for(url) as session:
        return list(
            session.scalars(
                select(ReidentificationRequest)
                .where(ReidentificationRequest.status == FILED)
                .order_by(ReidentificationRequest.id)
            )
        )
