"""The data.go.kr single-item quirk: when an answer holds one row, the portal's XML-to-JSON
conversion sends ``items.item`` as one object instead of a list; fetch and reader agree that
it is one row, on its own or as the last page of many."""

from __future__ import annotations

import json

import pytest

from connectors.http_api.connector import fetch, read
from tests.support.fetching import feed_and_context, fetch_all, quick
from tests.support.runs import hub_run, last_run, rows

FEED = "ped_accidents"


def _page(item) -> bytes:
    body = {"items": {"item": item}, "totalCount": 1 if isinstance(item, dict) else len(item)}
    doc = {"response": {"header": {"resultCode": "00", "resultMsg": "OK"}, "body": body}}
    return json.dumps(doc, ensure_ascii=False).encode()


ONE = {"acdntNo": "A1", "ocrnDt": "202610310005", "vctmAge": "34", "la": 37.5, "lo": 126.9}


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (ONE, 1),
        ([ONE], 1),
        ([ONE, {**ONE, "acdntNo": "A2"}], 2),
        ({**ONE, "vctmAge": None}, 1),
    ],
    ids=["object", "list-of-one", "list-of-two", "object-with-null"],
)
def test_an_item_object_reads_as_one_row(item, expected):
    config = quick(feed_and_context(FEED, "2026-10-31T00:00+09:00", "2026-10-31T00:15+09:00")[0])
    table = read(config, _page(item), name="p")
    assert table.num_rows == expected
    assert table.column("acdntNo").to_pylist()[0] == "A1"


@pytest.mark.parametrize(
    ("start", "end", "page_size", "rows_expected"),
    [
        ("2026-10-31T00:00+09:00", "2026-10-31T00:15+09:00", 100, 3),  # one page, a list
        ("2026-10-31T00:00+09:00", "2026-10-31T00:15+09:00", 2, 3),  # last page: one object
        ("2026-10-31T00:45+09:00", "2026-10-31T01:00+09:00", 1, 5),  # every page an object
    ],
)
def test_fetch_and_reader_agree_on_the_rows(agency_api, start, end, page_size, rows_expected):
    feed, ctx = feed_and_context(FEED, start, end)
    config = quick(feed, page_size=page_size)
    parts = fetch_all(fetch, config, ctx)
    assert sum(p.rows_reported for p in parts) == rows_expected
    read_rows = [read(config, p.data, name=p.name).num_rows for p in parts]
    assert read_rows == [p.rows_reported for p in parts]
    if page_size == 1:
        assert all(b'"item":{' in p.data for p in parts)  # the quirk really was sent


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_window_with_one_accident_publishes_it_through_hub_run(hub_settings, agency_api):
    ran = hub_run(FEED)

    assert ran.exit_code == 0, ran.error
    run = last_run(hub_settings, FEED)
    assert run.rows_landed == 1
    assert run.rows_published + run.rows_quarantined == 1
    assert rows(hub_settings, "trusted", FEED) == run.rows_published
