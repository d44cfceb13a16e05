"""Staff accounts on both catalog databases: argon2 hashes, roles from the duty matrix, a CLI
that always acts as a named person, and every change and refusal in the audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from catalog import audit, partners, people
from catalog.db import session_for
from catalog.models import AuditEntry
from catalog.models import Person as PersonRow
from hub.cli import app
from hub.registry.roles import Permission, load_roles

ADMIN_PW, STEWARD_PW = "correct horse battery", "staple gun 2026 spring"
AIR_DEPT = "climate-env-air-policy"


def _hub(monkeypatch, args: list[str], *, as_password: str | None = None, new: str | None = None):
    for name, value in (("HUB_AS_PASSWORD", as_password), ("HUB_NEW_PASSWORD", new)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    return CliRunner().invoke(app, ["users", *args])


def _entries(settings, action: str) -> list[AuditEntry]:
    with session_for(settings.catalog_url) as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_accounts_are_made_by_a_named_person_and_every_refusal_is_audited(
    hub_settings, monkeypatch
):
    url = hub_settings.catalog_url
    # the first account is the installer's administrator
    refused = _hub(monkeypatch, ["add", "ada", "--name", "Ada", "--role", "operator"], new=ADMIN_PW)
    assert refused.exit_code == 1 and "first account is an administrator" in str(refused.exception)
    made = _hub(
        monkeypatch, ["add", "ada", "--name", "Ada", "--role", "administrator"], new=ADMIN_PW
    )
    assert made.exit_code == 0, made.output
    # after it, nobody acts anonymously
    anon = _hub(monkeypatch, ["add", "kim", "--name", "Kim", "--role", "data_steward"])
    assert "never anonymous" in str(anon.exception)
    steward = [
        "add",
        "kim",
        "--name",
        "Kim Minji",
        "--role",
        "data_steward",
        "--department",
        AIR_DEPT,
        "--as",
        "ada",
    ]
    made = _hub(monkeypatch, steward, as_password=ADMIN_PW, new=STEWARD_PW)
    assert made.exit_code == 0, made.output
    added = {e.target: e for e in _entries(hub_settings, "person_add")}
    assert added["kim"].actor == "ada" and set(added) == {"ada", "kim"}

    # a steward may not manage accounts; a wrong password is no one; both are audited
    by_steward = _hub(monkeypatch, ["list", "--as", "kim"], as_password=STEWARD_PW)
    assert isinstance(by_steward.exception, people.AccessDenied)
    assert "users.manage" in str(by_steward.exception)
    wrong = _hub(monkeypatch, ["list", "--as", "ada"], as_password="not the password")
    assert isinstance(wrong.exception, people.AccessDenied)
    refusals = _entries(hub_settings, "access_refused")
    assert [(e.actor, e.target) for e in refusals] == [("kim", "users list"), ("ada", "users list")]

    # a role the policy does not know is refused with the roles it does
    bad = _hub(
        monkeypatch, ["role", "kim", "--role", "superuser", "--as", "ada"], as_password=ADMIN_PW
    )
    assert "no role superuser" in str(bad.exception) and "auditor" in str(bad.exception)
    # roles change and an account is disabled, each by a named person
    assert (
        _hub(
            monkeypatch, ["role", "kim", "--role", "auditor", "--as", "ada"], as_password=ADMIN_PW
        ).exit_code
        == 0
    )
    assert people.find(url, "kim").roles == ("auditor",)
    listed = _hub(monkeypatch, ["list", "--as", "ada"], as_password=ADMIN_PW)
    assert "kim\tKim Minji\tauditor" in listed.output
    assert _hub(monkeypatch, ["disable", "kim", "--as", "ada"], as_password=ADMIN_PW).exit_code == 0
    assert people.authenticate(url, "kim", STEWARD_PW) is None
    gone = _hub(monkeypatch, ["list", "--as", "kim"], as_password=STEWARD_PW)
    assert isinstance(gone.exception, people.AccessDenied)
    assert [e.actor for e in _entries(hub_settings, "person_disable")] == ["ada"]
    assert audit.verify(url)[1] is None


def test_passwords_are_kept_as_argon2id_hashes_only(hub_settings):
    url, policy = hub_settings.catalog_url, load_roles(hub_settings.roles_file)
    people.add(url, policy, login="lee", name="Lee", roles=["auditor"], by="t", password=ADMIN_PW)
    with session_for(url) as session:
        stored = session.get(PersonRow, "lee").password_hash
    assert stored.startswith("$argon2id$") and ADMIN_PW not in stored
    assert people.authenticate(url, "lee", ADMIN_PW).roles == ("auditor",)
    assert people.authenticate(url, "lee", ADMIN_PW + "x") is None
    assert people.authenticate(url, "nobody", ADMIN_PW) is None
    with pytest.raises(people.AccountError, match="12 characters"):
        people.add(url, policy, login="short", name="S", roles=["auditor"], by="t", password="pw")


def test_a_steward_reaches_their_department_and_a_partner_its_own_requests(hub_settings):
    url, policy = hub_settings.catalog_url, load_roles(hub_settings.roles_file)
    partners.add_partner(url, "seoul-police", "Seoul Metropolitan Police")
    partners.add_partner(url, "gunpo-city", "Gunpo City")
    steward = people.add(
        url,
        policy,
        login="kim",
        name="Kim",
        roles=["data_steward"],
        by="t",
        department_id=AIR_DEPT,
    )
    officer = people.add(
        url,
        policy,
        login="park",
        name="Park",
        roles=["partner"],
        by="t",
        partner_id="seoul-police",
    )
    people.require(policy, steward, Permission.datasets_steward, department_id=AIR_DEPT)
    with pytest.raises(people.AccessDenied, match="for department transport"):
        people.require(policy, steward, Permission.datasets_steward, department_id="transport")
    people.require(policy, officer, Permission.provisions_own, partner_id="seoul-police")
    with pytest.raises(people.AccessDenied, match="for partner gunpo-city"):
        people.require(policy, officer, Permission.provisions_own, partner_id="gunpo-city")
    with pytest.raises(people.AccessDenied, match="needs one of pd_manager, protection_officer"):
        people.require(policy, officer, Permission.provisions_decide)
    with pytest.raises(people.AccountError, match="needs --partner"):
        people.add(url, policy, login="x", name="X", roles=["partner"], by="t")
    with pytest.raises(people.AccountError, match="not signed in"):
        people.add(url, policy, login="y", name="Y", roles=["citizen"], by="t")
