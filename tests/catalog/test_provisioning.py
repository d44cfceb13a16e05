"""Provision by request and approval, on both catalog databases: a partner's person asks, the
personal-data manager narrows or refuses, the grant follows the decision, and the partner's key
is served exactly what was granted; every step is audited with who took it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from catalog import audit, partners, people, provisioning
from catalog.db import session_for
from catalog.models import Grant
from hub.registry.roles import load_roles

DATASET = "women_crime_incidents"
COLUMNS = ["case_no", "gu_code", "occurred_at", "offence_type", "victim_age_band"]
PURPOSE, LAW = "crime-prevention patrols", "Police Duties Act art. 2"


@pytest.fixture
def city(hub_settings):
    url, policy = hub_settings.catalog_url, load_roles(hub_settings.roles_file)
    partners.add_partner(url, "seoul-police", "Seoul Metropolitan Police")
    partners.add_partner(url, "gunpo-city", "Gunpo City")

    def person(login: str, role: str, partner: str | None = None) -> people.Person:
        return people.add(
            url, policy, login=login, name=login, roles=[role], by="test", partner_id=partner
        )

    return (
        url,
        policy,
        {
            "park": person("park", "partner", "seoul-police"),
            "choi": person("choi", "partner", "gunpo-city"),
            "han": person("han", "pd_manager"),
            "op": person("op", "operator"),
        },
    )


def _file(url, policy, who, columns=("case_no", "offence_type", "occurred_at"), days=90):
    return provisioning.file(
        url,
        policy,
        who,
        dataset_id=DATASET,
        purpose=PURPOSE,
        legal_basis=LAW,
        columns=list(columns),
        until=datetime.now(UTC) + timedelta(days=days),
        available=COLUMNS,
    )


def _serve(url, key: str, columns: list[str] | None = None):
    return partners.authorize(
        url,
        key=key,
        dataset_id=DATASET,
        access_class="restricted",
        available=COLUMNS,
        open_columns=[],
        purpose=PURPOSE,
        columns=columns,
    )


def test_a_narrowed_approval_grants_exactly_what_was_decided(city):
    url, policy, who = city
    key = partners.issue_key(url, "seoul-police")
    asked = _file(url, policy, who["park"])
    assert asked.status == "filed" and not _serve(url, key).allowed  # nothing before a decision

    with pytest.raises(people.AccessDenied, match=r"provisions\.decide"):
        provisioning.decide(url, policy, who["park"], asked.id, approve=True)
    shorter = datetime.now(UTC) + timedelta(days=30)
    decided = provisioning.decide(
        url,
        policy,
        who["han"],
        asked.id,
        approve=True,
        columns=["case_no", "offence_type"],
        until=shorter,
        reason="occurrence times are not needed for patrol planning",
    )
    assert decided.status == "narrowed" and decided.decided_by == "han"
    served = _serve(url, key)
    assert served.allowed and sorted(served.columns) == ["case_no", "offence_type"]
    assert not _serve(url, key, ["occurred_at"]).allowed  # asked for, not granted
    with pytest.raises(provisioning.RequestError, match="decided already"):
        provisioning.decide(url, policy, who["han"], asked.id, approve=False, reason="again")

    provisioning.revoke(url, policy, who["han"], decided.grant_id, "the patrol programme ended")
    assert "revoked" in _serve(url, key).reason
    actions = [(e.action, e.actor) for e in reversed(audit.entries(url))]
    assert [a for a in actions if a[0].startswith(("provision_", "grant_"))] == [
        ("provision_request", "park"),
        ("provision_approve", "han"),
        ("grant_revoke", "han"),
    ]


def test_refusals_need_a_reason_and_each_agency_sees_its_own(city):
    url, policy, who = city
    mine, theirs = _file(url, policy, who["park"]), _file(url, policy, who["choi"])
    with pytest.raises(provisioning.RequestError, match="gives its reason"):
        provisioning.decide(url, policy, who["han"], theirs.id, approve=False)
    refused = provisioning.decide(
        url, policy, who["han"], theirs.id, approve=False, reason="no legal basis for a city"
    )
    assert refused.status == "refused" and refused.grant_id is None
    assert [r.id for r in provisioning.requests(url, policy, who["park"])] == [mine.id]
    assert [r.status for r in provisioning.requests(url, policy, who["choi"])] == ["refused"]
    assert len(provisioning.requests(url, policy, who["han"])) == 2
    with pytest.raises(people.AccessDenied):
        provisioning.requests(url, policy, who["op"])
    with pytest.raises(people.AccessDenied, match=r"provisions\.request"):
        _file(url, policy, who["op"])
    with pytest.raises(provisioning.RequestError, match="no such column"):
        _file(url, policy, who["park"], columns=("case_no", "victim_name"))
    with pytest.raises(provisioning.RequestError, match="gives some of"):
        provisioning.decide(url, policy, who["han"], mine.id, approve=True, columns=["gu_code"])


def test_two_managers_deciding_one_request_at_once_make_one_decision_and_one_grant(city):
    url, policy, who = city
    second = people.add(url, policy, login="kim", name="kim", roles=["pd_manager"], by="test")
    key = partners.issue_key(url, "seoul-police")
    asked = _file(url, policy, who["park"])
    start = threading.Barrier(2)

    def decide(person, approve):
        start.wait()
        try:
            return provisioning.decide(
                url, policy, person, asked.id, approve=approve, reason="" if approve else "no"
            )
        except provisioning.RequestError as refused:
            return refused

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(decide, [who["han"], second], [True, False]))
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert len(errors) == 1 and "decided already" in str(errors[0]), outcomes
    (won,) = [o for o in outcomes if not isinstance(o, Exception)]
    approved = won.status == "approved"
    with session_for(url) as session:
        grants = session.scalars(select(Grant).where(Grant.dataset_id == DATASET)).all()
    assert len(grants) == (1 if approved else 0) and _serve(url, key).allowed == approved
    decisions = [e.action for e in audit.entries(url) if e.action.startswith("provision_")]
    decided = "provision_approve" if approved else "provision_refuse"
    assert sorted(decisions) == sorted(["provision_request", decided])
