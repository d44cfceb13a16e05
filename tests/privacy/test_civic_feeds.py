"""The civic feeds end to end on a real lake, each delivered as its provider delivers it:

- ``service_requests``: the call centre's daily CSV; phones dropped, complaint text scrubbed,
  places cut to the dong, and an open release that passes k = 5 per day.
- ``ped_accidents``: the accidents Open API (data.go.kr JSON, ``items.item``) every 15 minutes;
  accident numbers tokenized, points snapped, ages banded; restricted, so no open release.
- ``resident_council_activity``: the dong centres' quarterly JSON form exports; the member
  rosters never leave the raw zone, councils and budgets are released openly.

Every check compares what the hub published with what the simulators generated.
"""

from __future__ import annotations

import io
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from catalog import entries
from catalog.models import DestructionRecord, Release
from hub.core.errors import DeliveryError
from hub.lake import iceberg
from hub.lake.objectstore import ObjectStore
from hub.steps.context import RunContext
from hub.steps.pipeline import run_pipeline
from privacy.scanner import scan_table
from privacy.techniques import METRES_PER_DEGREE, band_labels
from simulators import accidents, civic
from simulators.agency_api import ACCIDENTS_PATH, Fault
from simulators.seoul import GU
from tests.privacy.test_protect_pipeline import leaked

KST = ZoneInfo("Asia/Seoul")
DAY = datetime(2026, 11, 1, tzinfo=KST)
RUSH = datetime(2026, 11, 1, 18, 15, tzinfo=KST)  # five accidents in this 15-minute window
QUARTER = (datetime(2026, 7, 1, tzinfo=KST), datetime(2026, 10, 1, tzinfo=KST))


def run(settings, feed_id: str, start: datetime, end: datetime, run_id: str) -> dict:
    return run_pipeline(RunContext.create(feed_id, start, end, run_id, settings=settings))


def drop(settings, files: dict[str, bytes]) -> None:
    store = ObjectStore(settings)
    for key, data in files.items():
        store.put("inbox", key, data)


def rows(settings, zone: str, feed_id: str) -> pa.Table:
    return iceberg.table_catalog(settings).load_table((zone, feed_id)).scan().to_arrow()


def found_in_text(settings, originals: set[str], zones=("trusted", "open", "quarantine")) -> set:
    """Originals found inside any text value of any Parquet file of ``zones`` (substrings, so
    a phone left in the middle of a complaint counts)."""
    store, found = ObjectStore(settings), set()
    for zone in zones:
        for key in store.list(zone, ""):
            if not key.endswith(".parquet"):
                continue
            table = pq.read_table(io.BytesIO(store.get(zone, key)))
            texts = [
                v
                for column in table.columns
                if pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
                for v in column.to_pylist()
                if v
            ]
            blob = "\n".join(texts)
            found |= {o for o in originals if o in blob}
    return found


def scanned_clean(settings, feed_id: str, zones: tuple[str, ...]) -> None:
    """The PII scanner finds nothing in what the feed published (as in test_every_feed)."""
    for zone in zones:
        table = rows(settings, zone, feed_id)
        assert table.num_rows
        assert scan_table(table) == {}, zone


def raw_destroyed(settings, feed_id: str) -> None:
    assert list(ObjectStore(settings).list("raw", f"{feed_id}/")) == []
    assert entries.listing(settings.catalog_url, DestructionRecord, feed_id)


# --- service requests: daily CSV from the call centre ----------------------------------------


