"""The semi-annual inspection over six months of the demo's personal-data feeds (May to October
2026: childcare applications with names and RRNs, police incident files, bike rentals), with the
provision requests, partner pulls, re-identifications and a revoked grant a half year brings.
The report lists every provision decision, destruction and re-identification with who decided
it, and its totals are the registers' own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from catalog import partners, provisioning
from catalog.db import session_for
from catalog.inspection import inspect
from catalog.models import DestructionRecord, ProcessingRecord, Provision
from hub.cli import app
from hub.lake.objectstore import ObjectStore
from hub.registry.roles import load_roles
from hub.steps.context import RunContext
from hub.steps.pipeline import run_pipeline
from hub.web.app import create_app
from simulators import drops
from tests.privacy.test_protect_pipeline import run_bikes, tokens_by_member
from tests.support.staff import CLI_ENV, accounts, signed_in

KST = ZoneInfo("Asia/Seoul")
MONTHS = [datetime(2026, m, 1, tzinfo=KST) for m in range(5, 12)]  # May .. November 1st
CRIMES = "women_crime_incidents"
CRIME_COLUMNS = ["case_no", "gu_code", "occurred_at", "offence_type", "victim_age_band"]
LAW = "Police Duties Act art. 2"


def _month(settings, start: datetime, end: datetime, n: int) -> None:
    """One month of the demo's monthly personal-data feeds, delivered and run."""
    store = ObjectStore(settings)
    for key, data in {
        **drops.childcare_capacity(start, seed=n),
        **drops.DROPS[CRIMES](start, n),
    }.items():
        store.put("inbox", key, data)
    for feed in ("childcare_capacity", "childcare_applications", CRIMES):
        run_pipeline(RunContext.create(feed, start, end, f"m{n}", settings=settings))


def _vault(login: str, *args: str):
    return CliRunner(env=CLI_ENV).invoke(app, ["vault", *args, "--as", login])


