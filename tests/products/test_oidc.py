"""Sign-in with the city's identity provider (OpenID Connect) against a test IdP over real
HTTP: the code flow with PKCE ends in the hub's own sign-in for the account that carries the
IdP's subject; a subject with no account, or a forged state, signs no one in, and is audited."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient

from catalog import audit, people
from hub.registry.roles import load_roles
from hub.web.app import create_app
from tests.support.idp import identity_provider


@pytest.fixture
def idp_and_hub(hub_settings):
    with identity_provider() as idp:
        settings = hub_settings.model_copy(
            update={
                "oidc_issuer": idp.issuer,
                "oidc_client_id": idp.client_id,
                "oidc_client_secret": idp.client_secret,
            }
        )
        hub = TestClient(create_app(settings), base_url="https://hub.test", follow_redirects=False)
        yield idp, hub, settings


def _round_trip(hub: TestClient, *, state: str | None = None):
    """The browser's walk: the hub sends it to the IdP, the IdP sends it back with a code."""
    to_idp = hub.get("/login/oidc?lang=en")
    assert to_idp.status_code == 302
    back = httpx.get(to_idp.headers["location"], follow_redirects=False)
    assert back.status_code == 302
    location = back.headers["location"]
    if state is not None:
        location = location.split("&state=")[0] + f"&state={state}"
    return hub.get(location)


def test_the_idp_proves_who_and_the_hub_account_gives_the_roles(idp_and_hub):
    idp, hub, settings = idp_and_hub
    url = settings.catalog_url
    assert "/login/oidc" in hub.get("/login").text  # the login page offers the city's sign-on
    people.add(
        url,
        load_roles(settings.roles_file),
        login="kim",
        name="김민지",
        roles=["auditor"],
        by="test",
        oidc_subject=f"{idp.issuer}|{idp.subject}",
    )
    done = _round_trip(hub)
    assert done.status_code == 303 and done.headers["location"] == "/me?lang=en"
    assert "Auditor (auditor)" in hub.get("/me?lang=en").text
    assert hub.get("/audit").status_code == 200
    (entry,) = audit.entries(url, action="sign_in")
    assert entry.actor == "kim" and '"by": "oidc"' in entry.detail


def test_an_unknown_subject_or_a_forged_state_signs_no_one_in(idp_and_hub):
    idp, hub, settings = idp_and_hub
    idp.subject = "someone-the-hub-does-not-know"
    refused = _round_trip(hub)
    assert refused.status_code == 403 and "hub_signin" not in refused.cookies
    forged = _round_trip(hub, state="forged")
    assert forged.status_code == 400 and "hub_signin" not in forged.cookies
    reasons = [e.detail for e in audit.entries(settings.catalog_url, action="sign_in_refused")]
    assert len(reasons) == 2 and "no enabled hub account" in reasons[1]
    assert hub.get("/me").status_code == 303
