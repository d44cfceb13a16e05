"""Staff sign-in on the web app over the real catalog: cookie flags, CSRF on every form, no
session fixation, sign-out and idle timeout that end the sign-in, guessing slowed and audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie

from fastapi.testclient import TestClient
from sqlalchemy import select

from catalog import people, signins
from catalog.db import session_for
from catalog.models import AuditEntry
from hub.registry.roles import load_roles
from hub.web.app import create_app
from tests.support.staff import form_token

PASSWORD = "correct horse battery"


def _client(settings) -> TestClient:
    return TestClient(create_app(settings), base_url="https://hub.test", follow_redirects=False)


def _person(settings, login: str = "kim", roles: tuple[str, ...] = ("auditor",)) -> None:
    policy = load_roles(settings.roles_file)
    people.add(
        settings.catalog_url,
        policy,
        login=login,
        name="김민지",
        roles=list(roles),
        by="test",
        password=PASSWORD,
    )


def _form_token(client: TestClient, lang: str = "ko") -> str:
    page = client.get(f"/login?lang={lang}")
    assert page.status_code == 200
    return form_token(page.text)


def _sign_in(client: TestClient, password: str = PASSWORD, login: str = "kim"):
    token = _form_token(client)
    return client.post("/login", data={"login": login, "password": password, "csrf": token})


def _actions(settings, action: str) -> list[AuditEntry]:
    with session_for(settings.catalog_url) as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_sign_in_sets_a_guarded_cookie_and_sign_out_ends_it(hub_settings):
    _person(hub_settings)
    client = _client(hub_settings)
    done = _sign_in(client)
    assert done.status_code == 303 and done.headers["location"] == "/me?lang=ko"
    cookie = SimpleCookie(next(h for h in done.headers.get_list("set-cookie") if "hub_signin" in h))
    flags = cookie["hub_signin"]
    assert flags["httponly"] and flags["secure"] and flags["samesite"].lower() == "strict"
    token = flags.value
    me = client.get("/me?lang=en")
    assert me.status_code == 200 and "김민지 (kim)" in me.text and "Auditor (auditor)" in me.text
    assert "감사 담당자" in client.get("/me?lang=ko").text

    # sign-out is a form with the sign-in's CSRF token: without it, nothing happens
    assert client.post("/logout", data={"csrf": "forged"}).status_code == 403
    assert client.get("/me").status_code == 200
    csrf = form_token(me.text)
    assert client.post("/logout", data={"csrf": csrf}).status_code == 303
    assert client.get("/me").headers["location"].startswith("/login")
    # the old token, replayed, is no one
    replay = _client(hub_settings)
    replay.cookies.set("hub_signin", token, domain="hub.test")
    assert replay.get("/me").status_code == 303
    assert [e.actor for e in _actions(hub_settings, "sign_in")] == ["kim"]
    assert [e.actor for e in _actions(hub_settings, "sign_out")] == ["kim"]


def test_no_session_fixation_and_no_login_csrf(hub_settings):
    _person(hub_settings)
    client = _client(hub_settings)
    client.cookies.set("hub_signin", "chosen-by-an-attacker", domain="hub.test")
    assert client.get("/me").status_code == 303  # a token the hub did not issue is no one
    first = _sign_in(client).cookies["hub_signin"]
    second = _sign_in(client).cookies["hub_signin"]
    assert first != second != "chosen-by-an-attacker"
    # a login form posted from another site has no matching double-submit cookie
    other = _client(hub_settings)
    forged = other.post("/login", data={"login": "kim", "password": PASSWORD, "csrf": "x" * 32})
    assert forged.status_code == 403 and "hub_signin" not in forged.cookies


def test_guessing_is_slowed_and_every_refusal_audited(hub_settings):
    _person(hub_settings)
    client = _client(hub_settings)
    for _ in range(signins.GUESSES):
        assert _sign_in(client, password="guess").status_code == 401
    blocked = _sign_in(client)  # even the right password waits now
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    assert "hub_signin" not in blocked.cookies
    refused = _actions(hub_settings, "sign_in_refused")
    assert len(refused) == signins.GUESSES + 1 and {e.actor for e in refused} == {"kim"}
    later = datetime.now(UTC) + signins.GUESS_WINDOW + timedelta(seconds=5)
    assert signins.wait_before_try(hub_settings.catalog_url, "kim", "testclient", later) == 0


def test_an_idle_or_disabled_sign_in_ends(hub_settings):
    _person(hub_settings)
    url = hub_settings.catalog_url
    token, _ = signins.sign_in(url, "kim", PASSWORD, "127.0.0.1")
    assert signins.signed_in(url, token).login == "kim"
    idle = datetime.now(UTC) + signins.IDLE + timedelta(minutes=1)
    assert signins.signed_in(url, token, now=idle) is None
    people.disable(url, "kim", by="test")
    assert signins.signed_in(url, token) is None


def test_every_page_and_answer_carries_the_security_headers(hub_settings):
    client = _client(hub_settings)
    for path in ("/", "/login", "/api/v1/datasets", "/catalog.jsonld", "/audit"):
        got = client.get(path)
        assert got.headers["x-content-type-options"] == "nosniff", path
        assert got.headers["referrer-policy"] == "strict-origin-when-cross-origin", path
        policy = got.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self';" in policy, path
        assert "unsafe-inline" not in policy.split("script-src", 1)[1].split(";", 1)[0]
