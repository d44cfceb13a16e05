"""The PII scanner finds what a privacy officer would flag, and stays quiet on sensor data."""

from __future__ import annotations

import json
import random

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from hub.cli import app
from privacy.scanner import (
    KINDS,
    RECOGNIZERS,
    scan_column,
    scan_lines,
    scan_table,
    scan_text,
    scrub_text,
)
from simulators import people

WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)


def registration(
    birth: str, gender: int, rng: random.Random, *, base: int = 11, valid: bool = True
) -> str:
    """YYMMDD-GNNNNNC whose check digit passes (or fails) the legacy formula."""
    body = f"{birth}{gender}{rng.randint(0, 99999):05d}"
    check = (base - sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11) % 10
    return f"{body[:6]}-{body[6:]}{check if valid else (check + 1) % 10}"


def business_number(rng: random.Random, *, valid: bool = True) -> str:
    body = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(8)]
    total = sum(d * w for d, w in zip(body, (1, 3, 7, 1, 3, 7, 1, 3, 5), strict=True))
    check = (10 - (total + body[8] * 5 // 10) % 10) % 10
    d = "".join(map(str, body)) + str(check if valid else (check + 1) % 10)
    return f"{d[:3]}-{d[3:5]}-{d[5:]}"


def card_number(rng: random.Random, *, valid: bool = True) -> str:
    body = [4] + [rng.randint(0, 9) for _ in range(14)]
    total = 0
    for i, d in enumerate(reversed(body)):
        total += (d * 2 - 9 if d > 4 else d * 2) if i % 2 == 0 else d
    check = (10 - total % 10) % 10
    d = "".join(map(str, body)) + str(check if valid else (check + 1) % 10)
    return "-".join(d[i : i + 4] for i in range(0, 16, 4))


def mobile(rng: random.Random) -> str:
    return f"010-{rng.randint(2000, 9999)}-{rng.randint(0, 9999):04d}"


def kinds(text: str, min_score: float = 0.5) -> list[tuple[str, str]]:
    return [(f.kind, f.text) for f in scan_text(text, min_score)]


@pytest.fixture
def rng() -> random.Random:
    return random.Random(20261101)


def test_checksum_valid_rrn_is_reported_and_a_wrong_check_digit_is_not(rng):
    valid = people.rrn(rng)
    wrong = registration("850101", 1, rng, valid=False)
    [finding] = scan_text(f"신청 {valid} 접수")
    assert (finding.kind, finding.text, finding.score) == ("rrn", valid, 0.95)
    assert scan_text(f"신청 {wrong} 접수") == []
    assert kinds(valid.replace("-", "")) == [("rrn", valid.replace("-", ""))]


def test_rrn_issued_after_october_2020_is_reported_at_a_lower_score(rng):
    newborn = registration("210315", 3, rng, valid=False)  # random tail, no check digit
    [finding] = scan_text(newborn)
    assert finding.kind == "rrn"
    assert finding.score == 0.6
    assert finding.score < scan_text(people.rrn(rng))[0].score


def test_impossible_birth_dates_are_not_rrns(rng):
    for birth in ("850230", "851301", "991232"):
        assert scan_text(registration(birth, 1, rng)) == []
    assert scan_text(registration("500101", 3, rng)) == []  # born 2050


def test_foreign_registration_number(rng):
    number = registration("900512", 5, rng, base=13)
    assert kinds(f"외국인등록번호 {number}") == [("foreign_rrn", number)]


def test_mobile_numbers_with_and_without_separators():
    for number in (
        "010-1234-5678",
        "01012345678",
        "010 1234 5678",
        "011-234-5678",
        "+82-10-1234-5678",
    ):
        assert kinds(f"문의 {number} 로 주세요") == [("phone", number)]
    assert scan_text("010-123-4567") == []  # 010 always has four middle digits


def test_landlines_seoul_and_gyeonggi():
    for number in ("02-123-4567", "02-1234-5678", "031-234-5678", "(02) 555-1234", "070-1234-5678"):
        assert kinds(f"사무실 {number}") == [("phone", number)]


def test_vehicle_plates_new_and_old_regional():
    for plate in ("12가3456", "123가4567", "서울12가3456", "경기 34나 5678"):
        assert kinds(f"차량 {plate} 주차") == [("plate", plate)]
    assert (
        scan_text("12가3456") and scan_text("12육3456") == []
    )  # military syllables are not civil plates


def test_business_number_checksum(rng):
    good, bad = business_number(rng), business_number(rng, valid=False)
    assert kinds(f"거래처 {good}") == [("business_no", good)]
    assert scan_text(f"거래처 {bad}") == []
    dashless = good.replace("-", "")
    assert scan_text(dashless) == []  # ten digits alone could be anything
    assert kinds(f"사업자등록번호: {dashless}") == [("business_no", dashless)]


def test_card_numbers_need_a_valid_luhn_digit(rng):
    good, bad = card_number(rng), card_number(rng, valid=False)
    assert kinds(f"결제 {good}") == [("card", good)]
    assert kinds(good.replace("-", " ")) == [("card", good.replace("-", " "))]
    assert scan_text(bad) == []


def test_email():
    assert kinds("회신: hong.gildong+city@example.co.kr 으로") == [
        ("email", "hong.gildong+city@example.co.kr")
    ]


def test_road_and_lot_addresses():
    road = "서울특별시 영등포구 여의대로 24"
    branch = "영등포구 국제금융로8길 10"
    lot = "서울 영등포구 여의도동 23-4"
    rural = "경기도 양평군 양평읍 양근리 56번지"
    for address in (road, branch, lot, rural):
        assert kinds(f"{address}에 있습니다") == [("address", address)]


def test_context_words_raise_the_score():
    assert scan_text("0212345678") == []  # a dashless landline alone
    [with_context] = scan_text("전화 0212345678")
    assert with_context.kind == "phone" and with_context.score >= 0.5
    assert scan_text("110-123-456789") == []
    assert kinds("입금 계좌: 110-123-456789") == [("account", "110-123-456789")]
    assert kinds("account 110-123-456789") == [("account", "110-123-456789")]
    assert kinds("주소: 여의대로 24") == [("address", "여의대로 24")]
    plain = scan_text("02-123-4567")[0].score
    assert scan_text("연락처 02-123-4567")[0].score > plain


def luhn_valid(digits: str) -> bool:
    total = sum(
        (int(d) * 2 - 9 if int(d) > 4 else int(d) * 2) if i % 2 else int(d)
        for i, d in enumerate(reversed(digits))
    )
    return total % 10 == 0


def test_overlapping_findings_keep_the_best_one(rng):
    # 031215-3... starts like a Gyeonggi landline; an RRN is never also reported as a phone
    gyeonggi_like = registration("031215", 3, rng).replace("-", "")
    for number in (people.rrn(rng), people.rrn(rng).replace("-", ""), gyeonggi_like):
        assert [f.kind for f in scan_text(number, min_score=0.0)] == ["rrn"]
    # a 1940s RRN that is also a Luhn-valid 13-digit Visa number is reported once, as an RRN
    both = next(
        n
        for n in (
            registration(
                f"4{rng.randint(0, 9)}0{rng.randint(1, 9)}1{rng.randint(0, 9)}", 1, rng
            ).replace("-", "")
            for _ in range(1000)
        )
        if luhn_valid(n)
    )
    assert [f.kind for f in scan_text(both, min_score=0.0)] == ["rrn"]
    assert [f.kind for f in scan_text("010-1234-5678", min_score=0.0)] == [
        "phone"
    ]  # not an account


def test_person_names_with_labels():
    assert kinds("성명: 홍길동, 이름 김민서입니다, 담당 박영희") == [
        ("person_name", "홍길동"),
        ("person_name", "김민서"),
    ]
    assert kinds("Name: Hong Gildong") == [("person_name", "Hong Gildong")]
    assert scan_text("이름 변경 요청") == []


def test_scrub_removes_every_kind_from_a_korean_sentence(rng):
    values = {
        "rrn": people.rrn(rng),
        "phone": mobile(rng),
        "email": "minseo.kim@example.kr",
        "plate": "서울12가3456",
        "business_no": business_number(rng),
        "card": card_number(rng),
        "address": "서울특별시 영등포구 여의대로 24",
        "person_name": "김민서",
    }
    text = (
        f"성명: {values['person_name']}, 주민등록번호 {values['rrn']}, 휴대폰 {values['phone']}, "
        f"이메일 {values['email']}, 차량 {values['plate']}, 사업자 {values['business_no']}, "
        f"카드 {values['card']}, 주소 {values['address']}에 거주합니다."
    )
    scrubbed = scrub_text(text)
    for kind, value in values.items():
        assert value not in scrubbed
        assert f"<{kind}>" in scrubbed
    assert scrubbed.startswith("성명: <person_name>, 주민등록번호 <rrn>, ")
    assert scrubbed.endswith("에 거주합니다.")


def test_scan_lines_reports_1_based_lines_and_offsets_within_the_line(rng):
    phone, rrn = mobile(rng), people.rrn(rng)
    lines = [
        "측정소 CC11560001 정상\n",
        f"담당자 연락처 {phone}\n",
        "\n",
        f"주민번호: {rrn} / 예비 {phone}",
    ]
    records = list(scan_lines(lines))
    assert [(r["line"], r["kind"]) for r in records] == [(2, "phone"), (4, "rrn"), (4, "phone")]
    for r in records:
        assert set(r) == {"line", "start", "end", "kind", "score"}
        assert lines[r["line"] - 1][r["start"] : r["end"]] in (phone, rrn)


def test_no_findings_in_ordinary_city_data():
    clean = [
        "2026-11-01 05:00:00",
        "2026-11-01T05:00:00+09:00",
        "2026-11-01",
        "35.2",
        "PM2.5 35.2㎍/㎥ 측정",
        "CC11560001",
        "YDP-00012",
        "11560",
        "1156011000",
        "1730419200000",
        "20261101050000",
        "127.0.0.1",
        "37.5219, 126.9245",
        "영등포구 여의도동 측정소",
        "지하철 2호선 당산역 3번 출구로 10분",
        "서울시 기준으로 10곳",
        "운동 30분, 활동 3회",
        "550e8400-e29b-41d4-a716-446655440000",
    ]
    for text in clean:
        assert scan_text(text) == [], text
    assert scan_column(pa.array(clean)) == {}
    assert scan_column(pa.array([11560, 1156011000, 1730419200, 20261101])) == {}


def test_scan_column_counts_exactly_the_planted_phones_in_200k_rows(rng):
    rows = 200_000
    values = [
        f"2026-11-01 {i % 24:02d}:{i % 60:02d}:00"
        if i % 3 == 0
        else f"{rng.uniform(0, 150):.1f}"
        if i % 3 == 1
        else f"CC{11560000 + i % 900}"
        for i in range(rows)
    ]
    planted = rng.sample(range(rows), 300)
    for i in planted:
        values[i] = mobile(rng) if i % 2 else mobile(rng).replace("-", "")
    column = pa.chunked_array([pa.array(values[:100_000]), pa.array(values[100_000:])])
    assert scan_column(column) == {"phone": 300}
    assert scan_column(column.dictionary_encode()) == {"phone": 300}


@pytest.mark.parametrize("min_score", [0.3, 0.5, 0.9])
def test_scan_column_agrees_with_scan_text_value_by_value(rng, min_score):
    values = (
        [people.rrn(rng) for _ in range(50)]
        + [people.rrn(rng).replace("-", "") for _ in range(50)]
        + [registration("850101", 2, rng, valid=False) for _ in range(50)]
        + [registration("220704", 4, rng, valid=False) for _ in range(50)]
        + [registration("880808", 6, rng, base=13) for _ in range(20)]
        + [mobile(rng) for _ in range(50)]
        + ["02-123-4567", "0212345678", "011-234-5678", "1588-1234"]
        + ["12가3456", "서울12가3456", "minseo.kim@example.kr", "not@mail"]
        + [business_number(rng) for _ in range(20)]
        + [card_number(rng, valid=bool(i % 2)) for i in range(20)]
        + ["110-123-456789", "서울특별시 영등포구 여의대로 24", "성명: 홍길동"]
        + [f"연락처 {mobile(rng)}, 주민번호 {people.rrn(rng)}" for _ in range(20)]
        + [None, "", "35.2"]
    )
    expected: dict[str, int] = {}
    for value in values:
        for f in scan_text(value or "", min_score):
            expected[f.kind] = expected.get(f.kind, 0) + 1
    assert scan_column(pa.array(values), min_score) == expected
    assert scan_column(pa.array(values, pa.large_string()), min_score) == expected


def test_integer_columns_are_scanned_as_digits(rng):
    rrns = [people.rrn(rng).replace("-", "") for _ in range(100)]
    assert scan_column(pa.array([int(r) for r in rrns], pa.int64())) == {"rrn": 100}
    phones = [int(mobile(rng).replace("-", "")) for _ in range(10)]  # 10 digits, zero lost
    assert scan_column(pa.array(phones), name="phone_no") == {"phone": 10}
    assert scan_column(pa.array(phones), name="dong_code") == {}


def test_name_column_heuristic(rng):
    names = pa.array([people.name(rng) for _ in range(5000)] + [None] * 100)
    assert scan_column(names) == {"person_name": 5000}
    gu = ["강남구", "서초구", "송파구", "강동구", "강서구", "양천구", "영등포구", "동작구"]
    assert scan_column(pa.array([rng.choice(gu) for _ in range(5000)])) == {}
    status = ["정상", "오류", "점검"]
    assert scan_column(pa.array([rng.choice(status) for _ in range(5000)])) == {}


def test_scan_table_reports_only_columns_with_findings(rng):
    n = 1000
    table = pa.table(
        {
            "station_id": [f"CC{11560000 + i}" for i in range(n)],
            "pm10": [rng.uniform(0, 150) for _ in range(n)],
            "measured_at": [f"2026-11-01 05:{i % 60:02d}:00" for i in range(n)],
            "reporter": [people.name(rng) for _ in range(n)],
            "contact": [mobile(rng) if i % 10 == 0 else None for i in range(n)],
            "tel": [f"02{rng.randint(2000000, 9999999)}" for _ in range(n)],
        }
    )
    assert scan_table(table) == {
        "reporter": {"person_name": n},
        "contact": {"phone": n // 10},
        "tel": {"phone": n},  # dashless landlines count because the column is named tel
    }


def test_every_recognizer_has_a_stable_kind():
    assert {r.kind for r in RECOGNIZERS} == set(KINDS)


def test_cli_prints_one_json_object_per_finding(tmp_path, rng):
    phone, rrn = mobile(rng), people.rrn(rng)
    path = tmp_path / "민원.txt"
    path.write_text(f"제목: 소음 민원\n연락처 {phone}\n주민번호 {rrn}\n", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(app, ["pii", "scan", str(path)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [(r["line"], r["kind"]) for r in records] == [(2, "phone"), (3, "rrn")]
    assert list(records[0]) == ["line", "start", "end", "kind", "score"]
    assert records[0]["start"] == len("연락처 ") and records[0]["end"] == len(f"연락처 {phone}")

    piped = runner.invoke(app, ["pii", "scan", "-"], input=path.read_text(encoding="utf-8"))
    assert piped.exit_code == 0 and piped.output == result.output
    assert (
        runner.invoke(app, ["pii", "scan"], input=path.read_text(encoding="utf-8")).output
        == result.output
    )

    clean = runner.invoke(app, ["pii", "scan"], input="2026-11-01 05:00:00 35.2\n")
    assert clean.exit_code == 0 and clean.output == ""


def test_cli_reads_cp949_files(tmp_path, rng):
    phone = mobile(rng)
    path = tmp_path / "cp949.txt"
    path.write_bytes(f"담당자 연락처 {phone}\n".encode("cp949"))
    result = CliRunner().invoke(app, ["pii", "scan", str(path)])
    assert result.exit_code == 0
    [record] = [json.loads(line) for line in result.output.splitlines()]
    assert (record["kind"], record["start"]) == ("phone", len("담당자 연락처 "))


def test_a_name_after_a_label_with_a_particle_is_found_and_scrubbed():
    from privacy.scanner import scrub_text

    assert scrub_text("제 이름은 김민서입니다") == "제 이름은 <person_name>입니다"
    assert scrub_text("이름 변경 요청") == "이름 변경 요청"
