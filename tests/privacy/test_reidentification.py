"""Re-identification under dual control, through the ``hub vault`` commands on a real vault:
one person asks with a reason, a second approves, the asker sees the value once; nobody
approves their own request, and key rotation needs the protection officer."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from catalog import audit, people, reidentification
from hub.cli import app
from hub.registry.roles import load_roles
from tests.privacy.test_protect_pipeline import DAY1, run_bikes, tokens_by_member

PASSWORD = "correct horse battery"


def _vault(monkeypatch, who: str, *args: str):
    monkeypatch.setenv("HUB_AS_PASSWORD", PASSWORD)
    return CliRunner().invoke(app, ["vault", *args, "--as", who])


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_token_is_resolved_once_after_a_second_person_approves(hub_settings, monkeypatch):
    url, policy = hub_settings.catalog_url, load_roles(hub_settings.roles_file)
    for login, roles in (
        ("kim", ["pd_handler"]),
        ("lee", ["protection_officer"]),
        ("han", ["pd_handler", "pd_manager"]),
        ("op", ["operator"]),
    ):
        people.add(url, policy, login=login, name=login, roles=roles, by="t", password=PASSWORD)
    sent = run_bikes(hub_settings, DAY1, "run-1")
    member, tokens = next(iter(tokens_by_member(hub_settings, sent).items()))
    token = sorted(tokens)[0]

    asked = _vault(
        monkeypatch, "kim", "request", "bike_trips", token, "--reason", "court order 2026-123"
    )
    assert asked.exit_code == 0 and "request 1 filed" in asked.output
    early = _vault(monkeypatch, "kim", "resolve", "1")
    assert "cannot be used: filed" in str(early.exception)
    assert "reidentify.approve" in str(_vault(monkeypatch, "kim", "decide", "1").exception)
    assert "reidentify.request" in str(_vault(monkeypatch, "op", "resolve", "1").exception)

    assert _vault(monkeypatch, "lee", "decide", "1").output.strip().endswith("approved")
    taken = _vault(monkeypatch, "kim", "resolve", "1")
    assert taken.exit_code == 0 and taken.output.strip() == member
    again = _vault(monkeypatch, "kim", "resolve", "1")
    assert "cannot be used: used" in str(again.exception)

    # one person holding both roles still cannot approve their own request
    own = reidentification.ask(
        url, policy, people.find(url, "han"), "bike_trips", token, "audit sample check"
    )
    with pytest.raises(reidentification.ReidentificationError, match="second person"):
        reidentification.decide(url, policy, people.find(url, "han"), own.id, approve=True)

    assert "keys.rotate" in str(
        _vault(monkeypatch, "kim", "rotate", "bike_trips", "--purpose", "x").exception
    )
    rotated = _vault(monkeypatch, "lee", "rotate", "bike_trips", "--purpose", "annual rotation")
    assert rotated.exit_code == 0 and "key v2" in rotated.output

    log = [(e.action, e.actor) for e in reversed(audit.entries(url, limit=None))]
    assert ("reidentify_request", "kim") in log and ("reidentify_approve", "lee") in log
    (resolved,) = audit.entries(url, action="key_resolve")
    assert resolved.actor == "kim" and '"approved_by": "lee"' in resolved.detail
    assert member not in resolved.detail  # the value itself is never logged
    refusals = {e.actor for e in audit.entries(url, action="access_refused")}
    assert refusals == {"kim", "op"}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_two_approvers_at_once_make_one_decision(hub_settings):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    url, policy = hub_settings.catalog_url, load_roles(hub_settings.roles_file)
    for login, roles in (
        ("kim", ["pd_handler"]),
        ("lee", ["protection_officer"]),
        ("han", ["pd_manager"]),
    ):
        people.add(url, policy, login=login, name=login, roles=roles, by="t", password=PASSWORD)
    asked = reidentification.ask(
        url, policy, people.find(url, "kim"), "bike_trips", "v1_x", "court order 2026-7"
    )
    start = threading.Barrier(2)

    def decide(login: str, approve: bool):
        start.wait()
        try:
            return reidentification.decide(
                url, policy, people.find(url, login), asked.id, approve=approve, reason="no"
            )
        except reidentification.ReidentificationError as refused:
            return refused

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(decide, ["lee", "han"], [True, False]))
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert len(errors) == 1 and "decided already" in str(errors[0]), outcomes
    decided = {"reidentify_approve", "reidentify_refuse"}
    assert len([e for e in audit.entries(url) if e.action in decided]) == 1
