"""The open data map and catalog endpoints, served by the web app over the real catalog."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from hub.web.app import create_app


@pytest.fixture
def client(lake):
    settings, _ = lake
    return TestClient(create_app(settings))


@pytest.mark.parametrize("backend", ["sqlite"])
def test_map_lists_every_dataset_by_department_in_korean_and_english(client):
    ko = client.get("/")
    assert ko.status_code == 200 and 'lang="ko"' in ko.text
    assert "서울시 데이터 맵" in ko.text and "도시교통실 자전거정책과" in ko.text
    for dataset in ("bike_trips", "women_crime_incidents", "street_safety", "air_quality_by_gu"):
        assert f'href="/datasets/{dataset}?lang=ko"' in ko.text
    en = client.get("/?lang=en")
    assert "Seoul data map" in en.text and "Transport HQ, Bicycle Policy Division" in en.text
    listing = {d["id"]: d for d in client.get("/api/v1/datasets").json()}
    assert listing["bike_trips"]["latest_version"] and listing["bike_trips"]["fresh"] is not None
    assert listing["bike_trips"]["quality_score"] > 0
    assert {d["id"] for d in client.get("/api/v1/datasets?q=따릉이").json()} == {
        "bike_trips",
        "bike_demand",
    }  # the feed and the product built from it


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_restricted_dataset_shows_its_metadata_and_no_rows(client):
    page = client.get("/datasets/women_crime_incidents?lang=en")
    assert page.status_code == 200
    assert "Metadata only" in page.text and "case_no" in page.text and "token" in page.text
    meta = client.get("/api/v1/datasets/women_crime_incidents").json()
    assert meta["access_class"] == "restricted" and "records" not in meta
    assert client.get("/api/v1/datasets/nope").status_code == 404


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_product_page_draws_its_lineage_back_to_the_agencies(client, lake):
    settings, _ = lake
    page = client.get("/datasets/street_safety?lang=en").text
    assert "<svg" in page and 'aria-label="lineage graph"' in page
    assert 'aria-label="데이터 흐름 그래프"' in client.get("/datasets/street_safety").text
    for feed in (
        "women_crime_incidents",
        "night_floating_population",
        "door_sensor_installs",
        "street_segments",
    ):
        assert f">trusted.{feed}<" in page and f">raw.{feed}<" in page
    lineage = client.get("/api/v1/datasets/street_safety/lineage").json()
    trusted = f"s3://{settings.bucket('trusted')}"
    assert lineage["upstream"][f"{trusted}/street_segments"] == 1
    assert [f"{trusted}/street_segments", f"{trusted}/street_safety"] in lineage["edges"]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_harvesters_get_dcat_ap_json_ld(client):
    response = client.get("/catalog.jsonld")
    assert response.headers["content-type"].startswith("application/ld+json")
    types = {
        n["@type"] if isinstance(n["@type"], str) else "agent" for n in response.json()["@graph"]
    }
    assert {"dcat:Catalog", "dcat:Dataset", "dcat:Distribution"} <= types


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_citizens_data_request_from_the_map_lands_in_the_catalog(hub_settings):
    from sqlalchemy import select

    from catalog.db import session_for
    from catalog.models import AuditEntry

    client = TestClient(create_app(hub_settings))
    form = client.get("/?lang=en").text
    assert '<form method="post" action="/requests?lang=en">' in form
    sent = client.post(
        "/requests?lang=en",
        data={
            "title": "구별 공공 와이파이 접속량",
            "description": "For a study of digital access.",
            "dataset_id": "",
            "contact": "citizen@example.kr",
        },
    )
    assert sent.status_code == 200 and "Request number: <b>1</b>" in sent.text
    about = client.post(
        "/api/v1/requests",
        json={
            "title": "More years",
            "description": "2015- (call 010-2345-6789)",
            "dataset_id": "bike_trips",
        },
    )
    assert about.status_code == 201 and about.json()["id"] == 2
    listed = client.get("/api/v1/requests").json()
    assert [(r["title"], r["dataset_id"], r["status"]) for r in listed] == [
        ("구별 공공 와이파이 접속량", None, "received"),
        ("More years", "bike_trips", "received"),
    ]
    assert "citizen@example.kr" not in client.get("/api/v1/requests").text  # contacts stay inside
    assert listed[1]["description"] == "2015- (call <phone>)"  # and personal data in free text
    assert (
        client.post(
            "/api/v1/requests", json={"title": "x", "description": "y", "dataset_id": "nope"}
        ).status_code
        == 404
    )
    assert client.post("/requests", data={"title": "", "description": "y"}).status_code == 422
    with session_for(hub_settings.catalog_url) as session:
        logged = session.scalars(
            select(AuditEntry.target).where(AuditEntry.action == "data_request")
        )
        assert list(logged) == ["catalog", "bike_trips"]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_one_address_files_a_few_data_requests_an_hour_not_a_flood(hub_settings):
    from hub.web.routes.requests import PER_ADDRESS_PER_HOUR

    client = TestClient(create_app(hub_settings))
    ask = {"title": "bus stops", "description": "every stop with its shelter"}
    codes = [
        client.post("/api/v1/requests", json=ask).status_code
        for _ in range(PER_ADDRESS_PER_HOUR + 2)
    ]
    assert codes == [201] * PER_ADDRESS_PER_HOUR + [429, 429]
    refused = client.post("/requests", data=ask)
    assert refused.status_code == 429 and 0 < int(refused.headers["retry-after"]) <= 3600
    assert len(client.get("/api/v1/requests").json()) == PER_ADDRESS_PER_HOUR


@pytest.mark.parametrize("backend", ["sqlite"])
def test_an_address_without_a_key_is_slowed_past_its_rate(hub_settings):
    settings = hub_settings.model_copy(update={"web_rate_per_minute": 5})
    client = TestClient(create_app(settings))
    codes = [client.get("/api/v1/datasets").status_code for _ in range(7)]
    assert codes == [200] * 5 + [429, 429]
    slowed = client.get("/catalog.jsonld")
    assert slowed.status_code == 429 and 0 < int(slowed.headers["retry-after"]) <= 12
    assert slowed.headers["x-content-type-options"] == "nosniff"
    # a partner's request carries a key: its own quota decides, not the address's
    keyed = client.get("/api/v1/datasets/bike_trips/records", headers={"X-API-Key": "hubk_x"})
    assert keyed.status_code == 401
    other = TestClient(create_app(settings), client=("10.1.2.3", 5000))
    assert other.get("/api/v1/datasets").status_code == 200  # another address is not slowed


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_dataset_page_previews_the_rows_a_download_holds_and_registers_them(client, lake):
    from catalog import audit

    settings, _ = lake
    first = client.get("/api/v1/datasets/air_quality_hourly/records?limit=10").json()
    page = client.get("/datasets/air_quality_hourly?lang=en").text
    for row in first["items"]:  # each previewed row, in the records API's order
        assert "".join(f"<td>{v}</td>" for v in row.values()) in page
    assert "PM10 concentration" in page and "(µg/m³)" in page  # columns with their units
    assert "curl &#39;http://testserver/api/v1/datasets/air_quality_hourly/records" in page
    assert "fromJSON(" in page and "httpx.get(" in page
    pulled = audit.entries(settings.catalog_url, action="api_pull", target="air_quality_hourly")
    detail = json.loads(pulled[0].detail)
    assert detail["format"] == "html" and detail["rows"] == 10
    # a restricted dataset's page reads no row, and says how a granted agency calls the API
    before = len(audit.entries(settings.catalog_url, target="women_crime_incidents", limit=None))
    restricted = client.get("/datasets/women_crime_incidents?lang=en").text
    assert 'class="preview"' not in restricted and "X-API-Key" in restricted
    assert (
        len(audit.entries(settings.catalog_url, target="women_crime_incidents", limit=None))
        == before
    )


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_preview_filters_as_the_records_api_does_and_says_what_it_refuses(client):
    gu = client.get("/api/v1/datasets/air_quality_hourly/records?limit=1").json()["items"][0]
    api = client.get(f"/api/v1/datasets/air_quality_hourly/records?gu_code={gu['gu_code']}")
    expected = api.json()["items"][:10]
    page = client.get(
        "/datasets/air_quality_hourly",
        params={"lang": "en", "filter_column": "gu_code", "filter_value": gu["gu_code"]},
    )
    assert page.status_code == 200
    shown = re.findall(
        r"<tr>(<td>.*?)</tr>", page.text.split('class="preview"')[1].split("</table>")[0]
    )
    assert len(shown) == len(expected)
    for row in expected:
        assert "".join(f"<td>{v}</td>" for v in row.values()) in page.text
    # the developer's link asks the API for the same rows
    assert f"/records?gu_code={gu['gu_code']}&amp;limit=100" in page.text
    # a day with no rows, and a filter on a column the dataset does not have
    empty = client.get(
        "/datasets/air_quality_hourly",
        params={"lang": "en", "from": "2001-01-01", "to": "2001-01-02"},
    )
    assert empty.status_code == 200 and "No rows match these filters." in empty.text
    bad = client.get(
        "/datasets/air_quality_hourly",
        params={"lang": "en", "filter_column": "nope", "filter_value": "1"},
    )
    assert bad.status_code == 400 and "no served column to filter by: nope" in bad.text


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_day_filter_takes_the_whole_city_day_and_the_api_link_asks_for_the_same(client):
    from datetime import datetime, time, timedelta
    from urllib.parse import quote_plus
    from zoneinfo import ZoneInfo

    kst = ZoneInfo("Asia/Seoul")
    first = client.get("/api/v1/datasets/air_quality_hourly/records?limit=1").json()["items"][0]
    day = datetime.fromisoformat(first["measured_at"]).astimezone(kst).date()
    start = datetime.combine(day, time(), kst)
    wanted = {"from": start.isoformat(), "to": (start + timedelta(days=1)).isoformat()}
    expected = client.get(
        "/api/v1/datasets/air_quality_hourly/records", params={**wanted, "limit": 10}
    ).json()["items"]
    assert expected  # the lake's hour is in that KST day (not in that UTC day)
    page = client.get(
        "/datasets/air_quality_hourly",
        params={"lang": "en", "from": day.isoformat(), "to": day.isoformat()},  # one whole day
    )
    assert page.status_code == 200
    for row in expected:
        assert "".join(f"<td>{v}</td>" for v in row.values()) in page.text
    link = f"from={quote_plus(wanted['from'])}&amp;to={quote_plus(wanted['to'])}"
    assert link in page.text  # the developer's call asks for the same KST day
    # the filter offers the columns the open release serves, not those it withholds
    requests = client.get("/datasets/service_requests?lang=en").text
    assert "<option>category</option>" in requests
    assert (
        "<option>text</option>" not in requests and "<option>resolved_at</option>" not in requests
    )


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_chart_and_the_map_read_back_from_the_newest_reading(client):
    from datetime import datetime, timedelta
    from html import unescape
    from urllib.parse import parse_qs, urlsplit

    rows = client.get("/api/v1/datasets/air_quality_hourly/records?limit=10000").json()["items"]
    newest = max(datetime.fromisoformat(r["measured_at"]) for r in rows)
    page = client.get("/datasets/air_quality_hourly?lang=en").text
    for box, back in (("chart", timedelta(days=7)), ("map", timedelta(days=1))):
        src = unescape(re.search(rf'id="{box}"[^>]*?data-src="([^"]+)"', page, re.S)[1])
        start = parse_qs(urlsplit(src).query)["from"][0]
        assert datetime.fromisoformat(start) == newest - back, box
        drawn = client.get(src).json()["items"]  # what the browser draws from
        assert drawn and {r["measured_at"] for r in drawn} <= {r["measured_at"] for r in rows}
