"""The HTTP Open API connector against the simulated data.go.kr API."""

from __future__ import annotations

from datetime import datetime

import pytest

from connectors.base import FetchContext
from connectors.http_api.connector import fetch, read
from hub.core.delivery import RawPart, Window
from hub.core.errors import DeliveryError, TransientDeliveryError
from hub.core.settings import PROJECT_ROOT
from hub.registry import load_feed
from simulators.agency_api import Fault
from tests.support.fetching import feed_and_context, fetch_all, quick

FEED, CTX = feed_and_context(
    "air_quality_hourly", "2026-11-01T03:00:00+09:00", "2026-11-01T05:00:00+09:00"
)


def _config(**changes):
    return quick(FEED, **changes)


def _fetch(config) -> list[RawPart]:
    return fetch_all(fetch, config, CTX)


def test_pages_through_total_count_and_keeps_every_row(agency_api):
    parts = _fetch(_config(page_size=7))
    rows = sum(read(_config(), p.data, name=p.name).num_rows for p in parts)
    assert rows == 80  # 40 stations x 2 hours
    assert len(parts) == 12
    assert all("serviceKey=%2A%2A%2A" in p.source for p in parts)


def test_retries_server_errors_then_succeeds(agency_api):
    agency_api.state.faults = [Fault("http_500", times=2, page=1)]
    parts = _fetch(_config())
    assert sum(p.rows_reported for p in parts) == 80
    assert sum("pageNo=1" in r for r in agency_api.state.requests) == 3


def test_honours_retry_after_on_429(agency_api):
    agency_api.state.faults = [Fault("http_429", times=1, retry_after=0)]
    parts = _fetch(_config())
    assert sum(p.rows_reported for p in parts) == 80
    assert len(agency_api.state.requests) == 2


def test_persistent_server_error_is_transient_and_names_the_feed(agency_api):
    agency_api.state.faults = [Fault("http_500", times=10)]
    with pytest.raises(TransientDeliveryError, match=r"feed air_quality_hourly: GET .* HTTP 500"):
        _fetch(_config())


def test_result_code_error_inside_http_200_is_terminal(agency_api):
    agency_api.state.faults = [Fault("result_code", code="99")]
    with pytest.raises(DeliveryError, match="resultCode 99") as err:
        _fetch(_config())
    assert not err.value.transient


def test_quota_code_22_may_clear_later(agency_api):
    agency_api.state.faults = [Fault("result_code", code="22", times=5)]
    with pytest.raises(TransientDeliveryError, match="resultCode 22"):
        _fetch(_config())


def test_malformed_json_names_the_request(agency_api):
    agency_api.state.faults = [Fault("malformed_json")]
    with pytest.raises(DeliveryError, match="malformed JSON"):
        _fetch(_config())


def test_bad_service_key_gateway_xml_is_reported_and_the_key_never_shown(agency_api, monkeypatch):
    monkeypatch.setenv("DATA_GO_KR_SERVICE_KEY", "not-the-key-123")
    with pytest.raises(DeliveryError, match="SERVICE_KEY_IS_NOT_REGISTERED_ERROR") as err:
        _fetch(_config())
    assert "not-the-key-123" not in str(err.value)


def test_times_out_and_gives_up_as_transient(agency_api):
    agency_api.state.faults = [Fault("slow", times=3, delay_s=1.5)]
    with pytest.raises(TransientDeliveryError, match="timed out"):
        _fetch(_config(timeout_s=0.3, max_attempts=2))


def test_total_count_changing_mid_paging_is_refused(agency_api):
    agency_api.state.faults = [Fault("total_changes", page=2)]
    with pytest.raises(TransientDeliveryError, match="totalCount changed"):
        _fetch(_config(page_size=10))


def test_a_page_that_repeats_the_previous_one_is_refused(agency_api):
    agency_api.state.faults = [Fault("repeat_page", page=3)]
    with pytest.raises(TransientDeliveryError, match=r"GET .*pageNo=3.*page 3 repeats page 2"):
        _fetch(_config(page_size=10))
    agency_api.state.faults = []  # the provider's cache is fixed: every row, once
    parts = _fetch(_config(page_size=10))
    assert sum(p.rows_reported for p in parts) == 80


def test_missing_key_variable_is_a_config_error(agency_api, monkeypatch):
    from hub.core.errors import ConfigError

    monkeypatch.delenv("DATA_GO_KR_SERVICE_KEY")
    with pytest.raises(ConfigError, match="DATA_GO_KR_SERVICE_KEY"):
        _fetch(_config())


TRAFFIC = load_feed(PROJECT_ROOT / "feeds" / "traffic_ped_counts.yaml")
TRAFFIC_CTX = FetchContext(
    feed_id=TRAFFIC.id,
    window=Window(
        datetime.fromisoformat("2026-11-01T13:00:00+09:00"),
        datetime.fromisoformat("2026-11-01T13:30:00+09:00"),
    ),
    timezone="Asia/Seoul",
)


def _fetch_xml(**changes) -> list[RawPart]:
    config = TRAFFIC.delivery.config.model_copy(update={"backoff_max_s": 0.05, **changes})
    parts: list[RawPart] = []
    fetch(config, TRAFFIC_CTX, parts.append)
    return parts


def test_xml_answers_page_through_total_count_with_hangul_intact(agency_api):
    parts = _fetch_xml(page_size=150)
    tables = [read(TRAFFIC.delivery.config, p.data, name=p.name) for p in parts]
    assert [t.num_rows for t in tables] == [150, 150, 100]  # 200 points x 2 slots
    assert parts[0].data.startswith(b"<?xml")
    assert set(tables[0].column("drctn").to_pylist()) <= {"상행", "하행"}


def test_xml_result_code_error_is_terminal(agency_api):
    agency_api.state.faults = [Fault("result_code", code="99")]
    with pytest.raises(DeliveryError, match="resultCode 99"):
        _fetch_xml()


def test_xml_that_does_not_parse_is_named(agency_api):
    agency_api.state.faults = [Fault("malformed_json")]  # a cut-off body, whatever the format
    with pytest.raises(DeliveryError, match="malformed XML"):
        _fetch_xml()


def test_an_element_the_first_xml_item_leaves_out_is_kept_for_the_others():
    page = (
        b"<response><header><resultCode>00</resultCode></header><body><items>"
        b"<item><countPointId>A</countPointId></item>"
        b"<item><countPointId>B</countPointId><vhclCnt>12</vhclCnt></item>"
        b"</items><totalCount>2</totalCount></body></response>"
    )
    table = read(TRAFFIC.delivery.config, page, name="p1.xml")
    assert table.to_pylist() == [
        {"countPointId": "A", "vhclCnt": None},
        {"countPointId": "B", "vhclCnt": "12"},
    ]
