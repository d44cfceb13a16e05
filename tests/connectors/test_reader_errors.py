"""Every reader, driven with garbage through ``connectors.reader``, fails with one hub error
shaped ``feed X: file Y: reason``: never a bare library exception, whatever the bytes."""

from __future__ import annotations

import re

import pytest

import connectors
from connectors.file_drop.config import FileDropConfig
from hub.core.errors import DeliveryError
from simulators.agency_api import Fault
from simulators.hostile import GARBAGE
from tests.support.fetching import feed_and_context, quick
from tests.support.runs import feed

FILE_FORMATS = ["csv", "excel", "json", "jsonl", "parquet"]


def _configs():
    for fmt in FILE_FORMATS:
        yield f"file_drop-{fmt}", "file_drop", FileDropConfig(prefix="x/", format=fmt)
    yield "http_api-json", "http_api", feed("air_quality_hourly").delivery.config
    yield "http_api-xml", "http_api", feed("traffic_ped_counts").delivery.config
    yield "ngsi_ld", "ngsi_ld", feed("iot_air_sensors").delivery.config
    yield "sql_table", "sql_table", feed("startup_tenants").delivery.config


CASES = [
    pytest.param(kind, config, garbage, id=f"{label}-{garbage}")
    for label, kind, config in _configs()
    for garbage in sorted(GARBAGE)
]


@pytest.mark.parametrize(("kind", "config", "garbage"), CASES)
def test_garbage_fails_naming_feed_file_and_cause(kind, config, garbage):
    read = connectors.reader(kind)
    name = f"some_feed/partition=20261031T150000Z/delivery=1/{garbage}.bin"
    with pytest.raises(DeliveryError) as info:
        read(config, GARBAGE[garbage], name=name, feed_id="some_feed")
    message = str(info.value)
    assert re.match(rf"feed some_feed: file {re.escape(name)}: \S", message), message
    assert message.count(name) == 1  # the file is named once, the cause follows


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_disguised_workbook_is_a_clear_error_through_hub_run(hub_settings):
    from simulators import drops
    from tests.support.runs import drop, hub_run, rows, window

    start, _ = window("childcare_capacity")
    ((key, _),) = drops.childcare_capacity(start).items()
    for garbage in ("zip_not_xlsx", "html_as_xlsx"):
        drop(hub_settings, {key: GARBAGE[garbage]})
        ran = hub_run("childcare_capacity")
        assert ran.exit_code == 1
        assert ran.error.startswith("feed childcare_capacity: file childcare_capacity/partition=")
        assert "childcare_202610.xlsx: " in ran.error
        assert rows(hub_settings, "trusted", "childcare_capacity") == 0


@pytest.mark.parametrize(
    ("fault", "cause"),
    [
        ("bad_count", "NGSILD-Results-Count header is not a count: 'about 200'"),
        ("nested_json", "answered malformed JSON (maximum recursion depth exceeded"),
    ],
)
def test_a_broker_answer_no_library_can_take_names_the_url(agency_api, fault, cause):
    iot, ctx = feed_and_context(
        "iot_air_sensors", "2026-11-01T13:00:00+09:00", "2026-11-01T13:10:00+09:00"
    )
    agency_api.state.faults = [Fault(fault, times=1)]
    fetch = connectors.fetcher("ngsi_ld")
    with pytest.raises(DeliveryError) as info:
        fetch(quick(iot), ctx, lambda part: None)
    message = str(info.value)
    assert message.startswith("feed iot_air_sensors: GET http://127.0.0.1:")
    assert "/ngsi-ld/v1/entities?" in message and cause in message
