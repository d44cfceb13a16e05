"""The auditor's workspace on the web: only ``audit.read`` opens it, every refusal is itself in
the log, the filters narrow it, the CSV is safe to open, and an edited chain shows on screen."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import text

from catalog import audit
from catalog.db import engine_for
from catalog.models import Provision
from hub.web.app import create_app
from tests.support.staff import account, signed_in


def _staff(settings, login: str, role: str) -> TestClient:
    account(settings, login, role)
    return signed_in(settings, login)


def test_only_an_auditor_reads_the_log_and_refusals_are_logged(hub_settings):
    url = hub_settings.catalog_url
    audit.record(url, "partner_add", "seoul-police", purpose="partner registration", who="ada")
    audit.record(url, "release", "open.bike_trips", purpose="open data", who="pipeline")
    anonymous = TestClient(create_app(hub_settings), follow_redirects=False)
    assert anonymous.get("/audit").headers["location"] == "/login?lang=ko"
    operator = _staff(hub_settings, "op", "operator")
    assert operator.get("/audit").status_code == 403
    assert operator.get("/audit.csv").status_code == 403
    refused = audit.entries(url, action="access_refused")
    assert [(e.actor, e.target) for e in refused] == [
        ("op", "/audit.csv"),
        ("op", "/audit"),
        ("anonymous", "/audit"),
    ]

    auditor = _staff(hub_settings, "lee", "auditor")
    page = auditor.get("/audit?lang=en")
    assert page.status_code == 200 and "Chain verified: intact" in page.text
    assert "seoul-police" in page.text and "open.bike_trips" in page.text
    narrowed = auditor.get("/audit", params={"lang": "en", "actor": "ada"}).text
    assert "seoul-police" in narrowed and "open.bike_trips" not in narrowed
    by_dataset = auditor.get("/audit", params={"target": "bike_trips"}).text
    assert "open.bike_trips" in by_dataset and "seoul-police" not in by_dataset
    assert "감사 기록" in auditor.get("/audit").text


def test_the_csv_opens_safely_and_an_edited_chain_shows(hub_settings):
    url = hub_settings.catalog_url
    audit.record(url, "data_request", '=HYPERLINK("http://evil")', purpose="citizen", who="x")
    auditor = _staff(hub_settings, "lee", "auditor")
    got = auditor.get("/audit.csv", params={"action": "data_request"})
    assert got.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert [r["target"] for r in rows] == ['\'=HYPERLINK("http://evil")']

    first = audit.entries(url, action="data_request")[0]
    with engine_for(url).begin() as conn:  # someone changes what was asked
        conn.execute(text("UPDATE hub_audit_log SET target = 'x' WHERE id = :i"), {"i": first.id})
    page = auditor.get("/audit?lang=en").text
    assert f"broken at entry {first.id}" in page


def test_the_registers_are_listed_and_exported_for_their_readers(hub_settings):
    url = hub_settings.catalog_url
    rows = [
        Provision(
            dataset_id="bike_trips",
            snapshot_id=7,
            recipient=r,
            channel="api",
            purpose="patrols",
            legal_basis="art. 2",
            rows=n,
            client_address="10.0.0.1",
            provided_at=datetime.now(UTC),
        )
        for r, n in (("seoul-police", 40), ("public", 9))
    ]
    audit.record(url, "api_pull", "bike_trips", purpose="patrols", who="seoul-police", rows=rows)
    operator = _staff(hub_settings, "op", "operator")
    assert operator.get("/audit/registers/provision").status_code == 403
    officer = _staff(hub_settings, "lee", "protection_officer")
    page = officer.get("/audit/registers/provision?lang=en")
    assert page.status_code == 200 and "seoul-police" in page.text and "10.0.0.1" in page.text
    got = officer.get("/audit/registers/provision", params={"format": "csv"})
    listed = list(csv.DictReader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert sorted((r["recipient"], r["rows"]) for r in listed) == [
        ("public", "9"),
        ("seoul-police", "40"),
    ]
    assert officer.get("/audit/registers/nothing").status_code == 422