@pytest.mark.timeout(900)
@pytest.mark.parametrize("backend", ["postgres"])
def test_a_half_years_inspection_lists_every_decision_and_matches_the_registers(hub_settings):
    url, policy = hub_settings.catalog_url, load_roles(hub_settings.roles_file)
    for agency, name in (("seoul-police", "Seoul Police"), ("gunpo-city", "Gunpo City")):
        partners.add_partner(url, agency, name)
    who = accounts(
        hub_settings,
        ("kim", "pd_handler", None),
        ("lee", "protection_officer", None),
        ("han", "pd_manager", None),
        ("aud", "auditor", None),
        ("park", "partner", "seoul-police"),
        ("choi", "partner", "gunpo-city"),
    )
    key = partners.issue_key(url, "seoul-police")
    web = TestClient(create_app(hub_settings))
    # the day before the half year: on the registers, outside the report
    run_bikes(hub_settings, MONTHS[0] - timedelta(days=1), "bikes-before")
    began = datetime.now(UTC)

    def ask(person: str, columns: list[str], basis: str = LAW) -> int:
        return provisioning.file(
            url,
            policy,
            who[person],
            dataset_id=CRIMES,
            purpose="crime-prevention patrols",
            legal_basis=basis,
            columns=columns,
            until=datetime.now(UTC) + timedelta(days=180),
            available=CRIME_COLUMNS,
        ).id

    def pull() -> int:
        got = web.get(
            f"/api/v1/datasets/{CRIMES}/records",
            headers={"X-API-Key": key},
            params={"purpose": "crime-prevention patrols", "limit": 50},
        )
        return got.status_code

    tokens: list[str] = []
    decided: dict[int, tuple[str, str]] = {}  # request -> (status, decided by)
    for n, (start, end) in enumerate(pairwise(MONTHS), 1):
        _month(hub_settings, start, end, n)
        if n in (1, 4):  # a day of bike rentals: member ids tokenized, raw files destroyed
            sent = run_bikes(hub_settings, start, f"bikes-{n}")
            tokens += [
                sorted(t)[0] for t in list(tokens_by_member(hub_settings, sent).values())[:1]
            ]
        if n == 1:  # the police ask; the personal-data manager narrows it to two columns
            asked = ask("park", ["case_no", "offence_type", "occurred_at"])
            provisioning.decide(
                url, policy, who["han"], asked, approve=True, columns=["case_no", "offence_type"]
            )
            decided[asked] = ("narrowed", "han")
        if n == 2:  # a neighbouring city without a basis in law is refused
            asked = ask("choi", ["gu_code"], basis="none given")
            reason = "no legal basis for a city"
            provisioning.decide(url, policy, who["lee"], asked, approve=False, reason=reason)
            decided[asked] = ("refused", "lee")
        if n in (2, 3, 4, 5):
            assert pull() == 200  # each month's patrol planning
        if n == 5:  # a court order: a handler asks, the protection officer approves, used once
            assert (
                _vault(
                    "kim", "request", "bike_trips", tokens[0], "--reason", "court order 2026-88"
                ).exit_code
                == 0
            )
            assert _vault("lee", "decide", "1").exit_code == 0
            assert _vault("kim", "resolve", "1").exit_code == 0
            assert (
                _vault(
                    "kim", "request", "bike_trips", tokens[1], "--reason", "a journalist asked"
                ).exit_code
                == 0
            )
            refused = _vault("han", "decide", "2", "--refuse", "--reason", "no legal basis")
            assert refused.exit_code == 0, refused.output
        if n == 6:  # the programme ends; a pull after the revocation is refused and noticed
            grant = next(g for g in _grants(url) if g.partner_id == "seoul-police")
            provisioning.revoke(url, policy, who["han"], grant.id, "patrol programme ended")
            assert pull() == 403
    report = inspect(url, began, datetime.now(UTC) + timedelta(seconds=1))

    with session_for(url) as session:
        dated = {
            ProcessingRecord: ProcessingRecord.recorded_at,
            Provision: Provision.provided_at,
            DestructionRecord: DestructionRecord.destroyed_at,
        }
        counts = {
            m: session.scalar(select(func.count()).select_from(m).where(at >= began))
            for m, at in dated.items()
        }
        ever = {m: session.scalar(select(func.count()).select_from(m)) for m in dated}
        provided = {
            (r, d, c): (int(n), int(rows))
            for r, d, c, n, rows in session.execute(
                select(
                    Provision.recipient,
                    Provision.dataset_id,
                    Provision.channel,
                    func.count(),
                    func.sum(Provision.rows),
                )
                .where(Provision.provided_at >= began)
                .group_by(Provision.recipient, Provision.dataset_id, Provision.channel)
            )
        }
        destroyed = set(
            session.scalars(
                select(DestructionRecord.dataset_id).where(DestructionRecord.destroyed_at >= began)
            )
        )
    totals = report.totals
    # the day before the half year is on the registers and not in the report
    assert ever[ProcessingRecord] > counts[ProcessingRecord]
    assert ever[DestructionRecord] > counts[DestructionRecord]
    assert totals["processing_records"] == counts[ProcessingRecord] > 0
    assert totals["objects_destroyed"] == counts[DestructionRecord] > 0
    assert totals["provision_records"] == counts[Provision] >= 4
    assert report.provisions == provided  # every provision, by recipient, dataset and channel
    assert ("seoul-police", CRIMES, "api") in provided
    # the raw files with names, RRNs and member ids were destroyed after protection, each month
    assert {"childcare_applications", "bike_trips"} <= {d for d, _ in report.destructions}
    assert {d for d, _ in report.destructions} == destroyed
    assert {r.id: (r.status, r.decided_by) for r in report.decisions} == decided
    assert [(q.status, q.decided_by) for q in report.reidentifications] == [
        ("used", "lee"),
        ("refused", "han"),
    ]
    kinds = {a[0] for a in report.anomalies}
    assert {"provision refused", "re-identification refused", "grant used after it ended"} <= kinds

    page = signed_in(hub_settings, "aud").get(
        "/audit/inspection",
        params={"lang": "ko", "since": began.isoformat(), "until": datetime.now(UTC).isoformat()},
    )
    assert page.status_code == 200
    for text in ("court order 2026-88", "a journalist asked", "no legal basis for a city"):
        assert text in page.text
    for approver in ("han", "lee"):
        assert f"<td>{approver}</td>" in page.text


def _grants(url: str) -> list:
    from catalog.models import Grant

    with session_for(url) as session:
        return list(session.scalars(select(Grant)))
