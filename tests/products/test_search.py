"""Finding datasets as a citizen does: Korean words inside compounds and keywords, English
words whatever their case or width, facets whose counts say what choosing them would give, and
a page whose URL reproduces the search."""

from __future__ import annotations

import re
import time
from html import unescape
from urllib.parse import quote_plus

import pytest
from fastapi.testclient import TestClient

from hub.web.app import create_app

AIR = {"air_quality_hourly", "iot_air_sensors", "pm_composition", "air_quality_by_gu"}


@pytest.fixture
def web(hub_settings):
    return TestClient(create_app(hub_settings))


def _ids(answer) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [c["id"] for c in answer.json()["results"]]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_korean_words_find_compounds_and_keywords_and_english_ignores_case_and_width(web):
    fine_dust = _ids(web.get("/api/v1/search", params={"q": "미세먼지"}))
    # 초미세먼지 (pm_composition) and the 대기질 datasets, whose keywords say 미세먼지
    assert set(fine_dust) == AIR
    assert set(_ids(web.get("/api/v1/search", params={"q": "bike"}))[:2]) == {
        "bike_trips",
        "bike_demand",
    }
    for same in ("BIKE", "ｂｉｋｅ"):  # capitals, full-width letters
        assert (
            _ids(web.get("/api/v1/search", params={"q": same}))[:2]
            == _ids(web.get("/api/v1/search", params={"q": "bike"}))[:2]
        )
    # two-syllable Korean words, which a trigram index would miss
    assert {"ped_accidents", "traffic_ped_counts"} <= set(
        _ids(web.get("/api/v1/search", params={"q": "교통"}))
    )
    # every word must match: both words narrow, and a column name is searched too
    assert _ids(web.get("/api/v1/search", params={"q": "미세먼지 station_id"})) != []
    assert set(_ids(web.get("/api/v1/search", params={"q": "미세먼지 station_id"}))) < AIR
    assert _ids(web.get("/api/v1/search", params={"q": "미세먼지 어린이집"})) == []
    # the list endpoint answers the same search, as a list
    listed = web.get("/api/v1/datasets", params={"q": "미세먼지"}).json()
    assert [c["id"] for c in listed] == fine_dust


@pytest.mark.parametrize("backend", ["sqlite"])
def test_facet_counts_say_what_choosing_each_value_gives(web):
    everything = web.get("/api/v1/search").json()
    assert everything["total"] == len(web.get("/api/v1/datasets").json()) > 15
    for name, counts in everything["facets"].items():
        if name != "format":  # a dataset without files has no format; one may have several
            assert sum(c["count"] for c in counts) == everything["total"], name
    sensor = web.get("/api/v1/search", params={"type": "sensor"}).json()
    count = {c["value"]: c["count"] for c in everything["facets"]["type"]}["sensor"]
    assert sensor["total"] == count and all(c["type"] == "sensor" for c in sensor["results"])
    # the chosen facet still counts its other values; the others count within the choice
    assert {c["value"] for c in sensor["facets"]["type"]} == {
        c["value"] for c in everything["facets"]["type"]
    }
    assert sum(c["count"] for c in sensor["facets"]["access_class"]) == sensor["total"]
    by_name = web.get("/api/v1/search", params={"sort": "name"}).json()["results"]
    assert [c["id"] for c in by_name] == sorted(c["id"] for c in by_name)
    assert web.get("/api/v1/search", params={"freshness": "maybe"}).status_code == 422


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_page_searches_narrows_by_a_facet_and_its_url_reproduces_it(web):
    page = web.get("/", params={"q": "미세먼지", "lang": "en"})
    assert page.status_code == 200 and 'role="search"' in page.text
    assert "Results: 4 datasets" in page.text
    shown = set(re.findall(r'href="/datasets/(\w+)\?lang=en"', page.text))
    assert shown == AIR
    # follow the link of a facet value that narrows the four: the same words, narrowed
    facets = web.get("/api/v1/search", params={"q": "미세먼지"}).json()["facets"]
    name, value = next(
        (n, c["value"]) for n, counts in facets.items() for c in counts if 0 < c["count"] < 4
    )
    links = [unescape(h) for h in re.findall(r'<a href="(/\?[^"]*)"', page.text)]
    link = next(h for h in links if f"{name}={quote_plus(value)}" in h)
    narrowed = web.get(link)
    found = set(re.findall(r'href="/datasets/(\w+)\?lang=en"', narrowed.text))
    api = web.get("/api/v1/search", params={"q": "미세먼지", name: value})
    assert found == set(_ids(api)) and found < AIR and found
    assert 'aria-current="true"' in narrowed.text  # the chosen value is marked, and unlinks
    # the Korean page of the same search is the same search
    korean = re.search(r'<a href="([^"]*lang=ko)"', narrowed.text)[1]
    again = web.get(unescape(korean))
    assert 'lang="ko"' in again.text
    assert set(re.findall(r'href="/datasets/(\w+)\?lang=ko"', again.text)) == found
    nothing = web.get("/", params={"q": "존재하지않는데이터", "lang": "ko"})
    assert "찾는 데이터셋이 없습니다" in nothing.text and "/requests" in nothing.text


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_dataset_published_after_the_page_was_built_is_found_with_its_version(
    hub_settings, web, monkeypatch
):
    from hub.registry import load_registry
    from hub.registry.schedule import last_window
    from hub.steps.context import RunContext
    from hub.steps.pipeline import run_pipeline
    from hub.web import deps
    from simulators import drops
    from tests.support.runs import AT, drop

    def segments() -> dict:
        (card,) = web.get("/api/v1/search", params={"q": "street_segments"}).json()["results"]
        return card

    hub = web.app.state.hub
    built = []
    cards = hub.cards
    monkeypatch.setattr(hub, "cards", lambda: built.append(1) or cards())
    assert segments()["latest_version"] is None and built == [1]
    checked = hub._index.checked
    monkeypatch.setattr(deps, "METADATA_TTL_S", 0.0)  # each search now checks the catalog
    assert segments()["latest_version"] is None
    deadline = time.monotonic() + 10
    while hub._index.checked == checked:  # the check runs beside the requests
        assert time.monotonic() < deadline, "the catalog was never checked again"
        time.sleep(0.02)
    assert built == [1]  # checked, found unchanged: not rebuilt
    feed = load_registry(hub_settings.feeds_dir)["street_segments"]
    start, end = last_window(feed.schedule, AT)
    drop(hub_settings, drops.DROPS["street_segments"](start, 7))
    run_pipeline(RunContext.create(feed.id, start, end, "run-1", settings=hub_settings))
    # the catalog changed: rebuilt in the background, searched as soon as it is built
    deadline = time.monotonic() + 10
    while segments()["latest_version"] is None:
        assert time.monotonic() < deadline, "the new version never reached the search"
        time.sleep(0.05)
    assert built == [1, 1]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_district_facet_finds_a_gus_own_datasets(web):
    everything = web.get("/api/v1/search").json()
    districts = {c["value"]: c["count"] for c in everything["facets"]["district"]}
    yeongdeungpo = _ids(web.get("/api/v1/search", params={"district": "11560"}))
    assert set(yeongdeungpo) == {
        "street_segments",
        "street_safety",
        "door_sensor_installs",
        "night_floating_population",
        "women_crime_incidents",
    }
    assert districts == {"11560": 5, "seoul": everything["total"] - 5}
    page = web.get("/?lang=en").text
    assert "Yeongdeungpo-gu" in page and "All of Seoul" in page  # the facet's values, named
    assert "영등포구" in web.get("/").text
