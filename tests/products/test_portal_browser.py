"""The citizen's portal as a person sees it in Chromium, in Korean and English, on a desktop and
a phone: a dataset page's first rows, chart and map, the spatial map, the KPI dashboard; and
axe-core finding no serious or critical accessibility fault on any of them."""

from __future__ import annotations

import httpx
import pytest

from hub.web.app import create_app
from hub.web.districts import names
from tests.support.browser import FLAGS, axe_violations, keep_screenshots
from tests.support.web import serving

DEVICES = (("desktop", {"width": 1400, "height": 900}), ("phone", {"width": 390, "height": 844}))
AQ = "air_quality_hourly"


@pytest.fixture
def served(lake):
    settings, _ = lake
    with serving(create_app(settings)) as base:
        yield base


def _api(base: str, path: str) -> dict:
    answer = httpx.get(base + path, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_dataset_pages_show_rows_chart_and_map_and_pass_axe(chromium, axe_source, served, tmp_path):
    from playwright.sync_api import sync_playwright

    base = served
    first = _api(base, f"/api/v1/datasets/{AQ}/records?limit=10")["items"]
    drawn = _api(base, f"/api/v1/datasets/{AQ}/records?columns=measured_at,pm10,pm25&limit=10000")
    times = {row["measured_at"] for row in drawn["items"]}
    mapped = _api(base, f"/api/v1/datasets/{AQ}/records?columns=gu_code,pm10&limit=10000")
    gus = {row["gu_code"] for row in mapped["items"] if row["pm10"] is not None}
    segments = _api(base, "/api/v1/datasets/street_safety/records?columns=lon,lat&limit=10000")
    places = {(r["lon"], r["lat"]) for r in segments["items"]}
    kpis = _api(base, "/api/v1/kpis")
    assert first and times and gus and places and kpis
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=FLAGS, headless=True)
        for device, viewport in DEVICES:
            page = browser.new_page(viewport=viewport)
            errors: list[str] = []
            page.on("pageerror", lambda e, seen=errors: seen.append(str(e)))
            page.on("console", lambda m, seen=errors: m.type == "error" and seen.append(m.text))
            for lang in ("ko", "en"):
                # A dataset page: the first rows as the API has them, the chart and the map.
                page.goto(f"{base}/datasets/{AQ}?lang={lang}")
                rows = page.locator("table.preview tr:has(td)")
                assert rows.count() == len(first)
                cells = rows.first.locator("td").all_inner_texts()
                assert cells[: len(first[0])] == [str(v) for v in first[0].values()]
                header = page.locator("table.preview th").first.inner_text()
                assert "station_id" in header
                page.wait_for_selector("#chart[data-points]")
                assert int(page.get_attribute("#chart", "data-points")) == len(times)
                assert page.locator("#chart canvas").count() >= 1
                page.wait_for_selector("#map[data-drawn]")
                assert int(page.get_attribute("#map", "data-drawn")) == len(gus)
                assert page.locator("#map path.leaflet-interactive").count() == len(names(lang))
                tip = "curl 'http" if lang == "en" else "library(jsonlite)"
                assert tip in page.inner_text("body")
                page.screenshot(path=str(tmp_path / f"dataset-{device}-{lang}.png"), full_page=True)
                assert not axe_violations(page, axe_source), (device, lang, "dataset")
                assert (
                    page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1
                ), (device, lang, "the dataset page scrolls sideways")

                # The spatial map: street-safety grades per segment, one circle per segment.
                page.goto(f"{base}/map?dataset=street_safety&lang={lang}")
                page.wait_for_selector("#map[data-drawn]")
                assert int(page.get_attribute("#map", "data-drawn")) == len(places)
                assert page.locator("#map path.leaflet-interactive").count() == len(
                    names(lang)
                ) + len(places)
                page.screenshot(path=str(tmp_path / f"map-{device}-{lang}.png"), full_page=True)
                assert not axe_violations(page, axe_source), (device, lang, "map")

                # The KPI dashboard: every indicator with its value, target and trend.
                page.goto(f"{base}/kpi?lang={lang}")
                for k in kpis:
                    card = page.locator(f"section[aria-labelledby='kpi-{k['id']}']")
                    assert k[f"name_{lang}"] in card.inner_text()
                    assert card.locator("svg.trend polyline").count() == 1
                    target = "목표" if lang == "ko" else "Target"
                    assert target in card.inner_text()
                page.screenshot(path=str(tmp_path / f"kpi-{device}-{lang}.png"), full_page=True)
                assert not axe_violations(page, axe_source), (device, lang, "kpi")

                # The home page and a search.
                for path in (f"/?lang={lang}", f"/?q=미세먼지&lang={lang}"):
                    page.goto(base + path)
                    assert not axe_violations(page, axe_source), (device, lang, path)
                page.screenshot(path=str(tmp_path / f"search-{device}-{lang}.png"), full_page=True)
            assert not errors, errors
            page.close()
        browser.close()
    assert len(list(tmp_path.glob("*.png"))) == 16
    keep_screenshots(tmp_path)
