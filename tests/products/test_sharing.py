"""Partner access to records: the authorization matrix of partner x dataset class x grant
state. Only the allowed cases return rows, and every answer, allowed or refused, is audited."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

from catalog import partners
from catalog.db import session_for
from catalog.models import AuditEntry, Provision
from hub.web.app import create_app

PAST = datetime.now(UTC) - timedelta(days=1)
FUTURE = datetime.now(UTC) + timedelta(days=30)
CRIMES = "women_crime_incidents"  # restricted
GRANTED = ["case_no", "offence_type", "occurred_at"]


@pytest.fixture
def hub(lake, tmp_path):
    """The web app over the lake, with door_sensor_installs re-classed non-public, and partners
    whose keys and grants are in every state."""
    settings, _ = lake
    feeds = tmp_path / "feeds"
    shutil.copytree(settings.feeds_dir, feeds)
    path = feeds / "door_sensor_installs.yaml"
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    spec["access_class"] = "non-public"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    settings = settings.model_copy(update={"feeds_dir": feeds})
    url = settings.catalog_url

    def partner(name: str, *, key_days: int = 30) -> str:
        partners.add_partner(url, name, f"{name} agency")
        return partners.issue_key(url, name, timedelta(days=key_days))

    keys = {
        "valid": partner("police"),
        "expired_grant": partner("fire"),
        "revoked_grant": partner("gangnam"),
        "no_grant": partner("suwon"),
        "expired_key": partner("incheon", key_days=-1),
        "revoked_key": partner("busan"),
    }
    for who, until in (
        ("police", FUTURE),
        ("fire", PAST),
        ("gangnam", FUTURE),
        ("incheon", FUTURE),
        ("busan", FUTURE),
    ):
        grant = partners.add_grant(
            url,
            who,
            CRIMES,
            purpose="crime-prevention patrols",
            legal_basis="Police Duties Act art. 2",
            columns=GRANTED,
            valid_until=until,
        )
        if who == "gangnam":
            partners.revoke_grant(url, grant.id)
    partners.revoke_key(url, keys["revoked_key"][:12])
    return TestClient(create_app(settings)), keys, settings


def _get(client, dataset, key=None, **params):
    headers = {"X-API-Key": key} if key else {}
    return client.get(f"/api/v1/datasets/{dataset}/records", headers=headers, params=params)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_only_the_allowed_cases_return_rows_and_every_answer_is_audited(hub):
    client, keys, settings = hub
    purpose = {"purpose": "crime-prevention patrols"}
    cases = [  # (what, dataset, key, params, expected status)
        ("restricted, valid grant", CRIMES, keys["valid"], purpose, 200),
        ("restricted, no key", CRIMES, None, purpose, 401),
        ("restricted, no grant", CRIMES, keys["no_grant"], purpose, 403),
        ("restricted, expired grant", CRIMES, keys["expired_grant"], purpose, 403),
        ("restricted, revoked grant", CRIMES, keys["revoked_grant"], purpose, 403),
        ("restricted, wrong purpose", CRIMES, keys["valid"], {"purpose": "marketing"}, 403),
        (
            "restricted, column outside the grant",
            CRIMES,
            keys["valid"],
            {**purpose, "columns": "case_no,victim_age"},
            403,
        ),
        (
            "restricted, filter on a column outside the grant",
            CRIMES,
            keys["valid"],
            {**purpose, "victim_age": "30"},
            400,
        ),
        (
            "restricted, time range on a column not served",
            CRIMES,
            keys["valid"],
            {**purpose, "columns": "case_no", "from": "2026-10-01T00:00:00+09:00"},
            400,
        ),
        ("restricted, expired key", CRIMES, keys["expired_key"], purpose, 401),
        ("restricted, revoked key", CRIMES, keys["revoked_key"], purpose, 401),
        ("restricted, unknown key", CRIMES, "hubk_not-a-key", purpose, 401),
        ("public, no key", "street_segments", None, {}, 200),
        ("public, key without grant", "street_segments", keys["no_grant"], {}, 200),
        ("non-public, valid key", "door_sensor_installs", keys["valid"], purpose, 403),
        ("non-public, no key", "door_sensor_installs", None, {}, 403),
    ]
    for what, dataset, key, params, status in cases:
        response = _get(client, dataset, key, **params)
        assert response.status_code == status, (what, response.text)
        if status == 200:
            assert response.json()["rows"] > 0, what
        else:
            assert "items" not in response.json(), what

    granted = _get(client, CRIMES, keys["valid"], **purpose).json()
    assert set(granted["items"][0]) == set(GRANTED)  # only the granted columns leave
    csv = _get(client, "street_segments", None, format="csv")
    assert csv.content.startswith(b"\xef\xbb\xbf") and "segment_id" in csv.text

    with session_for(settings.catalog_url) as session:
        answers = list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action.in_(["api_pull", "api_refused"]))
                .order_by(AuditEntry.id)
            )
        )
        provided = list(session.scalars(select(Provision).where(Provision.channel == "api")))
    assert len(answers) == len(cases) + 2  # every answer, served or refused
    assert [a.action == "api_pull" for a in answers[: len(cases)]] == [c[4] == 200 for c in cases]
    assert {a.actor for a in answers} >= {"police", "anonymous", "suwon"}
    assert sorted(p.recipient for p in provided) == [
        "police",
        "police",
        "public",
        "public",
        "suwon",
    ]
    # a grant gives rows through /records, never the whole file of a restricted dataset
    download = client.get(
        f"/api/v1/datasets/{CRIMES}/files/csv", headers={"X-API-Key": keys["valid"]}
    )
    assert download.status_code == 403 and download.headers["content-type"] == "application/json"


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_national_portal_client_reads_a_dataset_page_by_page(hub):
    """The hub's own data.go.kr client (the http_api connector), pointed at the hub over HTTP,
    knowing nothing but the URL and its key."""
    import pyarrow as pa

    from connectors.base import FetchContext
    from connectors.http_api.config import HttpApiConfig
    from connectors.http_api.connector import fetch, read
    from hub.core.delivery import Window
    from hub.core.errors import DeliveryError
    from tests.support.fetching import fetch_all
    from tests.support.web import serving

    _, keys, settings = hub
    with serving(create_app(settings)) as base:
        ctx = FetchContext(feed_id="portal_client", window=Window(PAST, FUTURE), timezone="UTC")
        config = HttpApiConfig(
            url=f"{base}/api/v1/portal/street_segments",
            service_key=keys["no_grant"],
            page_size=7,
            max_attempts=1,
        )
        parts = fetch_all(fetch, config, ctx)
        rows = pa.concat_tables([read(config, p.data, name=p.name) for p in parts])
        assert len(parts) == 9 and rows.num_rows == 60  # 60 segments, 7 a page
        assert len(set(rows.column("segment_id").to_pylist())) == 60

        refused = config.model_copy(
            update={
                "url": f"{base}/api/v1/portal/{CRIMES}",
                "service_key": "hubk_x",
            }
        )
        with pytest.raises(DeliveryError, match="SERVICE_KEY_IS_NOT_REGISTERED_ERROR"):
            fetch_all(fetch, refused, ctx)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_key_over_its_quota_gets_429_with_retry_after(lake):
    settings, _ = lake
    url = settings.catalog_url
    partners.add_partner(url, "seoul-fire", "Seoul fire HQ")
    key = partners.issue_key(url, "seoul-fire", per_minute=3, per_day=100)
    client = TestClient(create_app(settings))
    answers = [_get(client, "street_segments", key, limit=1) for _ in range(4)]
    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    assert answers[3].status_code == 429 and 1 <= int(answers[3].headers["Retry-After"]) <= 60
    assert "quota" in answers[3].json()["detail"]
    page = client.get("/api/v1/portal/street_segments", params={"serviceKey": key})
    assert page.json()["response"]["header"]["resultCode"] == "22"  # the portal's quota code
    with session_for(url) as session:
        refused = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "api_refused", AuditEntry.actor == "seoul-fire"
            )
        ).all()
    assert len(refused) == 2
