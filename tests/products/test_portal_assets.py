"""What the portal ships beside its code: every word translated, the gu boundaries the
simulators make, the vendored libraries at the locked versions with their licences, and the
feed files' display declarations checked when they load."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow as pa
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from hub.core.settings import PROJECT_ROOT, HubSettings
from hub.registry.loader import FeedSpecError, load_feed
from hub.web.app import create_app
from hub.web.templating import LOCALES, STATIC
from products.reference import gu_of
from simulators.districts import districts

FEEDS = PROJECT_ROOT / "feeds"


def _catalog(lang: str):
    with (LOCALES / lang / "LC_MESSAGES" / "messages.po").open("rb") as source:
        return read_po(source, locale=lang)


def test_every_word_of_the_portal_is_in_both_catalogs_and_korean_is_translated():
    method_map = [("hub/web/**.py", "python"), ("hub/web/templates/**.html", "jinja2")]
    options = {"hub/web/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    keywords = {"_": None, "gettext": (2,), "N_": None}
    used = {
        message if isinstance(message, str) else message[0]
        for _, _, message, *_ in extract_from_dir(
            PROJECT_ROOT, method_map, options, keywords=keywords
        )
    }
    assert len(used) > 80
    for lang in ("ko", "en"):
        catalog = _catalog(lang)
        ids = {m.id for m in catalog if m.id}
        assert ids == used, f"{lang}: run `make translations` ({sorted(ids ^ used)[:5]})"
        assert not [e for m in catalog for e in m.check(catalog)], f"{lang}: placeholders differ"
        assert not [m.id for m in catalog if m.id and m.fuzzy], (
            f"{lang}: fuzzy entries are not shown"
        )
    korean = _catalog("ko")
    untranslated = [m.id for m in korean if m.id and not m.string]
    assert not untranslated, f"no Korean for {untranslated[:5]}"
    hangul = re.compile(r"[\uac00-\ud7a3]")
    assert all(hangul.search(m.string) for m in korean if m.id)


def test_the_gu_boundaries_are_the_simulators_and_cover_every_gu_code():
    shipped = json.loads((STATIC / "geo" / "seoul_gu.geojson").read_text(encoding="utf-8"))
    assert shipped == json.loads(json.dumps(districts())), "run `python -m simulators districts`"
    standard = (PROJECT_ROOT / "quality/standards/seoul-gu-code.yaml").read_text(encoding="utf-8")
    codes = set(re.findall(r'"(11\d{3})"', standard))
    assert {f["properties"]["code"] for f in shipped["features"]} == codes and len(codes) == 25
    for feature in shipped["features"]:
        ring = feature["geometry"]["coordinates"][0]
        assert len(ring) >= 4 and ring[0] == ring[-1], feature["properties"]["code"]
        # a point inside the drawn gu is the gu the products count it in
        lon = sum(p[0] for p in ring[:-1]) / (len(ring) - 1)
        lat = sum(p[1] for p in ring[:-1]) / (len(ring) - 1)
        placed = gu_of(pa.array([lat]), pa.array([lon]))[0].as_py()
        assert placed == feature["properties"]["code"]


def test_vendored_libraries_are_the_locked_versions_with_their_licences():
    locked = json.loads((PROJECT_ROOT / "package-lock.json").read_text(encoding="utf-8"))
    for name, files in (
        ("leaflet", ["leaflet.js", "leaflet.css"]),
        ("uplot", ["uPlot.iife.min.js"]),
    ):
        folder = STATIC / "vendor" / name
        version = locked["packages"][f"node_modules/{name}"]["version"]
        assert (folder / "VERSION").read_text().strip() == version, f"run `make vendor` ({name})"
        assert (folder / "LICENSE").stat().st_size > 500
        assert all((folder / f).stat().st_size > 1000 for f in files)


@pytest.mark.parametrize(
    ("display", "reason"),
    [
        ({"chart": ["station_name"]}, "'station_name' is string, not a number"),
        ({"chart": ["pm1"]}, "no column 'pm1'"),
        ({"map": {"gu": "gu_code", "points": ["lon", "lat"], "value": "pm10"}}, "either gu or"),
        ({"districts": ["26110"]}, "26110 is not a Seoul gu code"),
        ({"districts": ["11999"]}, "11999 is not a Seoul gu code"),
    ],
)
def test_a_display_that_names_a_wrong_column_is_refused_when_the_feed_loads(
    tmp_path: Path, display, reason
):
    import yaml

    data = yaml.safe_load((FEEDS / "air_quality_hourly.yaml").read_text(encoding="utf-8"))
    data["display"] = display
    path = tmp_path / "air_quality_hourly.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(FeedSpecError) as refused:
        load_feed(path)
    assert "air_quality_hourly.yaml" in str(refused.value) and reason in str(refused.value)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_tile_server_in_settings_is_drawn_and_allowed_by_the_page_policy(hub_settings):
    tiles = "https://tiles.city.example/{z}/{x}/{y}.png"
    settings = hub_settings.model_copy(update={"map_tiles_url": tiles})
    web = TestClient(create_app(settings))
    page = web.get("/map?dataset=air_quality_by_gu&lang=en")
    assert page.status_code == 200 and f'data-tiles="{tiles}"' in page.text
    assert (
        "img-src 'self' data: https://tiles.city.example;"
        in page.headers["content-security-policy"]
    )
    plain = TestClient(create_app(hub_settings)).get("/map?lang=en")
    assert 'data-tiles=""' in plain.text
    assert "img-src 'self' data:;" in plain.headers["content-security-policy"]
    assert web.get("/map?dataset=women_crime_incidents").status_code == 404  # not open
    with pytest.raises(ValueError, match="map_tiles_url"):
        HubSettings(map_tiles_url="http://tiles.example/{z}/{x}/{y}.png")
