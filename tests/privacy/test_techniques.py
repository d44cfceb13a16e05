"""Each declared technique does to a column what the guideline says it does."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest
from pydantic import ValidationError

from privacy.policy import PrivacyPolicy
from privacy.techniques import (
    address_to_dong,
    band_labels,
    mask,
    protect_table,
    snap,
    tokenize,
    truncate,
)
from privacy.vault import FeedKey

KEY = FeedKey("feed", 1, b"k" * 32)
BASIS = {"ko": "근거", "en": "basis"}


def policy(**columns) -> PrivacyPolicy:
    return PrivacyPolicy.model_validate(
        {"legal_basis": BASIS, "purpose": BASIS, "columns": columns}
    )


def test_tokens_are_stable_per_value_and_differ_between_key_versions():
    values = pa.array(["TM0000001", "TM0000002", "TM0000001", None], pa.large_string())
    tokens, distinct, originals = tokenize(values, KEY)
    assert tokens[0] == tokens[2] != tokens[1] and tokens[3].as_py() is None
    assert (
        dict(zip(originals.to_pylist(), distinct.to_pylist(), strict=True))["TM0000001"]
        == tokens[0].as_py()
    )
    rotated, _, _ = tokenize(values, FeedKey("feed", 2, b"n" * 32))
    assert rotated[0].as_py().startswith("v2_") and rotated[0] != tokens[0]


def test_bands_and_top_coding():
    assert band_labels(pa.array([1987, 1990, None]), 10).to_pylist() == [
        "1980-1989",
        "1990-1999",
        None,
    ]
    assert band_labels(pa.array([34, 71, 95]), 10, top=70).to_pylist() == ["30-39", "70+", "70+"]


def test_truncation_to_the_day_follows_seoul_midnight_not_utc():
    late = pa.array(
        [datetime(2026, 11, 1, 16, 30, tzinfo=UTC)], pa.timestamp("us", tz="UTC")
    )  # 01:30 KST on 2 Nov
    assert truncate(late, "day", "Asia/Seoul")[0].as_py() == datetime(
        2026, 11, 1, 15, 0, tzinfo=UTC
    )
    assert truncate(late, "hour", "Asia/Seoul")[0].as_py() == datetime(
        2026, 11, 1, 16, 0, tzinfo=UTC
    )


def test_points_snap_to_the_same_10_m_cell_and_move_less_than_10_m():
    lat = pa.array([37.517200, 37.517201])
    snapped = snap(lat, 10, "lat", 37.55).to_pylist()
    assert snapped[0] == snapped[1] and abs(snapped[0] - 37.5172) * 111_320 < 10


def test_addresses_keep_only_their_area():
    addresses = pa.array(
        ["서울특별시 영등포구 대림동 123-4", "서울특별시 영등포구 도림로 123", "이상한 문자열"],
        pa.large_string(),
    )
    assert address_to_dong(addresses).to_pylist() == [
        "서울특별시 영등포구 대림동",
        "서울특별시 영등포구",
        None,
    ]


def test_masking_keeps_only_the_declared_ends():
    out = mask(pa.array(["김민서", "010-1234-5678", "a"], pa.large_string()), 1, 0, "*")
    assert out.to_pylist() == ["김**", "0************", "*"]


def test_protect_table_applies_each_rule_and_drops_what_it_must():
    table = pa.table(
        {
            "name": pa.array(["김민서", "이준호"], pa.large_string()),
            "rrn": pa.array(["900101-1234567", "010203-3234567"], pa.large_string()),
            "revenue": pa.array([123_456_789, 98_000_000], pa.int64()),
            "age": pa.array([3, 97], pa.int32()),
            "count": pa.array([3.0, 12.0]),
            "reading": pa.array([10.0, 20.0]),
        }
    )
    rules = policy(
        name={"class": "direct_identifier", "technique": "token"},
        rrn={"class": "direct_identifier", "technique": "drop"},
        revenue={"class": "quasi_identifier", "technique": "round", "step": 10_000_000},
        age={"class": "quasi_identifier", "technique": "clip", "lower": 5, "upper": 90},
        count={"class": "not_personal", "technique": "suppress", "below": 5},
        reading={"class": "not_personal", "technique": "noise", "scale": 1.0},
    )
    first = protect_table(table, rules, key=KEY, timezone="Asia/Seoul", noise_seed=42)
    again = protect_table(table, rules, key=KEY, timezone="Asia/Seoul", noise_seed=42)
    out = first.table
    assert "rrn" not in out.column_names
    assert out["revenue"].to_pylist() == [120_000_000, 100_000_000]
    assert out["age"].to_pylist() == [5, 90]
    assert out["count"].to_pylist() == [None, 12.0]
    assert (
        out["reading"] != table["reading"] and out["reading"] == again.table["reading"]
    )  # rerun: same
    assert {a.column: a.technique for a in first.applied}["rrn"] == "drop"


def test_a_direct_identifier_left_as_is_is_refused_at_load():
    with pytest.raises(ValidationError, match="'phone' is a direct identifier"):
        policy(phone={"class": "direct_identifier", "technique": "keep"})


def test_free_text_is_scrubbed_in_place_and_the_rest_of_the_text_stays():
    text = pa.array(
        ["가로등 고장 신고, 연락처 010-2345-6789 김민서", "보도블록 파손"], pa.large_string()
    )
    rules = policy(text={"class": "direct_identifier", "technique": "scrub"})
    out = protect_table(
        pa.table({"text": text}), rules, key=None, timezone="Asia/Seoul", noise_seed=0
    )
    scrubbed = out.table["text"].to_pylist()
    assert "010-2345-6789" not in scrubbed[0] and "<phone>" in scrubbed[0]
    assert scrubbed[0].startswith("가로등 고장 신고") and scrubbed[1] == "보도블록 파손"
