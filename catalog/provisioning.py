"""Provision by request and approval: a partner's person files a written request for one
restricted dataset; the personal-data manager (or protection officer) approves it, narrows it
(fewer columns, a shorter period) or refuses it with a reason. Approval creates the grant the
partner's keys are served under. Each step asks the duty matrix itself, whoever calls it, and
is an audit entry; the grant's use lands in the provision register as every served answer does.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select

from catalog import audit, partners, people
from catalog.db import ensure_current, move, session_for
from catalog.models import Grant, ProvisionRequest
from hub.registry.roles import Permission, RolePolicy

FILED, APPROVED, NARROWED, REFUSED = "filed", "approved", "narrowed", "refused"


class RequestError(people.AccountError):
    """A request cannot be filed or decided as asked (unknown columns, decided already...)."""


def file(
    url: str,
    policy: RolePolicy,
    person: people.Person,
    *,
    dataset_id: str,
    purpose: str,
    legal_basis: str,
    columns: list[str],
    until: datetime,
    available: list[str],
) -> ProvisionRequest:
    """File a request for the person's own agency; ``available`` are the dataset's columns."""
    ensure_current(url)
    people.require(policy, person, Permission.provisions_request, partner_id=person.partner_id)
    if not person.partner_id:
        raise RequestError(f"{person.login}: only a partner's person files a provision request")
    unknown = sorted(set(columns) - set(available))
    if unknown or not columns:
        raise RequestError(
            f"{dataset_id}: no such column(s) {', '.join(unknown) or '(none asked)'}; "
            f"it has {', '.join(available)}"
        )
    if not purpose.strip() or not legal_basis.strip():
        raise RequestError(f"{dataset_id}: a request states its purpose and its legal basis")
    if until <= datetime.now(UTC):
        raise RequestError(f"{dataset_id}: the period asked for has already ended ({until})")
    row = ProvisionRequest(
        partner_id=person.partner_id,
        filed_by=person.login,
        dataset_id=dataset_id,
        purpose=purpose.strip(),
        legal_basis=legal_basis.strip(),
        columns=json.dumps(sorted(set(columns))),
        until=until,
        filed_at=datetime.now(UTC),
        status=FILED,
    )
    with session_for(url) as session, session.begin():
        session.add(row)
    audit.record(
        url,
        "provision_request",
        dataset_id,
        purpose=row.purpose,
        who=person.login,
        detail={"request": row.id, "partner": row.partner_id, "columns": sorted(set(columns))},
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
    columns: list[str] | None = None,
    until: datetime | None = None,
) -> ProvisionRequest:
    """Approve (as asked, or narrowed to ``columns`` / ``until``) or refuse with a reason.

    Raises:
        people.AccessDenied: the person may not decide provisions.
        RequestError: no such open request, a refusal without a reason, or a narrowing that
            asks for more than was requested.
    """
    ensure_current(url)
    people.require(policy, person, Permission.provisions_decide)
    with session_for(url) as session, session.begin():
        # Take the request first: a second decider's same update waits for this transaction
        # and then finds it decided (and on SQLite, takes the write lock before reading).
        decider = {"decided_by": person.login, "decided_at": datetime.now(UTC)}
        taken = move(session, ProvisionRequest, request_id, when={"status": FILED}, to=decider)
        row = session.get(ProvisionRequest, request_id)
        if row is None or not taken:
            state = "no such request" if row is None else f"decided already ({row.status})"
            raise RequestError(f"provision request {request_id}: {state}")
        asked = json.loads(row.columns)
        given = sorted(set(columns)) if columns is not None else asked
        end = min(until, row.until) if until is not None else row.until
        if set(given) - set(asked) or (approve and not given):
            raise RequestError(
                f"provision request {request_id}: a decision gives some of {', '.join(asked)}"
            )
        if not approve and not reason.strip():
            raise RequestError(f"provision request {request_id}: a refusal gives its reason")
        grant: Grant | None = None
        status = REFUSED
        if approve:
            status = APPROVED if (given == asked and end == row.until) else NARROWED
            grant = partners.new_grant(
                session,
                row.partner_id,
                row.dataset_id,
                purpose=row.purpose,
                legal_basis=row.legal_basis,
                columns=given,
                valid_until=end,
            )
        row.status, row.reason = status, reason.strip() or None
        row.grant_id = grant.id if grant else None
        session.flush()
        session.expunge(row)
    audit.record(
        url,
        f"provision_{'refuse' if status == REFUSED else 'approve'}",
        row.dataset_id,
        purpose=row.purpose,
        who=person.login,
        detail={
            "request": request_id,
            "partner": row.partner_id,
            "status": status,
            "columns": given if approve else [],
            "until": end.isoformat() if approve else None,
            "reason": reason.strip() or None,
            "grant": grant.id if grant else None,
        },
    )
    return row


def requests(
    url: str, policy: RolePolicy, person: people.Person, *, status: str | None = None
) -> list[ProvisionRequest]:
    """Newest first: every request for a decider or a reader of the registers, the person's
    own agency's for a partner."""
    ensure_current(url)
    query = select(ProvisionRequest).order_by(ProvisionRequest.id.desc())
    if not (
        policy.allows(person.roles, Permission.provisions_decide)
        or policy.allows(person.roles, Permission.registers_read)
    ):
        people.require(policy, person, Permission.provisions_own, partner_id=person.partner_id)
        query = query.where(ProvisionRequest.partner_id == person.partner_id)
    if status:
        query = query.where(ProvisionRequest.status == status)
    with session_for(url) as session:
        return list(session.scalars(query))


def revoke(url: str, policy: RolePolicy, person: people.Person, grant_id: int, reason: str) -> None:
    """End a grant before its time (audited with the reason)."""
    people.require(policy, person, Permission.grants_revoke)
    partners.revoke_grant(url, grant_id)
    audit.record(
        url,
        "grant_revoke",
        str(grant_id),
        purpose="access control",
        who=person.login,
        detail={"grant": grant_id, "reason": reason},
    )
