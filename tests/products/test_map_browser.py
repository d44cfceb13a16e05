"""The open data map as a person sees it: rendered by Debian's chromium (headless, driven by
Playwright) from the web app served over HTTP, in Korean and in English, with a screenshot."""

from __future__ import annotations

import httpx
import pytest

from hub.web.app import create_app
from products import load_products
from tests.support.browser import FLAGS, keep_screenshots
from tests.support.web import serving


@pytest.fixture
def served(lake):
    """The web app on a real port, as `hub serve` runs it."""
    settings, _ = lake
    with serving(create_app(settings)) as base:
        yield settings, base


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_map_renders_every_dataset_in_a_browser_in_both_languages(chromium, served, tmp_path):
    from playwright.sync_api import sync_playwright

    from hub.registry import load_registry

    settings, base = served
    feeds = load_registry(settings.feeds_dir)
    specs = [*feeds.values(), *load_products().values()]
    assert httpx.get(base + "/", timeout=10).status_code == 200
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        for lang in ("ko", "en"):
            page.goto(f"{base}/?lang={lang}")
            text = page.inner_text("body")
            for spec in specs:
                title = spec.title.ko if lang == "ko" else spec.title.en
                assert title in text, f"{spec.id} ({lang}) is not on the rendered map"
            shot = tmp_path / f"map-{lang}.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
        assert page.locator("html").get_attribute("lang") == "en"
        page.goto(f"{base}/datasets/street_safety?lang=en")
        graph = page.locator("svg[aria-label='lineage graph'] rect")
        assert graph.count() >= 9  # the product, its 4 trusted inputs and their 4 raw deliveries
        page.screenshot(path=str(tmp_path / "street_safety.png"), full_page=True)
        browser.close()
    keep_screenshots(tmp_path)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_citizen_searches_and_narrows_by_a_facet_on_a_desktop_and_a_phone(
    chromium, hub_settings, tmp_path
):
    from playwright.sync_api import sync_playwright

    air = {"air_quality_hourly", "iot_air_sensors", "pm_composition", "air_quality_by_gu"}
    bikes = {"bike_trips", "bike_demand"}

    def listed(page) -> list[str]:
        return [
            a.get_attribute("href").split("/datasets/", 1)[1].split("?", 1)[0]
            for a in page.locator("main a[href^='/datasets/']").all()
        ]

    with serving(create_app(hub_settings)) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=FLAGS, headless=True)
        for device, viewport in (("desktop", (1400, 900)), ("phone", (390, 844))):
            page = browser.new_page(viewport=dict(zip(("width", "height"), viewport, strict=True)))
            for lang in ("ko", "en"):
                page.goto(f"{base}/?lang={lang}")
                page.get_by_role("searchbox").fill("미세먼지")
                page.get_by_role("searchbox").press("Enter")
                page.wait_for_url("**q=*")
                assert set(listed(page)) == air, (device, lang)
                page.get_by_role("searchbox").fill("bike")
                page.get_by_role("searchbox").press("Enter")
                page.wait_for_url("**q=bike*")
                assert set(listed(page)[:2]) == bikes, (device, lang)
                # narrow "미세먼지" to sensors by the facet link, and reload its URL
                page.goto(f"{base}/?q=미세먼지&lang={lang}")
                page.locator("nav a[href*='type=sensor']").first.click()
                page.wait_for_url("**type=sensor*")
                narrowed = listed(page)
                assert narrowed and set(narrowed) <= air
                page.goto(page.url)
                assert listed(page) == narrowed
                assert page.locator("html").get_attribute("lang") == lang
                page.screenshot(path=str(tmp_path / f"search-{device}-{lang}.png"), full_page=True)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert device == "desktop" or width <= viewport[0] + 1, (
                "the phone page scrolls sideways"
            )
            page.close()
        browser.close()
    assert len(list(tmp_path.glob("search-*.png"))) == 4
    keep_screenshots(tmp_path)
