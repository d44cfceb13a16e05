"""Korean text is NFC-normalised on parse: Hangul sent decomposed (NFD, as macOS writes it)
matches value sets, keys and joins; a feed may keep text as sent (text_normalization: none)."""

from __future__ import annotations

import shutil
import unicodedata

import pytest

from hub.core.settings import PROJECT_ROOT
from hub.lake import iceberg
from simulators import drops, hostile
from tests.support.runs import drop, hub_run, last_run, window


def _published(settings, feed_id: str, column: str) -> list:
    table = iceberg.table_catalog(settings).load_table(("trusted", feed_id))
    return table.scan().to_arrow().column(column).to_pylist()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_decomposed_file_passes_its_value_set_and_publishes_composed_text(hub_settings):
    start, _ = window("service_requests")
    ((key, data),) = drops.DROPS["service_requests"](start, 7).items()
    nfd = hostile.decomposed(data, "utf-8-sig")
    assert nfd != data and unicodedata.normalize("NFC", nfd.decode("utf-8-sig")) == data.decode(
        "utf-8-sig"
    )
    drop(hub_settings, {key: nfd})

    ran = hub_run("service_requests")

    assert ran.exit_code == 0, ran.error
    run = last_run(hub_settings, "service_requests")
    assert run.rows_quarantined == 0 and run.rows_published == run.rows_landed == 2000
    channels = set(_published(hub_settings, "service_requests", "channel"))
    assert channels <= {"전화", "챗봇", "앱", "방문"} and channels


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("institute", ["seoul", "incheon"])
def test_one_decomposed_institute_joins_the_others_on_province(hub_settings, institute):
    start, _ = window("pm_composition")
    files = drops.pm_composition(start)
    key = f"pm_composition/20261031/{institute}_20261031.csv"
    files[key] = hostile.decomposed(files[key], drops.INSTITUTES[institute][2])
    drop(hub_settings, files)

    ran = hub_run("pm_composition")

    assert ran.result["rows_published"] == 18
    assert set(_published(hub_settings, "pm_composition", "province")) == {
        "서울특별시",
        "인천광역시",
        "경기도",
    }


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_feed_may_keep_text_as_sent(hub_settings, tmp_path, monkeypatch):
    feeds = tmp_path / "feeds"
    shutil.copytree(PROJECT_ROOT / "feeds", feeds)
    path = feeds / "pm_composition.yaml"
    path.write_text(path.read_text() + "text_normalization: none\n")
    monkeypatch.setenv("HUB_FEEDS_DIR", str(feeds))
    start, _ = window("pm_composition")
    files = drops.pm_composition(start)
    key = "pm_composition/20261031/incheon_20261031.csv"
    body, _, rows = files[key].decode("utf-8").partition("\r\n")
    files[key] = (body + "\r\n" + unicodedata.normalize("NFD", rows)).encode("utf-8")
    drop(hub_settings, files)

    ran = hub_run("pm_composition")

    assert ran.result["rows_published"] == 18
    provinces = set(_published(hub_settings, "pm_composition", "province"))
    assert unicodedata.normalize("NFD", "인천광역시") in provinces
    assert "인천광역시" not in provinces