@pytest.mark.parametrize("backend", ["sqlite"])
def test_service_requests_lose_every_planted_identifier_and_keep_the_complaint(hub_settings):
    sent = civic.service_request_records(DAY.date())
    drop(hub_settings, civic.service_requests(DAY))
    run(hub_settings, "service_requests", DAY, DAY + timedelta(days=1), "run-1")

    planted = {v for r in sent for k, v in r.planted if k in ("phone", "person_name", "plate")}
    phones = {r.phone for r in sent}
    addresses = {v for r in sent for k, v in r.planted if k == "address"}
    kinds = {k for r in sent for k, _ in r.planted}
    assert kinds == {"phone", "person_name", "plate", "address"} and len(planted) > 1000
    assert 0.25 < sum(any(k == "phone" for k, _ in r.planted) for r in sent) / len(sent) < 0.45
    assert leaked(hub_settings, planted | phones | addresses) == set()
    assert found_in_text(hub_settings, planted | phones | addresses) == set()

    trusted = rows(hub_settings, "trusted", "service_requests")
    assert trusted.num_rows == len(sent) and "phone" not in trusted.column_names
    text = dict(zip(trusted["request_id"].to_pylist(), trusted["text"].to_pylist(), strict=True))
    # the rest of each complaint survives word for word; only the planted pieces are replaced
    assert [text[r.request_id] for r in sent] == [r.scrubbed for r in sent]
    assert sum("<phone>" in t for t in text.values()) > 500

    areas = {f"서울특별시 {GU[g]}" for g in GU}
    areas |= {f"서울특별시 {GU[g]} {d}" for g, ds in civic.DONGS.items() for d in ds}
    assert set(trusted["location"].to_pylist()) <= areas
    for column in ("received_at", "resolved_at"):  # both times cut to the hour
        when = pc.cast(trusted[column], pa.timestamp("us", tz="Asia/Seoul"))
        assert pc.all(pc.equal(when, pc.floor_temporal(when, unit="hour"))).as_py(), column
    assert 0 < trusted["resolved_at"].null_count < len(sent) * 0.1  # a few still open

    opened = rows(hub_settings, "open", "service_requests")
    assert {"text", "phone", "resolved_at"}.isdisjoint(opened.column_names)
    release = [
        r
        for r in entries.listing(hub_settings.catalog_url, Release, "service_requests")
        if r.zone == "open"
    ][-1]
    assert release.status == "released" and release.k >= 5
    assert opened.num_rows + release.rows_suppressed == len(sent)
    scanned_clean(hub_settings, "service_requests", ("trusted", "open"))
    raw_destroyed(hub_settings, "service_requests")

    run(hub_settings, "service_requests", DAY, DAY + timedelta(days=1), "run-2")
    assert rows(hub_settings, "trusted", "service_requests").num_rows == len(sent)
    assert rows(hub_settings, "open", "service_requests").num_rows == opened.num_rows


# --- pedestrian accidents: JSON Open API every 15 minutes --------------------------------------


@pytest.mark.parametrize("backend", ["sqlite"])
def test_ped_accidents_are_pseudonymized_snapped_banded_and_not_released(hub_settings, agency_api):
    end = RUSH + timedelta(minutes=15)
    sent = accidents.accidents(RUSH, end)
    assert len(sent) == 5
    result = run(hub_settings, "ped_accidents", RUSH, end, "run-1")
    assert result["rows_published"] == 5 and "release" not in result

    trusted = rows(hub_settings, "trusted", "ped_accidents")
    sent, got = sorted(sent, key=_order), sorted(trusted.to_pylist(), key=_order)
    assert not {a["acdntNo"] for a in sent} & set(trusted["acc_id"].to_pylist())
    assert all(t.startswith("v1_") for t in trusted["acc_id"].to_pylist())
    half_cell = 5 / METRES_PER_DEGREE
    for original, row in zip(sent, got, strict=True):
        assert row["occurred_at"] == datetime.strptime(original["ocrnDt"], "%Y%m%d%H%M").replace(
            tzinfo=KST
        )
        assert row["severity"] == original["injrySvrtNm"]
        assert row["lat"] != float(original["laCrd"]) and row["lon"] != float(original["loCrd"])
        assert abs(row["lat"] - float(original["laCrd"])) <= half_cell + 1e-7
        assert abs(row["lon"] - float(original["loCrd"])) <= 2 * half_cell  # lon cells are wider
    ages = pa.array([int(a["vctmAge"]) for a in sent])
    assert [r["victim_age"] for r in got] == band_labels(ages, 10, 80).to_pylist()
    assert leaked(hub_settings, {a["acdntNo"] for a in sent}) == set()
    assert not iceberg.table_catalog(hub_settings).table_exists(("open", "ped_accidents"))
    raw_destroyed(hub_settings, "ped_accidents")

    run(hub_settings, "ped_accidents", RUSH, end, "run-2")
    assert rows(hub_settings, "trusted", "ped_accidents").num_rows == 5
    quiet = RUSH - timedelta(minutes=15)  # no accident at all: published empty, not retried
    assert accidents.accidents(quiet, RUSH) == []
    assert run(hub_settings, "ped_accidents", quiet, RUSH, "run-3")["rows_published"] == 0
    assert rows(hub_settings, "trusted", "ped_accidents").num_rows == 5


