"""The semi-annual personal-data inspection report: made from the registers and the audit log
of a published day, a refused provision request and an approved re-identification; its totals
are the registers' own, and the auditor's page names every approver and anomaly."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from catalog import entries, partners, provisioning, reidentification
from catalog.db import session_for
from catalog.inspection import inspect
from catalog.models import DestructionRecord, ProcessingRecord, Provision, Release
from hub.registry.roles import load_roles
from tests.privacy.test_protect_pipeline import DAY1, run_bikes
from tests.support.staff import accounts, signed_in


@pytest.mark.parametrize("backend", ["postgres"])
def test_the_inspection_report_matches_the_registers_and_names_every_approver(hub_settings):
    url, policy = hub_settings.catalog_url, load_roles(hub_settings.roles_file)
    partners.add_partner(url, "gunpo-city", "Gunpo City")
    who = accounts(
        hub_settings,
        ("kim", "pd_handler", None),
        ("lee", "protection_officer", None),
        ("han", "pd_manager", None),
        ("aud", "auditor", None),
        ("op", "operator", None),
        ("choi", "partner", "gunpo-city"),
    )
    began = datetime.now(UTC) - timedelta(minutes=1)
    run_bikes(hub_settings, DAY1, "run-1", trips=20_000)
    asked = provisioning.file(
        url,
        policy,
        who["choi"],
        dataset_id="women_crime_incidents",
        purpose="city planning",
        legal_basis="none given",
        columns=["gu_code"],
        until=datetime.now(UTC) + timedelta(days=9),
        available=["case_no", "gu_code"],
    )
    provisioning.decide(url, policy, who["han"], asked.id, approve=False, reason="no legal basis")
    q = reidentification.ask(url, policy, who["kim"], "bike_trips", "v1_x", "court order 2026-123")
    reidentification.decide(url, policy, who["lee"], q.id, approve=True)
    reidentification.claim(url, policy, who["kim"], q.id)

    report = inspect(url, began, datetime.now(UTC) + timedelta(minutes=1))
    with session_for(url) as session:
        count = {
            m: session.scalar(select(func.count()).select_from(m))
            for m in (ProcessingRecord, Provision, DestructionRecord)
        }
        rows = session.scalar(select(func.sum(Provision.rows)))
    totals = report.totals
    assert totals["processing_records"] == count[ProcessingRecord] > 0
    assert totals["provision_records"] == count[Provision] > 0
    assert totals["rows_provided"] == rows
    assert totals["objects_destroyed"] == count[DestructionRecord] > 0
    assert totals["reidentifications_used"] == 1
    assert ("provision refused", "gunpo-city", "women_crime_incidents: no legal basis") in [
        a[:3] for a in report.anomalies
    ]

    assert signed_in(hub_settings, "op").get("/audit/inspection").status_code == 403
    # the dataset as the auditor reviews it: lineage drawn and each release's report
    review = signed_in(hub_settings, "aud").get("/audit/datasets/bike_trips?lang=en")
    releases = entries.listing(url, Release, "bike_trips")
    assert review.status_code == 200 and "<svg" in review.text and releases
    first_line = releases[-1].report_en.splitlines()[0]
    assert html.escape(first_line) in review.text
    page = signed_in(hub_settings, "aud").get(
        "/audit/inspection",
        params={"lang": "en", "since": began.isoformat(), "until": datetime.now(UTC).isoformat()},
    )
    assert page.status_code == 200 and "Personal-data inspection report" in page.text
    assert "court order 2026-123" in page.text and "<td>lee</td>" in page.text
    assert "no legal basis" in page.text and "<td>han</td>" in page.text
