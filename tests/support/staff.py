"""Staff in tests: an account with a role, and a browser-like client signed in as it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from catalog import people
from hub.core.settings import HubSettings, get_settings
from hub.registry.roles import load_roles
from hub.web.app import create_app

PASSWORD = "correct horse battery"


def form_token(page: str) -> str:
    """The CSRF token of the first form on an HTML page."""
    return page.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def account(
    settings: HubSettings, login: str, role: str, partner: str | None = None
) -> people.Person:
    return people.add(
        settings.catalog_url,
        load_roles(settings.roles_file),
        login=login,
        name=login,
        roles=[role],
        by="test",
        password=PASSWORD,
        partner_id=partner,
    )


def accounts(
    settings: HubSettings, *people_: tuple[str, str, str | None]
) -> dict[str, people.Person]:
    """Accounts by login, from (login, role, partner) rows."""
    return {login: account(settings, login, role, partner) for login, role, partner in people_}


#: What a CliRunner needs to act ``--as`` an account made here (its password).
CLI_ENV = {"HUB_AS_PASSWORD": PASSWORD}


def acting_as(role: str, settings: HubSettings | None = None) -> list[str]:
    """``--as LOGIN`` for a person of ``role`` in the current hub (made on first use); run
    the command with ``CliRunner(env=CLI_ENV)``."""
    settings = settings or get_settings()
    login = f"cli-{role}"
    if people.find(settings.catalog_url, login) is None:
        account(settings, login, role)
    return ["--as", login]


def client(settings: HubSettings) -> TestClient:
    """The web app over TLS as a browser reaches it, redirects not followed."""
    return TestClient(create_app(settings), base_url="https://hub.test", follow_redirects=False)


def signed_in(settings: HubSettings, login: str) -> TestClient:
    """A client signed in with ``login``'s password through the /login form."""
    browser = client(settings)
    token = form_token(browser.get("/login").text)
    done = browser.post("/login", data={"login": login, "password": PASSWORD, "csrf": token})
    assert done.status_code == 303, f"{login} could not sign in"
    return browser