def _order(row: dict) -> tuple:
    return (row.get("sggCd") or row.get("gu_code"), row.get("ocrnDt") or row["occurred_at"])


@pytest.mark.parametrize("backend", ["sqlite"])
def test_ped_accidents_wait_out_a_429_with_retry_after_then_succeed(hub_settings, agency_api):
    agency_api.state.faults = [Fault("http_429", times=1, retry_after=1)]
    began = time.monotonic()
    result = run(hub_settings, "ped_accidents", RUSH, RUSH + timedelta(minutes=15), "run-1")
    assert time.monotonic() - began >= 1.0  # the server's Retry-After was honoured
    assert result["rows_published"] == 5
    asked = [r for r in agency_api.state.requests if r.startswith(ACCIDENTS_PATH)]
    assert len(asked) == 2 and all("inqBginDt=202611011815" in r for r in asked)


# --- resident councils: quarterly JSON form exports --------------------------------------------


def _members(docs: dict[str, dict]) -> list[dict]:
    return [m for doc in docs.values() for c in doc["주민자치회"] for m in c["위원명단"]]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_council_rosters_never_leave_raw_and_budgets_are_released(hub_settings):
    docs = civic.council_documents(QUARTER[0])
    councils = [c for doc in docs.values() for c in doc["주민자치회"]]
    members = _members(docs)
    assert len(docs) == 100 and len(members) > 2000
    drop(hub_settings, civic.resident_council_activity(QUARTER[0]))
    result = run(hub_settings, "resident_council_activity", *QUARTER, "run-1")
    assert result["rows_published"] == len(councils)

    identifiers = {m["성명"] for m in members} | {m["연락처"] for m in members}
    assert leaked(hub_settings, identifiers) == set()
    assert found_in_text(hub_settings, identifiers) == set()
    trusted = rows(hub_settings, "trusted", "resident_council_activity")
    assert "members" not in trusted.column_names and trusted.num_rows == len(councils)
    assert pc.sum(trusted["subsidy_krw"]).as_py() == sum(c["보조금(원)"] for c in councils)
    assert pc.sum(trusted["own_funds_krw"]).as_py() == sum(c["자부담(원)"] for c in councils)

    opened = rows(hub_settings, "open", "resident_council_activity")
    assert opened.num_rows == len(councils)  # no quasi-identifier left: every council released
    assert pc.sum(opened["subsidy_krw"]).as_py() == sum(c["보조금(원)"] for c in councils)
    scanned_clean(hub_settings, "resident_council_activity", ("trusted", "open"))
    raw_destroyed(hub_settings, "resident_council_activity")

    run(hub_settings, "resident_council_activity", *QUARTER, "run-2")
    assert rows(hub_settings, "trusted", "resident_council_activity").num_rows == len(councils)
    assert rows(hub_settings, "open", "resident_council_activity").num_rows == len(councils)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_form_export_that_is_not_json_fails_naming_the_feed_and_the_file(hub_settings):
    files = civic.resident_council_activity(QUARTER[0])
    broken = sorted(files)[7]
    # the export tool's session had expired: it saved its login page under the report's name
    files[broken] = "<!DOCTYPE html><html><head><title>로그인</title></head></html>".encode()
    drop(hub_settings, files)
    name = broken.rsplit("/", 1)[-1]
    with pytest.raises(DeliveryError, match=rf"resident_council_activity/.*{name}: not JSON"):
        run(hub_settings, "resident_council_activity", *QUARTER, "run-1")
    assert not iceberg.table_catalog(hub_settings).table_exists(
        ("trusted", "resident_council_activity")
    )
    assert any(
        k.endswith(name)
        for k in ObjectStore(hub_settings).list("raw", "resident_council_activity/")
    )  # kept, so the rerun after the centre re-exports has the rest of the delivery
