"""Korean identifiers written loosely are found by ``hub pii scan`` and by the protect step's
column scan: resident and foreigner registration numbers and business registration numbers
with spaces around the hyphen, Unicode or full-width hyphens, dots or no separator beside a
context word, and business numbers with an unusual office code named by their context word.
Precision holds: dates, phone and account numbers and order ids raise no alarm."""

from __future__ import annotations

import json
import random

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from hub.cli import app
from privacy.scanner import scan_column, scrub_text
from simulators import people

CONTEXT = {"rrn": "주민등록번호", "foreign_rrn": "외국인등록번호", "business_no": "사업자등록번호"}
MAKE = {
    "rrn": people.rrn,
    "foreign_rrn": people.foreign_rrn,
    "business_no": people.business_no,
}


def corpus(seed: int = 16) -> list[tuple[str, str, str]]:
    """(line, kind, the number as written), deterministic: every loose form of every kind."""
    rng = random.Random(seed)
    lines = []
    for kind, make in MAKE.items():
        for hyphen in people.HYPHENS:  # any hyphen, spaced or Unicode: found without context
            number = make(rng).replace("-", hyphen)
            lines.append((f"민원 첨부 {number} 확인 바람", kind, number))
        for sep in (".", " ", ""):  # dots, spaces, nothing: found beside the context word
            number = make(rng).replace("-", sep)
            lines.append((f"{CONTEXT[kind]}{': ' if sep else ''}{number}", kind, number))
    for office in (0, 12, 99):  # unusual tax-office codes, named by their context word
        number = people.business_no(rng, office=office)
        lines.append((f"사업자등록번호 {number}", "business_no", number))
        lines.append(
            (f"사업자번호:{number.replace('-', '')}", "business_no", number.replace("-", ""))
        )
    return lines


LOOK_ALIKES = [
    "접수일 2026-10-31, 처리일 2026.11.01 09:30",
    "기간 20261001 ~ 20261031",
    "문의 010-2345-6789 또는 02-123-4567",
    "연락처 010 2345 6789",
    "입금 계좌 110-123-456789 (신한), 1002-345-678901",
    "주문번호 ORD-20261031-1234567, 송장 6012-3456-7890",
    "측정값 123456.1234567 ㎍/㎥, 좌표 37.5665 126.9780",
    "기록 261031 1234567건 처리",
    "버전 220.81.62517 배포",
    "주문 2026103112345 (13자리 주문번호)",
]


def _scan(lines: list[str]) -> list[dict]:
    result = CliRunner().invoke(app, ["pii", "scan"], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


@pytest.mark.parametrize("seed", [16, 17, 18])
def test_hub_pii_scan_finds_every_loosely_written_identifier(seed):
    lines = corpus(seed)
    findings = _scan([line for line, _, _ in lines])
    for n, (line, kind, number) in enumerate(lines, 1):
        found = [f for f in findings if f["line"] == n]
        assert [(f["kind"], line[f["start"] : f["end"]]) for f in found] == [(kind, number)], line


def test_no_false_alarm_on_dates_phones_accounts_and_order_ids():
    findings = _scan(LOOK_ALIKES)
    assert [
        (LOOK_ALIKES[f["line"] - 1], f["kind"])
        for f in findings
        if f["kind"] in ("rrn", "foreign_rrn", "business_no")
    ] == []


def test_the_protect_scan_finds_loose_numbers_in_a_column_and_scrubs_them_from_text():
    lines = corpus(19)
    column = pa.array([line for line, _, _ in lines], pa.large_string())
    found = scan_column(column, name="memo")
    expected: dict[str, int] = {}
    for _, kind, _ in lines:
        expected[kind] = expected.get(kind, 0) + 1
    assert {k: found.get(k, 0) for k in expected} == expected
    for line, kind, number in lines:
        assert number not in scrub_text(line) and f"<{kind}>" in scrub_text(line)


def test_a_whole_column_of_spaced_registration_numbers_is_found():
    rng = random.Random(20)
    values = [people.written_loosely(people.rrn(rng), rng) for _ in range(200)]
    assert scan_column(pa.array(values), name="보호자주민번호") == {"rrn": 200}
