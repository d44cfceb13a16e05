"""Schema drift is refused, not guessed at: a delivery whose columns differ from the declared
source names fails with the difference listed, unless the feed declares an alias; a column the
feed does not declare is recorded in the catalog and the run's result, never passed silently."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from catalog import entries
from catalog.models import QualityResult
from hub.core.settings import PROJECT_ROOT
from hub.lake import iceberg
from simulators import drops, hostile
from tests.support.runs import drop, hub_run, last_run, rows, window

FEED = "pm_composition"
INCHEON = "pm_composition/20261031/incheon_20261031.csv"


def _incheon(transform) -> dict[str, bytes]:
    start, _ = window(FEED)
    files = drops.pm_composition(start)
    files[INCHEON] = transform(files[INCHEON])
    return files


DRIFT = {
    # case: (how incheon's file changed, what the message must list)
    "a required column renamed": (
        lambda data: hostile.rename_column(data, "utf-8", "측정소코드", "지점코드"),
        [
            "missing '측정소코드'",
            "looks renamed: '측정소코드' -> '지점코드'",
            "unexpected '지점코드'",
        ],
    ),
    "an optional column renamed": (
        lambda data: hostile.rename_column(data, "utf-8", "중금속합계", "중금속 합계(µg/m³)"),
        ["missing '중금속합계'", "looks renamed: '중금속합계' -> '중금속 합계(µg/m³)'"],
    ),
    "two columns renamed at once": (
        lambda data: hostile.rename_column(
            hostile.rename_column(data, "utf-8", "유기탄소", "OC"), "utf-8", "원소탄소", "EC"
        ),
        ["missing '유기탄소', '원소탄소'", "unexpected 'OC', 'EC'"],
    ),
}


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("case", sorted(DRIFT))
def test_a_drifted_header_is_refused_listing_the_difference(hub_settings, case):
    transform, listed = DRIFT[case]
    start, _ = window(FEED)
    drop(hub_settings, drops.pm_composition(start))
    assert hub_run(FEED).result["rows_published"] == 18

    drop(hub_settings, _incheon(transform))
    ran = hub_run(FEED)

    assert ran.exit_code == 1
    assert re.match(rf"feed {FEED}: file {FEED}/partition=\S+/incheon_20261031\.csv: ", ran.error)
    for difference in listed:
        assert difference in ran.error
    assert "aliases" in ran.error
    assert rows(hub_settings, "trusted", FEED) == 18  # the window as it was
    assert last_run(hub_settings, FEED).status == "failed"

    drop(hub_settings, drops.pm_composition(start))
    again = hub_run(FEED)
    assert again.result["rows_published"] == 18
    run = last_run(hub_settings, FEED)
    assert run.rows_published + run.rows_quarantined == run.rows_landed == 18


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_declared_alias_reads_the_renamed_column_with_its_values(
    hub_settings, tmp_path, monkeypatch
):
    feeds = tmp_path / "feeds"
    shutil.copytree(PROJECT_ROOT / "feeds", feeds)
    path = feeds / f"{FEED}.yaml"
    path.write_text(
        path.read_text().replace("source: 중금속합계,", "source: 중금속합계, aliases: [중금속],")
    )
    monkeypatch.setenv("HUB_FEEDS_DIR", str(feeds))
    drop(
        hub_settings,
        _incheon(lambda data: hostile.rename_column(data, "utf-8", "중금속합계", "중금속")),
    )

    ran = hub_run(FEED)

    assert ran.exit_code == 0, ran.error
    table = iceberg.table_catalog(hub_settings).load_table(("trusted", FEED)).scan().to_arrow()
    assert table.num_rows == 18
    assert table.column("metals").null_count == 0  # incheon's metals arrived under the alias


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("extra", [["비고"], ["비고", "담당자"]])
def test_an_undeclared_column_is_published_around_and_recorded(hub_settings, extra):
    def add(data: bytes) -> bytes:
        for name in extra:
            data = hostile.add_column(data, "utf-8", name, "확인")
        return data

    drop(hub_settings, _incheon(add))

    ran = hub_run(FEED)

    assert ran.exit_code == 0, ran.error
    assert ran.result["rows_published"] == 18
    run = last_run(hub_settings, FEED)
    (drift,) = [
        r
        for r in entries.listing(hub_settings.catalog_url, QualityResult, FEED, run.run_id)
        if r.expectation == "expect_table_columns_to_match_set"
    ]
    assert not drift.success
    assert json.loads(drift.observed_value)["undeclared_columns"] == sorted(extra)
    published = iceberg.table_catalog(hub_settings).load_table(("trusted", FEED)).schema()
    assert not set(extra) & {f.name for f in published.fields}


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_json_record_key_renamed_is_refused_too(hub_settings):
    start, _ = window("resident_council_activity")
    files = drops.DROPS["resident_council_activity"](start, 7)
    key = sorted(files)[0]
    files[key] = files[key].replace("총회일자".encode(), "회의일자".encode())
    drop(hub_settings, files)

    ran = hub_run("resident_council_activity")

    assert ran.exit_code == 1
    assert ran.error.startswith("feed resident_council_activity: file ")
    assert "missing '총회일자'" in ran.error and "'총회일자' -> '회의일자'" in ran.error
    assert rows(hub_settings, "trusted", "resident_council_activity") == 0


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("field", ["drctn", "roadLinkId"])
def test_records_that_leave_out_a_null_optional_field_are_not_drift(
    hub_settings, agency_api, field
):
    # data.go.kr's XML leaves out an element whose value is empty: on a page where every
    # record lacks it, the column is absent; that is nulls, not a renamed column
    from simulators.defects import Defect

    agency_api.state.defects = [Defect("bad_code", column=field, value=None, rows=100_000)]

    ran = hub_run("traffic_ped_counts")

    assert ran.exit_code == 0, ran.error
    run = last_run(hub_settings, "traffic_ped_counts")
    assert run.rows_published == run.rows_landed > 0
    spec = {"drctn": "direction", "roadLinkId": "road_link_id"}[field]
    table = iceberg.table_catalog(hub_settings).load_table(("trusted", "traffic_ped_counts"))
    assert table.scan().to_arrow().column(spec).null_count == run.rows_published


@pytest.mark.parametrize(
    ("records", "refused"),
    [
        ([{"countPointId": "C1", "sggCd": "11680", "msrmtDt": "202611010400"}], False),
        (
            [{"countPointId": "C1", "sggCd": "11680", "msrmtDt": "202611010400", "drctnCd": "N"}],
            True,
        ),
        ([{"countPointId": "C1", "msrmtDt": "202611010400"}], True),  # a required field absent
    ],
    ids=["optional fields left out", "a field renamed", "a required field left out"],
)
def test_in_records_only_renamed_or_required_fields_are_drift(records, refused):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from connectors.records import records_table
    from hub.core.delivery import Window
    from hub.core.errors import DeliveryError
    from hub.steps.conform import conform
    from tests.support.runs import feed

    kst = ZoneInfo("Asia/Seoul")
    window = Window(datetime(2026, 11, 1, 4, tzinfo=kst), datetime(2026, 11, 1, 5, tzinfo=kst))
    traffic, source = feed("traffic_ped_counts"), records_table(records, name="p")
    if refused:
        with pytest.raises(DeliveryError, match="columns differ from the declared source names"):
            conform(traffic, source, window=window, object_key="p", run_id="r")
    else:
        out = conform(traffic, source, window=window, object_key="p", run_id="r")
        assert out.valid.num_rows == 1 and out.valid.column("direction").null_count == 1
