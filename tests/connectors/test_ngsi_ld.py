"""The NGSI-LD connector against the simulated city IoT broker."""

from __future__ import annotations

import pytest

from connectors.ngsi_ld.connector import fetch, flatten, read
from hub.core.delivery import RawPart
from hub.core.errors import DeliveryError, TransientDeliveryError
from simulators.agency_api import Fault
from tests.support.fetching import feed_and_context, fetch_all, quick

FEED, CTX = feed_and_context(
    "iot_air_sensors", "2026-11-01T13:00:00+09:00", "2026-11-01T13:10:00+09:00"
)


def _config(**changes):
    return quick(FEED, **changes)


def _fetch(config) -> list[RawPart]:
    return fetch_all(fetch, config, CTX)


def test_pages_by_offset_until_the_results_count(agency_api):
    parts = _fetch(_config(limit=30))
    assert len(parts) == 7
    rows = [r for p in parts for r in read(_config(), p.data, name=p.name).to_pylist()]
    assert len(rows) == 200 == len({r["id"] for r in rows})
    assert all(r["dateObserved"].startswith("2026-11-01T13:00:00") for r in rows)
    assert "Link" not in parts[0].source  # headers never reach the landed source string


def test_server_errors_are_retried(agency_api):
    agency_api.state.faults = [Fault("http_500", times=2, page=2)]
    assert sum(p.rows_reported for p in _fetch(_config(limit=100))) == 200


def test_a_broker_4xx_is_terminal_and_quotes_the_problem_details(agency_api):
    agency_api.state.faults = [Fault("bad_request")]
    with pytest.raises(DeliveryError, match="BadRequestData Invalid query: q could not be parsed"):
        _fetch(_config())


def test_persistent_unavailability_is_transient(agency_api):
    agency_api.state.faults = [Fault("http_500", times=10)]
    with pytest.raises(TransientDeliveryError, match=r"feed iot_air_sensors: GET .* HTTP 500"):
        _fetch(_config())


def test_flatten_takes_values_points_typed_literals_and_relationships():
    record = flatten(
        {
            "id": "urn:x",
            "type": "AirQualityObserved",
            "dateObserved": {
                "type": "Property",
                "value": {"@type": "DateTime", "@value": "2026-11-01T13:00:00+09:00"},
            },
            "location": {
                "type": "GeoProperty",
                "value": {"type": "Point", "coordinates": [126.9, 37.5]},
            },
            "pm10": {"type": "Property", "value": 41.0},
            "refDevice": {"type": "Relationship", "object": "urn:ngsi-ld:Device:CCTV-1"},
        }
    )
    assert record == {
        "id": "urn:x",
        "type": "AirQualityObserved",
        "dateObserved": "2026-11-01T13:00:00+09:00",
        "location_lon": 126.9,
        "location_lat": 37.5,
        "pm10": 41.0,
        "refDevice": "urn:ngsi-ld:Device:CCTV-1",
    }


def test_a_page_that_is_not_an_entity_array_is_refused():
    with pytest.raises(DeliveryError, match="p1: not a JSON array of entities"):
        read(_config(), b'{"error": "oops"}', name="p1")


def test_an_attribute_missing_from_the_first_entity_is_kept_for_the_others():
    page = (
        b'[{"id": "a", "type": "T"},'
        b' {"id": "b", "type": "T", "pm10": {"type": "Property", "value": 3.5}}]'
    )
    assert read(_config(), page, name="p1").column("pm10").to_pylist() == [None, 3.5]


def test_an_attribute_with_clashing_types_arrives_as_text_for_validate_to_judge():
    page = (
        b'[{"id": "a", "pm10": {"type": "Property", "value": 3.5}},'
        b' {"id": "b", "pm10": {"type": "Property", "value": "high"}}]'
    )
    assert read(_config(), page, name="p1").column("pm10").to_pylist() == ["3.5", "high"]
