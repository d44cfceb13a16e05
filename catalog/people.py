"""The people who sign in to the hub, the roles they hold, and the one permission check.

Local accounts keep an argon2id hash only (argon2-cffi, with its rehash check so hashes follow
the library's parameters as they are raised); a city IdP's people are matched by their OpenID
Connect subject. Roles are those of the duty matrix (``policy/roles.yaml``): a role the policy
does not know cannot be given. Every change is an audit entry naming who made it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select

from catalog import audit
from catalog.db import ensure_current, session_for
from catalog.models import Partner, PersonRole
from catalog.models import Person as PersonRow
from hub.core.errors import HubError
from hub.registry.roles import Permission, RolePolicy, Scope

_hasher = PasswordHasher()  # argon2id, RFC 9106's second recommended parameters


class AccessDenied(HubError):
    """A person asked for something their roles do not allow; the message says which
    permission was missing and which roles carry it."""


class AccountError(HubError):
    """An account cannot be made or changed as asked (exists already, unknown role, ...)."""


@dataclass(frozen=True)
class Person:
    """Who acts: a signed-in person with their roles, or the anonymous citizen."""

    login: str
    name: str
    roles: tuple[str, ...]
    department_id: str | None = None
    partner_id: str | None = None

    @property
    def signed_in(self) -> bool:
        return bool(self.login)


def anonymous(policy: RolePolicy) -> Person:
    return Person(login="", name="anonymous", roles=(policy.anonymous,))


def require(
    policy: RolePolicy,
    person: Person,
    permission: Permission,
    *,
    department_id: str | None = None,
    partner_id: str | None = None,
) -> None:
    """Allow ``person`` to use ``permission`` (on a department's dataset or a partner's
    requests when given), or raise.

    Raises:
        AccessDenied: no role of the person carries the permission in that scope.
    """
    scopes = policy.scopes(person.roles, permission)
    if Scope.city in scopes:
        return
    if Scope.department in scopes and department_id and department_id == person.department_id:
        return
    if Scope.partner in scopes and partner_id and partner_id == person.partner_id:
        return
    who = person.login or "a person who has not signed in"
    where = (
        f" for department {department_id}"
        if department_id
        else f" for partner {partner_id}"
        if partner_id
        else ""
    )
    raise AccessDenied(
        f"{who} may not {permission.value}{where}: roles {', '.join(person.roles)}; "
        f"it needs one of {', '.join(policy.holders(permission)) or 'no role'}"
    )


def hash_password(password: str) -> str:
    if len(password) < 12:
        raise AccountError("a password has at least 12 characters")
    return _hasher.hash(password)


def _check_roles(policy: RolePolicy, roles: list[str]) -> None:
    unknown = [r for r in roles if r not in policy.roles]
    if unknown:
        raise AccountError(
            f"no role {', '.join(unknown)} in the policy (roles: {', '.join(policy.roles)})"
        )
    anonymous_only = [r for r in roles if not policy.roles[r].signs_in]
    if anonymous_only:
        raise AccountError(f"role {', '.join(anonymous_only)} is for people not signed in")


def count(url: str) -> int:
    ensure_current(url)
    with session_for(url) as session:
        return int(session.scalar(select(func.count()).select_from(PersonRow)) or 0)


def add(
    url: str,
    policy: RolePolicy,
    *,
    login: str,
    name: str,
    roles: list[str],
    by: str,
    password: str | None = None,
    email: str | None = None,
    department_id: str | None = None,
    partner_id: str | None = None,
    oidc_subject: str | None = None,
) -> Person:
    """Create an account with its roles; audited with who made it (never the password)."""
    ensure_current(url)
    _check_roles(policy, roles)
    if policy.scopes(roles, Permission.provisions_own) and not partner_id:
        raise AccountError(f"{login}: a partner's person needs --partner")
    if policy.scopes(roles, Permission.datasets_steward) == {Scope.department} and not (
        department_id
    ):
        raise AccountError(f"{login}: a data steward needs --department")
    now = datetime.now(UTC)
    with session_for(url) as session, session.begin():
        if session.get(PersonRow, login) is not None:
            raise AccountError(f"an account {login!r} exists already")
        if partner_id and session.get(Partner, partner_id) is None:
            raise AccountError(f"no partner {partner_id!r}")
        session.add(
            PersonRow(
                login=login,
                name=name,
                email=email,
                department_id=department_id,
                partner_id=partner_id,
                password_hash=hash_password(password) if password else None,
                oidc_subject=oidc_subject,
                created_at=now,
            )
        )
        session.flush()
        session.add_all(PersonRole(login=login, role=r, granted_at=now) for r in roles)
    audit.record(
        url,
        "person_add",
        login,
        purpose="access control",
        who=by,
        detail={"roles": roles, "department": department_id, "partner": partner_id},
    )
    return Person(login, name, tuple(roles), department_id, partner_id)


def set_roles(url: str, policy: RolePolicy, login: str, roles: list[str], *, by: str) -> None:
    """Replace the person's roles; audited with the roles before and after."""
    ensure_current(url)
    _check_roles(policy, roles)
    now = datetime.now(UTC)
    with session_for(url) as session, session.begin():
        if session.get(PersonRow, login) is None:
            raise AccountError(f"no account {login!r}")
        before = sorted(session.scalars(select(PersonRole.role).where(PersonRole.login == login)))
        session.execute(delete(PersonRole).where(PersonRole.login == login))
        session.add_all(PersonRole(login=login, role=r, granted_at=now) for r in roles)
    audit.record(
        url,
        "person_roles",
        login,
        purpose="access control",
        who=by,
        detail={"before": before, "after": sorted(roles)},
    )


