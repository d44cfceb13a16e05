"""The hub as a read-only NGSI-LD broker: FIWARE clients query the open sensor data by type,
id, attributes, distance and time, in pages, and every answer is audited."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from catalog.db import session_for
from catalog.models import AuditEntry, Provision
from hub.core.settings import HubSettings
from hub.lake import iceberg
from hub.steps.context import RunContext
from hub.steps.pipeline import run_pipeline
from hub.web.app import create_app

KST = ZoneInfo("Asia/Seoul")
FEED = "iot_air_sensors"
TYPE = "AirQualityObserved"
CORE = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"
ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"
#: the lake fixture ran the 04:50 window; the hub fixture adds 04:30 and 04:40
SLOTS = [datetime(2026, 11, 1, 4, m, tzinfo=KST) for m in (30, 40, 50)]
CENTRE = (126.978, 37.5665)  # Seoul City Hall


def _z(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _metres(lon: float, lat: float, lon0: float, lat0: float) -> float:
    p, p0 = math.radians(lat), math.radians(lat0)
    a = (
        math.sin((p - p0) / 2) ** 2
        + math.cos(p) * math.cos(p0) * math.sin(math.radians(lon - lon0) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))


@pytest.fixture
def hub(lake) -> tuple[HubSettings, list[dict[str, Any]]]:
    """The lake with two more ten-minute windows of the IoT sensors, and the open rows."""
    settings, _ = lake
    for n, start in enumerate(SLOTS[:2]):
        ctx = RunContext.create(
            FEED, start, start + timedelta(minutes=10), f"run-ngsi-{n}", settings=settings
        )
        run_pipeline(ctx)
    rows = iceberg.table_catalog(settings).load_table(("open", FEED)).scan().to_arrow().to_pylist()
    assert sorted({r["observed_at"] for r in rows}) == SLOTS
    return settings, rows


def _newest(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for row in sorted(rows, key=lambda r: r["observed_at"]):
        out[row["sensor_id"]] = row
    return out


def _problem(response, status: int, kind: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["type"] == ERRORS + kind and response.json()["title"], response.text


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_fiware_client_queries_current_state_and_history(hub):
    settings, rows = hub
    client = TestClient(create_app(settings))
    current = _newest(rows)
    served = 0

    def get(path: str, **params: Any):
        nonlocal served
        headers = params.pop("headers", {})
        response = client.get(f"/ngsi-ld/v1/{path}", params=params, headers=headers)
        served += response.status_code == 200
        return response

    # every sensor's current state, normalized, with the core context in a Link header
    everything = get("entities", type=TYPE, limit=1000, count="true")
    assert everything.status_code == 200, everything.text
    assert everything.headers["content-type"].startswith("application/json")
    assert f"<{CORE}>" in everything.headers["link"]
    assert everything.headers["NGSILD-Results-Count"] == str(len(current)) == "200"
    entities = {e["id"]: e for e in everything.json()}
    assert set(entities) == set(current)
    sample_id = sorted(current)[7]
    sample, row = entities[sample_id], current[sample_id]
    stamp = _z(SLOTS[-1])
    assert sample["type"] == TYPE
    assert sample["location"] == {
        "type": "GeoProperty",
        "observedAt": stamp,
        "value": {"type": "Point", "coordinates": [row["lon"], row["lat"]]},
    }
    assert sample["pm10"] == {
        "type": "Property",
        "value": row["pm10"],
        "observedAt": stamp,
        "unitCode": "GQ",
    }
    assert sample["temperature"]["unitCode"] == "CEL"
    assert sample["relativeHumidity"]["value"] == row["humidity"]
    assert sample["dateObserved"]["value"] == {"@type": "DateTime", "@value": stamp}
    assert sample["refDevice"] == {
        "type": "Relationship",
        "object": row["device"],
        "observedAt": stamp,
    }

    # attrs, ids, keyValues, JSON-LD, one entity
    two = sorted(current)[:2]
    picked = get("entities", id=",".join(two), attrs="pm10,refDevice").json()
    assert [e["id"] for e in picked] == two
    assert all(set(e) == {"id", "type", "pm10", "refDevice"} for e in picked)
    simple = get("entities", id=two[0], options="keyValues").json()[0]
    assert simple["pm10"] == current[two[0]]["pm10"]
    assert simple["location"] == {
        "type": "Point",
        "coordinates": [current[two[0]]["lon"], current[two[0]]["lat"]],
    }
    ld = get("entities", type=TYPE, limit=2, headers={"Accept": "application/ld+json"})
    assert ld.headers["content-type"].startswith("application/ld+json") and "link" not in ld.headers
    assert all(e["@context"] == CORE for e in ld.json())
    alone = get(f"entities/{sample_id}", attrs="pm25")
    assert alone.json() == {"id": sample_id, "type": TYPE, "pm25": sample["pm25"]}
    assert f"<{CORE}>" in alone.headers["link"]

    # q on the current state
    dirty = get("entities", type=TYPE, q="pm10>50;relativeHumidity<0.9", limit=1000, count="true")
    expected = {i for i, r in current.items() if r["pm10"] > 50 and r["humidity"] < 0.9}
    assert {e["id"] for e in dirty.json()} == expected and 0 < len(expected) < 200
    assert dirty.headers["NGSILD-Results-Count"] == str(len(expected))

    # near: only the sensors within 4 km, nearest first
    within = sorted((_metres(r["lon"], r["lat"], *CENTRE), i) for i, r in current.items())
    within = [i for d, i in within if d <= 4000]
    near = {
        "type": TYPE,
        "georel": "near;maxDistance==4000",
        "geometry": "Point",
        "coordinates": f"[{CENTRE[0]},{CENTRE[1]}]",
    }
    found = get("entities", **near, limit=1000, count="true")
    assert [e["id"] for e in found.json()] == within and 3 < len(within) < 100
    assert found.headers["NGSILD-Results-Count"] == str(len(within))
    assert [e["id"] for e in get("entities", **near, limit=3).json()] == within[:3]
    assert get(
        "entities", **{**near, "georel": "near;minDistance==4000"}, limit=1000, count="true"
    ).headers["NGSILD-Results-Count"] == str(200 - len(within))

    # pages cover every entity exactly once
    seen: list[str] = []
    for offset in range(0, 200, 37):
        page = get("entities", type=TYPE, limit=37, offset=offset, count="true")
        assert page.headers["NGSILD-Results-Count"] == "200"
        seen += [e["id"] for e in page.json()]
    assert len(seen) == 200 and set(seen) == set(current)
    assert get("entities", type=TYPE, offset=200).json() == []
    assert get("entities", type="WeatherObserved").json() == []

    # history: instances in the time range, oldest first; lastN; one entity's whole history
    between = {
        "timerel": "between",
        "timeAt": _z(SLOTS[1]),
        "endTimeAt": _z(SLOTS[-1] + timedelta(minutes=1)),
    }
    history = get("temporal/entities", type=TYPE, attrs="pm10", limit=1000, count="true", **between)
    assert history.status_code == 200 and history.headers["NGSILD-Results-Count"] == "200"
    by_id = {e["id"]: e for e in history.json()}
    expected_pm10 = [
        {
            "type": "Property",
            "value": r["pm10"],
            "observedAt": _z(r["observed_at"]),
            "unitCode": "GQ",
        }
        for r in sorted(rows, key=lambda r: r["observed_at"])
        if r["sensor_id"] == sample_id and r["observed_at"] >= SLOTS[1]
    ]
    assert by_id[sample_id] == {"id": sample_id, "type": TYPE, "pm10": expected_pm10}
    assert len(expected_pm10) == 2
    last = get("temporal/entities", id=sample_id, lastN=1, **between).json()[0]
    assert [i["observedAt"] for i in last["pm10"]] == [_z(SLOTS[-1])]
    before = get("temporal/entities", id=sample_id, timerel="before", timeAt=_z(SLOTS[1])).json()
    assert [i["observedAt"] for i in before[0]["temperature"]] == [_z(SLOTS[0])]
    whole = get(f"temporal/entities/{sample_id}", attrs="pm10,refDevice", options="temporalValues")
    assert whole.json()["pm10"] == {
        "type": "Property",
        "values": [
            [r["pm10"], _z(r["observed_at"])]
            for r in sorted(rows, key=lambda r: r["observed_at"])
            if r["sensor_id"] == sample_id
        ],
    }
    assert len(whole.json()["refDevice"]["objects"]) == 3
    nearby = get("temporal/entities", **near, limit=1000, **between).json()
    assert sorted(e["id"] for e in nearby) == sorted(within)

    # bad input: 400 ProblemDetails, never a 500; unknown entity 404
    answered = served
    geo = {"type": TYPE, "georel": "near;maxDistance==1000", "geometry": "Point"}
    bad_requests = 0
    for path, params in [
        ("entities", geo),  # no coordinates
        ("entities", {**geo, "coordinates": "[127.0]"}),
        ("entities", {**geo, "coordinates": "[500,37.5]"}),
        ("entities", {**geo, "coordinates": "[127,37.5]", "georel": "near;maxDistance==far"}),
        ("entities", {**geo, "coordinates": "[127,37.5]", "georel": "nearby"}),
        ("entities", {}),  # which entities?
        ("entities", {"type": TYPE, "limit": 5000}),
        ("entities", {"type": TYPE, "limit": 0}),
        ("entities", {"type": TYPE, "offset": -1}),
        ("entities", {"id": "not a uri"}),
        ("entities", {"type": TYPE, "q": "pm10>>3"}),
        ("entities", {"type": TYPE, "q": 'pm10>"high"'}),
        ("entities", {"type": TYPE, "options": "sideways"}),
        ("entities/not-a-uri", {}),
        ("temporal/entities", {"type": TYPE, "timerel": "sometime", "timeAt": _z(SLOTS[0])}),
        ("temporal/entities", {"type": TYPE, "timerel": "between", "timeAt": _z(SLOTS[0])}),
        ("temporal/entities", {"type": TYPE, "timerel": "after"}),
        ("temporal/entities", {"type": TYPE, "timerel": "after", "timeAt": "yesterday"}),
        ("temporal/entities", {"type": TYPE, "lastN": 0}),
    ]:
        _problem(get(path, **params), 400, "BadRequestData")
        bad_requests += 1
    _problem(
        get("entities", **{**geo, "coordinates": "[127,37.5]", "georel": "within"}),
        422,
        "OperationNotSupported",
    )
    bad_requests += 1
    _problem(get("entities/urn:ngsi-ld:AirQualityObserved:nowhere"), 404, "ResourceNotFound")
    _problem(
        get("temporal/entities/urn:ngsi-ld:AirQualityObserved:nowhere"), 404, "ResourceNotFound"
    )
    assert served == answered

    # every served answer is in the audit log and the provision register
    with session_for(settings.catalog_url) as session:
        pulls = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "api_pull", AuditEntry.target == FEED)
        ).all()
        misses = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "api_refused", AuditEntry.target == FEED)
        ).all()
        provided = session.scalars(select(Provision).where(Provision.channel == "ngsi-ld")).all()
        nowhere = session.scalars(select(AuditEntry).where(AuditEntry.target == "ngsi-ld")).all()
    answers = served - 1  # the WeatherObserved query touched no dataset ...
    assert len(pulls) == len(provided) == answers
    assert [e.action for e in nowhere].count("api_pull") == 1  # ... and is logged all the same
    assert [e.action for e in nowhere].count("api_refused") == bad_requests  # so is every 4xx
    assert all(p.actor == "anonymous" and '"ngsi_ld": "/ngsi-ld/v1/' in p.detail for p in pulls)
    assert max(p.rows for p in provided) == 400  # the history: 200 sensors x 2 instances
    assert {p.recipient for p in provided} == {"public"}
    assert len(misses) == 2 and all('"status": 404' in m.detail for m in misses)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_hubs_own_ngsi_ld_connector_reads_the_hub_over_http(lake):
    """The connector the hub uses for the city's broker, pointed at the hub: the hub answers
    it as the broker did, so the records it flattens are the open rows."""
    import pyarrow as pa

    from catalog import partners
    from connectors.base import FetchContext
    from connectors.ngsi_ld.connector import fetch, read
    from hub.core.delivery import Window
    from hub.core.errors import DeliveryError
    from hub.registry import load_registry
    from tests.support.fetching import fetch_all
    from tests.support.web import serving

    settings, _ = lake
    feed = load_registry(settings.feeds_dir)[FEED]
    rows = iceberg.table_catalog(settings).load_table(("open", FEED)).scan().to_arrow().to_pylist()
    with serving(create_app(settings)) as base:
        config = feed.delivery.config.model_copy(
            update={"url": f"{base}", "limit": 30, "max_attempts": 1}
        )
        ctx = FetchContext(
            feed_id="hub_mirror",
            window=Window(SLOTS[-1], SLOTS[-1] + timedelta(minutes=10)),
            timezone="Asia/Seoul",
        )
        parts = fetch_all(fetch, config, ctx)  # the feed's own q: dateObserved in the window
        got = pa.concat_tables([read(config, p.data, name=p.name) for p in parts]).to_pylist()
        assert len(parts) == 7 and len(got) == 200 == len({r["id"] for r in got})
        by_id = {r["id"]: r for r in got}
        for row in rows:
            record = by_id[row["sensor_id"]]
            assert datetime.fromisoformat(record["dateObserved"]) == row["observed_at"]
            assert (record["location_lon"], record["location_lat"]) == (row["lon"], row["lat"])
            assert (
                record["pm10"],
                record["pm25"],
                record["temperature"],
                record["relativeHumidity"],
                record["refDevice"],
            ) == (row["pm10"], row["pm25"], row["temperature"], row["humidity"], row["device"])
        earlier = Window(SLOTS[0], SLOTS[1])  # no sensor's current state is that old
        assert fetch_all(fetch, config, FetchContext("hub_mirror", earlier, "Asia/Seoul")) == []

        with pytest.raises(DeliveryError, match="BadRequestData"):
            fetch_all(fetch, config.model_copy(update={"q": "dateObserved>=soon"}), ctx)

    # keys: optional for public data, but a bad one is refused, and quotas hold
    client = TestClient(create_app(settings))
    url = settings.catalog_url
    partners.add_partner(url, "kma", "Korea Meteorological Administration")
    key = partners.issue_key(url, "kma", per_minute=2, per_day=100)
    ask = {"params": {"type": TYPE, "limit": 1}}
    unknown = client.get("/ngsi-ld/v1/entities", headers={"X-API-Key": "hubk_nope"}, **ask)
    assert unknown.status_code == 401 and "unknown API key" in unknown.json()["detail"]
    answers = [
        client.get("/ngsi-ld/v1/entities", headers={"X-API-Key": key}, **ask) for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert 1 <= int(answers[2].headers["Retry-After"]) <= 60 and answers[2].json()["title"]
    with session_for(url) as session:
        refused = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "api_refused", AuditEntry.target == FEED)
        ).all()
        pulls = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "api_pull", AuditEntry.target == FEED)
        ).all()
    assert len(refused) == 2 and {r.actor for r in refused} == {"anonymous", "kma"}
    assert [p.actor for p in pulls][-2:] == ["kma", "kma"]
