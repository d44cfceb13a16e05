"""The two women's-safety feeds of Yeongdeungpo-gu through every step on a real lake, each
delivered as its provider sends it: the police station's monthly cp949 CSV of crimes and the
women-policy team's weekly Excel workbook of door-sensor installs.

Nothing identifying the simulators generated may reach the trusted zone, the generalized values
must still be true to the originals (points within 10 m, hours, bands, dongs), the identified
delivery must be gone from the raw zone, and a rerun must keep every row once. A damaged
delivery must fail with an error that names the file.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter, defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest

from catalog import entries
from catalog.models import DestructionRecord, ProcessingRecord
from hub.core.errors import DeliveryError
from hub.lake import iceberg
from hub.lake.objectstore import ObjectStore
from hub.registry import load_feed
from hub.steps.context import RunContext
from hub.steps.pipeline import run_pipeline
from hub.steps.protect import scanned_columns
from privacy.scanner import scan_column, scan_table
from privacy.vault import Vault
from simulators import drops, safety
from tests.privacy.test_protect_pipeline import leaked

KST = ZoneInfo("Asia/Seoul")
CRIMES, SENSORS = "women_crime_incidents", "door_sensor_installs"
MONTH = (datetime(2026, 10, 1, tzinfo=KST), datetime(2026, 11, 1, tzinfo=KST))
WEEK = (datetime(2026, 9, 28, tzinfo=KST), datetime(2026, 10, 5, tzinfo=KST))  # Mon to Mon
EARTH_RADIUS_M = 6_371_008.8


def drop(settings, files: dict[str, bytes]) -> None:
    store = ObjectStore(settings)
    for key, data in files.items():
        store.put("inbox", key, data)


def run(settings, feed: str, window: tuple[datetime, datetime], run_id: str) -> dict:
    return run_pipeline(RunContext.create(feed, *window, run_id, settings=settings))


def trusted_rows(settings, feed: str) -> list[dict]:
    table = iceberg.table_catalog(settings).load_table(("trusted", feed)).scan().to_arrow()
    return table.to_pylist()


def raw_keys(settings, feed: str) -> list[str]:
    """Every raw-zone object of the feed: landed files, manifests and staged Parquet."""
    return [k for k in ObjectStore(settings).list("raw", "") if feed in k]


def undeclared_pd(settings, feed: str) -> dict:
    """What the PII scanner finds in the trusted table's columns that the policy keeps as sent
    (the columns the protect step scans: kept, masked, scrubbed or undeclared)."""
    table = iceberg.table_catalog(settings).load_table(("trusted", feed)).scan().to_arrow()
    policy = load_feed(settings.feeds_dir / f"{feed}.yaml").privacy
    return scan_table(table.select(scanned_columns(policy, table)))


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lat, lon) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def age_band(age: str) -> str | None:
    if not age:
        return None
    low = int(age) // 10 * 10
    return "70+" if low >= 70 else f"{low}-{low + 9}"


def occurred_hour(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(minute=0, tzinfo=KST)


# --- women_crime_incidents -------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite"])
def test_crimes_reach_the_trusted_zone_protected_and_a_rerun_keeps_them_once(hub_settings):
    sent = safety.crime_rows(MONTH[0])
    files = drops.DROPS[CRIMES](MONTH[0], 7)
    assert files == safety.women_crime_incidents(MONTH[0])  # registered, and deterministic
    drop(hub_settings, files)
    result = run(hub_settings, CRIMES, MONTH, "run-1")
    assert result["rows_published"] == len(sent) >= 280

    case_nos = {r["case_no"] for r in sent}
    addresses = {r["address"] for r in sent}
    assert leaked(hub_settings, case_nos | addresses) == set()
    assert leaked(hub_settings, {"스토킹", next(iter(case_nos))}) == {"스토킹"}  # it does see
    assert undeclared_pd(hub_settings, CRIMES) == {}

    rows = trusted_rows(hub_settings, CRIMES)
    assert "address" not in rows[0]
    tokens = {r["case_no"] for r in rows}
    assert len(tokens) == len(sent) and all(t.startswith("v1_") for t in tokens)
    police = Vault.open(hub_settings)  # resolvable: the station can go back to its case
    token = sorted(tokens)[0]
    assert police.resolve(CRIMES, token, actor="ydp-police-kim", purpose="case 재수사") in case_nos

    # Times to the hour and ages to bands, exactly as the originals generalize.
    assert Counter(r["occurred_at"].astimezone(KST) for r in rows) == Counter(
        occurred_hour(r["occurred_at"]) for r in sent
    )
    assert Counter(r["victim_age"] for r in rows) == Counter(
        age_band(r["victim_age"]) for r in sent
    )

    # Every scene snapped within 10 m: each original is paired with the nearest published point
    # of the same hour, offence, sex and age band (a case has no other shared key after protect).
    published = defaultdict(list)
    for r in rows:
        hour = r["occurred_at"].astimezone(KST)
        published[hour, r["offence_type"], r["victim_sex"], r["victim_age"]].append(
            (r["lat"], r["lon"])
        )
    distances = []
    for r in sent:
        group = published[
            occurred_hour(r["occurred_at"]),
            r["offence_type"],
            r["victim_sex"],
            age_band(r["victim_age"]),
        ]
        original = (float(r["lat"]), float(r["lon"]))
        nearest = min(group, key=lambda p, o=original: metres(p, o))
        group.remove(nearest)
        distances.append(metres(nearest, original))
    assert max(distances) <= 10.0
    assert sum(d > 0.01 for d in distances) > 0.9 * len(sent)  # snapped, not kept as sent

    assert raw_keys(hub_settings, CRIMES) == []
    url = hub_settings.catalog_url
    digest = hashlib.sha256(files[safety.crime_key(MONTH[0])]).hexdigest()
    assert digest in {r.sha256 for r in entries.listing(url, DestructionRecord, CRIMES)}
    assert {
        ("case_no", "token"),
        ("address", "drop"),
        ("lat", "snap"),
        ("lon", "snap"),
        ("occurred_at", "truncate"),
        ("victim_age", "band"),
    } <= {(r.column_name, r.technique) for r in entries.listing(url, ProcessingRecord, CRIMES)}
    assert not iceberg.table_catalog(hub_settings).table_exists(("open", CRIMES))  # restricted

    again = run(hub_settings, CRIMES, MONTH, "run-2")
    assert again["rows_published"] == len(sent)
    rerun = trusted_rows(hub_settings, CRIMES)
    assert len(rerun) == len(sent) and {r["case_no"] for r in rerun} == tokens
    assert raw_keys(hub_settings, CRIMES) == []


def _cut(data: bytes, where: str) -> bytes:
    """The CSV cut off half-way, inside a row: after a few bytes of its longitude, or after the
    first byte of a two-byte cp949 character of its address."""
    start = data.rfind(b"\r\n", 0, len(data) // 2) + 2
    commas = [i for i in range(start, data.find(b"\r\n", start)) if data[i] == ord(",")]
    return data[: commas[3] + 4] if where == "field" else data[: commas[4] + 2]


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize(
    "where",
    [
        "field",
        "character",  # a cp949 file cut inside a Hangul character
    ],
)
def test_a_truncated_crime_csv_fails_naming_the_file_and_publishes_nothing(hub_settings, where):
    key = safety.crime_key(MONTH[0])
    whole = safety.women_crime_incidents(MONTH[0])[key]
    drop(hub_settings, {key: _cut(whole, where)})
    with pytest.raises(DeliveryError) as failed:
        run(hub_settings, CRIMES, MONTH, "run-1")
    message = str(failed.value)
    assert CRIMES in message and key.rsplit("/", 1)[1] in message, message
    if where == "field":
        assert "malformed row" in message and "truncated" in message, message
    assert not iceberg.table_catalog(hub_settings).table_exists(("trusted", CRIMES))
    assert any(k.endswith(".csv") for k in raw_keys(hub_settings, CRIMES))  # kept: not protected

    drop(hub_settings, {key: whole})  # the station sends the file again
    assert run(hub_settings, CRIMES, MONTH, "run-2")["rows_published"] == len(
        safety.crime_rows(MONTH[0])
    )
    assert raw_keys(hub_settings, CRIMES) == []


# --- door_sensor_installs --------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite"])
def test_door_sensor_installs_reach_the_trusted_zone_protected_and_a_rerun_keeps_them_once(
    hub_settings,
):
    sent = safety.sensor_rows(WEEK[0])
    files = drops.DROPS[SENSORS](WEEK[0], 7)
    assert files == safety.door_sensor_installs(WEEK[0])
    assert list(files) == ["door_sensor_installs/20260928/ydp_door_sensor_installs_20260928.xlsx"]
    drop(hub_settings, files)
    result = run(hub_settings, SENSORS, WEEK, "run-1")
    assert result["rows_published"] == len(sent) >= 50

    names = {r["resident_name"] for r in sent}
    phones = {r["phone"] for r in sent}
    addresses = {r["address"] for r in sent}
    assert leaked(hub_settings, names | phones | addresses) == set()
    assert leaked(hub_settings, {"오피스텔", next(iter(phones))}) == {"오피스텔"}  # it does see
    assert undeclared_pd(hub_settings, SENSORS) == {}

    rows = {r["install_id"]: r for r in trusted_rows(hub_settings, SENSORS)}
    assert set(rows) == {r["install_id"] for r in sent}
    assert "phone" not in next(iter(rows.values()))
    token_of = defaultdict(set)
    for r in sent:
        got = rows[r["install_id"]]
        token_of[r["resident_name"]].add(got["resident_name"])
        dong = r["address"].split()[2]
        assert got["address"] == f"서울특별시 영등포구 {dong}", r["address"]  # no lot, no unit
        day = r["installed_at"].replace(hour=0, minute=0, tzinfo=KST)
        assert got["installed_at"].astimezone(KST) == day
        assert (got["household_type"], got["facility_type"], got["device_id"]) == (
            r["household_type"],
            r["facility_type"],
            r["device_id"],
        )
    assert all(len(t) == 1 for t in token_of.values())  # one resident, one token
    assert len(set().union(*token_of.values())) == len(names)
    assert {r["installed_at"].month for r in sent} == {9, 10}  # the week spans two partitions

    assert raw_keys(hub_settings, SENSORS) == []
    assert not iceberg.table_catalog(hub_settings).table_exists(("open", SENSORS))  # restricted

    again = run(hub_settings, SENSORS, WEEK, "run-2")
    assert again["rows_published"] == len(sent)
    assert len(trusted_rows(hub_settings, SENSORS)) == len(sent)
    assert raw_keys(hub_settings, SENSORS) == []


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_renamed_sheet_fails_naming_the_feed_the_workbook_and_the_sheet(hub_settings):
    key = safety.sensor_key(WEEK[0])
    renamed = safety.sensor_workbook(WEEK[0], safety.sensor_rows(WEEK[0]), sheet="9월5주차")
    drop(hub_settings, {key: renamed})
    with pytest.raises(DeliveryError) as failed:
        run(hub_settings, SENSORS, WEEK, "run-1")
    message = str(failed.value)
    assert SENSORS in message, message
    assert key.rsplit("/", 1)[1] in message, message
    assert "'설치현황'" in message and "'9월5주차'" in message, message
    assert not iceberg.table_catalog(hub_settings).table_exists(("trusted", SENSORS))
    assert any(k.endswith(".xlsx") for k in raw_keys(hub_settings, SENSORS))


# --- what the PII scanner makes of these feeds' generalized values ---------------------------


def test_the_dong_level_addresses_published_are_not_street_addresses_to_the_scanner():
    areas = pa.array([f"{safety.GU_NAME} {dong}" for dong in safety.DONGS], pa.large_string())
    assert scan_column(areas, name="address") == {}


def test_a_few_offence_categories_are_not_person_names_to_the_scanner():
    offences = pa.array(["성범죄", "주거침입", "폭행", "성범죄", "절도"], pa.large_string())
    assert scan_column(offences, name="offence_type") == {}