def disable(url: str, login: str, *, by: str) -> None:
    """Disable an account: it can no longer sign in; its history stays."""
    ensure_current(url)
    with session_for(url) as session, session.begin():
        row = session.get(PersonRow, login)
        if row is None:
            raise AccountError(f"no account {login!r}")
        row.disabled_at = datetime.now(UTC)
    audit.record(url, "person_disable", login, purpose="access control", who=by)


def find(url: str, login: str) -> Person | None:
    """The enabled account ``login`` with its roles, or None."""
    ensure_current(url)
    with session_for(url) as session:
        row = session.get(PersonRow, login)
        if row is None or row.disabled_at is not None:
            return None
        roles = session.scalars(select(PersonRole.role).where(PersonRole.login == login))
        return Person(row.login, row.name, tuple(sorted(roles)), row.department_id, row.partner_id)


def by_subject(url: str, subject: str) -> Person | None:
    """The enabled account the city IdP's ``issuer|sub`` belongs to, or None: the IdP proves
    who someone is; only an account made in the hub gives them roles."""
    ensure_current(url)
    with session_for(url) as session:
        login = session.scalar(select(PersonRow.login).where(PersonRow.oidc_subject == subject))
    return find(url, login) if login else None


def everyone(url: str) -> list[tuple[PersonRow, list[str]]]:
    ensure_current(url)
    with session_for(url) as session:
        rows = list(session.scalars(select(PersonRow).order_by(PersonRow.login)))
        held: dict[str, list[str]] = {}
        for login, role in session.execute(select(PersonRole.login, PersonRole.role)):
            held.setdefault(login, []).append(role)
        return [(row, sorted(held.get(row.login, []))) for row in rows]


def authenticate(url: str, login: str, password: str) -> Person | None:
    """The person if the password is theirs and the account is enabled, else None; a hash
    made with weaker parameters than the library's current ones is replaced on success."""
    ensure_current(url)
    with session_for(url) as session, session.begin():
        row = session.get(PersonRow, login)
        if row is None or row.password_hash is None:
            _hasher.hash(password)  # the same work either way: no timing tells which
            return None
        try:
            _hasher.verify(row.password_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        if row.disabled_at is not None:
            return None
        if _hasher.check_needs_rehash(row.password_hash):
            row.password_hash = _hasher.hash(password)
    return find(url, login)
