"""Personal data through the pipeline on a real lake: nothing identifying reaches the trusted or
open zones, tokens stay linkable, keys rotate, risky releases are refused, raw is destroyed."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from catalog import entries
from catalog.models import DestructionRecord, ProcessingRecord, Release
from hub.core.settings import PROJECT_ROOT
from hub.lake import iceberg
from hub.lake.objectstore import ObjectStore
from hub.steps.context import RunContext
from hub.steps.pipeline import run_pipeline
from privacy.errors import ReleaseRefused, UndeclaredPersonalData, VaultError
from privacy.vault import Vault
from simulators import bikes, drops

KST = ZoneInfo("Asia/Seoul")
DAY1 = datetime(2026, 11, 1, tzinfo=KST)
DAY2 = DAY1 + timedelta(days=1)
WORDS = re.compile(r"[\w-]+")


def run_bikes(settings, day: datetime, run_id: str, trips: int = 20_000) -> pa.Table:
    """Drop one day of rentals, run every step; return what the simulator sent (the originals)."""
    sent = bikes.trips_table(day.date(), trips=trips)
    ObjectStore(settings).put(
        "inbox", f"bike_trips/{day:%Y%m%d}/rentals.csv", bikes.trips_csv(sent)
    )
    ctx = RunContext.create("bike_trips", day, day + timedelta(days=1), run_id, settings=settings)
    run_pipeline(ctx)
    return sent


def leaked(settings, originals: set[str]) -> set[str]:
    """Every original value found in any object of the trusted and open zones: in Parquet
    columns, and as a word anywhere in the bytes (metadata, manifests, footer statistics)."""
    store, found = ObjectStore(settings), set()
    wanted = pa.array(sorted(originals), pa.large_string())
    for zone in ("trusted", "open"):
        for key in store.list(zone, ""):
            data = store.get(zone, key)
            found |= originals & set(WORDS.findall(data.decode("utf-8", errors="ignore")))
            if key.endswith(".parquet"):
                table = pq.read_table(io.BytesIO(data))
                for column in table.columns:
                    text = pc.cast(column, pa.large_string())
                    found |= set(text.filter(pc.is_in(text, value_set=wanted)).to_pylist())
    return found


def tokens_by_member(settings, sent: pa.Table) -> dict[str, set[str]]:
    trusted = (
        iceberg.table_catalog(settings).load_table(("trusted", "bike_trips")).scan().to_arrow()
    )
    token_of_trip = dict(
        zip(trusted["trip_id"].to_pylist(), trusted["member_id"].to_pylist(), strict=True)
    )
    out: dict[str, set[str]] = {}
    for trip, member in zip(
        sent["대여번호"].to_pylist(), sent["회원번호"].to_pylist(), strict=True
    ):
        out.setdefault(member, set()).add(token_of_trip[trip])
    return out


def test_bike_trips_are_protected_linkable_released_and_their_raw_destroyed(hub_settings):
    day1 = run_bikes(hub_settings, DAY1, "run-1")
    day2 = run_bikes(hub_settings, DAY2, "run-2")
    members = set(day1["회원번호"].to_pylist()) | set(day2["회원번호"].to_pylist())

    assert leaked(hub_settings, members) == set()
    assert leaked(hub_settings, {"ST-101", next(iter(members))}) == {"ST-101"}  # it does see

    both = pa.concat_tables([day1, day2])
    tokens = tokens_by_member(hub_settings, both)
    returning = set(day1["회원번호"].to_pylist()) & set(day2["회원번호"].to_pylist())
    assert len(returning) > 1000
    assert all(len(tokens[m]) == 1 for m in returning)  # one person, one token, both days
    assert len({t for ts in tokens.values() for t in ts}) == len(members)  # no collisions

    url = hub_settings.catalog_url
    store = ObjectStore(hub_settings)
    assert list(store.list("raw", "bike_trips/")) == []
    destroyed = entries.listing(url, DestructionRecord, "bike_trips")
    csv_digests = {hashlib.sha256(bikes.trips_csv(d)).hexdigest() for d in (day1, day2)}
    assert csv_digests <= {r.sha256 for r in destroyed}

    techniques = {
        (r.column_name, r.technique, r.key_version)
        for r in entries.listing(url, ProcessingRecord, "bike_trips")
    }
    assert {
        ("member_id", "token", 1),
        ("birth_year", "band", None),
        ("rent_at", "truncate", None),
    } <= techniques

    releases = entries.listing(url, Release, "bike_trips")
    opened = [r for r in releases if r.zone == "open"]
    assert [r.status for r in opened] == ["released", "released"]
    assert all(r.k >= 5 for r in opened)
    trusted_report = next(r for r in releases if r.zone == "trusted")
    assert "v1" in trusted_report.report_en and "HMAC" in trusted_report.report_en
    assert "가명처리" in trusted_report.report_ko


def test_the_open_release_measures_the_k_that_pycanon_finds(hub_settings):
    from pycanon import anonymity

    run_bikes(hub_settings, DAY1, "run-1")
    table = iceberg.table_catalog(hub_settings).load_table(("open", "bike_trips")).scan().to_arrow()
    assert "member_id" not in table.column_names and "return_at" not in table.column_names
    recorded = [
        r
        for r in entries.listing(hub_settings.catalog_url, Release, "bike_trips")
        if r.zone == "open"
    ][-1]
    quasi = ["birth_year", "sex", "rent_station_id", "rent_at"]
    frame = table.select(quasi).to_pandas().astype(object).fillna("<withheld>")
    assert anonymity.k_anonymity(frame, quasi) == recorded.k >= 5
    assert table.num_rows + recorded.rows_suppressed == 20_000


@pytest.mark.parametrize("backend", ["sqlite"])
def test_after_key_rotation_new_tokens_differ_and_old_ones_resolve_with_a_log(hub_settings):
    day1 = run_bikes(hub_settings, DAY1, "run-1")
    vault = Vault.open(hub_settings)
    vault.rotate("bike_trips", actor="privacy-officer-lee", purpose="annual key rotation")
    day2 = run_bikes(hub_settings, DAY2, "run-2")

    tokens = tokens_by_member(hub_settings, pa.concat_tables([day1, day2]))
    member = sorted(set(day1["회원번호"].to_pylist()) & set(day2["회원번호"].to_pylist()))[0]
    old, new = sorted(tokens[member])
    assert old.startswith("v1_") and new.startswith("v2_")

    with pytest.raises(VaultError, match="purpose"):
        vault.resolve("bike_trips", old, actor="someone", purpose=" ")
    assert (
        vault.resolve("bike_trips", old, actor="auditor-kim", purpose="court order 2026-123")
        == member
    )
    assert (
        vault.resolve("bike_trips", new, actor="auditor-kim", purpose="court order 2026-123")
        == member
    )
    log = [(o["operation"], o["actor"], o["purpose"]) for o in vault.operations("bike_trips")]
    assert ("rotate", "privacy-officer-lee", "annual key rotation") in log
    assert log.count(("resolve", "auditor-kim", "court order 2026-123")) == 2


@pytest.mark.parametrize("backend", ["sqlite"])
def test_an_open_release_that_cannot_reach_k_is_refused_and_nothing_is_released(hub_settings):
    with pytest.raises(
        ReleaseRefused,
        match=r"cannot reach k ≥ 5 .*What was done: trusted\.bike_trips snapshot \d+ is "
        r"published \(40 rows\); the open release was refused",
    ):
        run_bikes(hub_settings, DAY1, "run-1", trips=40)
    refused = entries.listing(hub_settings.catalog_url, Release, "bike_trips")[-1]
    assert (refused.zone, refused.status, refused.rows) == ("open", "refused", 0)
    assert "k ≥ 5" in refused.report_en
    cat = iceberg.table_catalog(hub_settings)
    assert not cat.table_exists(("open", "bike_trips"))
    assert cat.load_table(("trusted", "bike_trips")).scan().to_arrow().num_rows == 40


def _drop_childcare(settings) -> dict[str, bytes]:
    files = drops.childcare_capacity(DAY1 - timedelta(days=31))
    store = ObjectStore(settings)
    for key, data in files.items():
        store.put("inbox", key, data)
    return files


def _applications(files: dict[str, bytes]) -> tuple[set[str], set[str]]:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_filelike(io.BytesIO(next(iter(files.values()))))
    rows = book.get_sheet_by_name("입소신청").to_python()[3:]
    return {r[2] for r in rows}, {r[3] for r in rows}


@pytest.mark.parametrize("backend", ["sqlite"])
def test_childcare_names_and_rrns_never_reach_the_trusted_zone(hub_settings):
    files = _drop_childcare(hub_settings)
    names, rrns = _applications(files)
    start, end = DAY1 - timedelta(days=31), DAY1
    for feed in ("childcare_capacity", "childcare_applications"):
        run_pipeline(RunContext.create(feed, start, end, "run-1", settings=hub_settings))
    assert leaked(hub_settings, names | rrns) == set()
    published = iceberg.table_catalog(hub_settings).load_table(
        ("trusted", "childcare_applications")
    )
    rows = published.scan().to_arrow()
    assert rows.num_rows == 150 and "guardian_rrn" not in rows.column_names
    store = ObjectStore(hub_settings)
    assert list(store.list("raw", "childcare_")) == []  # both copies of the workbook are gone


@pytest.mark.parametrize("backend", ["sqlite"])
def test_undeclared_personal_data_fails_protect_naming_column_and_recognizer(
    hub_settings, tmp_path
):
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    text = (PROJECT_ROOT / "feeds" / "childcare_applications.yaml").read_text(encoding="utf-8")
    (feeds / "childcare_applications.yaml").write_text(
        text.replace("    guardian_rrn: {class: direct_identifier, technique: drop}\n", ""),
        encoding="utf-8",
    )
    settings = hub_settings.model_copy(update={"feeds_dir": feeds})
    _drop_childcare(settings)
    ctx = RunContext.create(
        "childcare_applications", DAY1 - timedelta(days=31), DAY1, "run-1", settings=settings
    )
    with pytest.raises(UndeclaredPersonalData, match=r"column 'guardian_rrn': rrn \(150 values\)"):
        run_pipeline(ctx)
    assert not iceberg.table_catalog(settings).table_exists(("trusted", "childcare_applications"))
    assert any(
        k.endswith(".xlsx") for k in ObjectStore(settings).list("raw", "childcare_applications/")
    )
    shutil.rmtree(feeds)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_rejected_rows_of_a_pd_feed_reach_quarantine_without_their_identifiers(hub_settings):
    sent = bikes.trips_table(DAY1.date(), trips=200)
    times = sent["대여일시"].to_pylist()
    times[:3] = ["not a time"] * 3
    broken = sent.set_column(sent.column_names.index("대여일시"), "대여일시", pa.array(times))
    ObjectStore(hub_settings).put(
        "inbox", f"bike_trips/{DAY1:%Y%m%d}/rentals.csv", bikes.trips_csv(broken)
    )
    ctx = RunContext.create("bike_trips", DAY1, DAY2, "run-1", settings=hub_settings)
    from hub.steps.land import land
    from hub.steps.validate import validate

    assert validate(ctx, land(ctx))["rows_quarantined"] == 3
    rows = (
        iceberg.table_catalog(hub_settings)
        .load_table(("quarantine", "bike_trips"))
        .scan()
        .to_arrow()
    )
    records = rows["record"].to_pylist()
    assert len(records) == 3 and all('"회원번호": "<withheld>"' in r for r in records)
    assert not any(m in r for r in records for m in sent["회원번호"].to_pylist()[:3])
    assert set(rows["reason"].to_pylist()) == {"cannot read as timestamp"}
