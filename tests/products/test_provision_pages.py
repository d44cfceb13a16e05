"""Provision requests through the web forms: a partner's person files one, the personal-data
manager narrows it, the partner sees the decision; forms without the sign-in's CSRF token and
people without the role are refused."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient

from catalog import audit, partners, people, provisioning
from hub.registry.roles import load_roles
from tests.support.staff import account, form_token, signed_in


def _signed_in(settings, login: str, role: str, partner: str | None = None) -> TestClient:
    account(settings, login, role, partner)
    return signed_in(settings, login)


def test_a_partner_files_and_the_manager_narrows_through_the_forms(hub_settings):
    url = hub_settings.catalog_url
    partners.add_partner(url, "seoul-police", "Seoul Metropolitan Police")
    park = _signed_in(hub_settings, "park", "partner", "seoul-police")
    page = park.get("/provisions?lang=en")
    assert page.status_code == 200 and 'value="women_crime_incidents"' in page.text
    until = (date.today() + timedelta(days=90)).isoformat()
    request = {
        "dataset_id": "women_crime_incidents",
        "purpose": "crime-prevention patrols",
        "legal_basis": "Police Duties Act art. 2",
        "columns": "case_no, offence_type, occurred_at",
        "until": until,
    }
    assert park.post("/provisions", data={**request, "csrf": "forged"}).status_code == 403
    assert (
        park.post("/provisions", data={**request, "csrf": form_token(page.text)}).status_code == 303
    )
    assert "filed" in park.get("/provisions?lang=en").text

    operator = _signed_in(hub_settings, "op", "operator")
    assert operator.get("/provisions").status_code == 403
    han = _signed_in(hub_settings, "han", "pd_manager")
    listing = han.get("/provisions?lang=en").text
    assert "crime-prevention patrols" in listing and 'value="approve"' in listing
    decision = {
        "decision": "approve",
        "columns": "case_no, offence_type",
        "until": until,
        "reason": "times are not needed",
        "csrf": form_token(listing),
    }
    policy = load_roles(hub_settings.roles_file)
    number = provisioning.requests(url, policy, people.find(url, "han"))[0].id
    assert operator.post(f"/provisions/{number}/decision", data=decision).status_code == 403
    assert han.post(f"/provisions/{number}/decision", data=decision).status_code == 303
    seen = park.get("/provisions?lang=en").text
    assert "approved, narrowed" in seen and "times are not needed" in seen
    assert 'value="approve"' not in seen  # a partner decides nothing
    (grant,) = audit.entries(url, action="provision_approve")
    assert grant.actor == "han" and '"columns": ["case_no", "offence_type"]' in grant.detail
