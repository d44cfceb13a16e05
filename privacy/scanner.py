"""Find personal data (Korea's PIPA) in text and tables, with Korean recognizers.

Every kind is declared once in ``RECOGNIZERS`` (a regex, a validator for checksums and dates,
context words and a base score); ``scan_text``, ``scrub_text``, ``scan_lines``, ``scan_column``
and ``scan_table`` all use that registry, so a recognizer added there is found everywhere.

Scores run from 0 to 1: the validator gives the base (a valid checksum scores high, a number
that only has the right shape scores low), a context word near the match (``연락처``, ``phone``,
or the column name) adds the recognizer's boost. The default threshold is 0.5, so low-score
shapes (dashless landlines, bank-account-like digit groups) are reported only with context.
When findings overlap the higher score wins, so an RRN is never also a phone or a card number.
``scrub_text`` replaces each finding with ``<kind>``, e.g. ``<phone>``, ``<rrn>``.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import cached_property

import pyarrow as pa
import pyarrow.compute as pc

KINDS = (
    "rrn",
    "foreign_rrn",
    "phone",
    "plate",
    "business_no",
    "email",
    "card",
    "account",
    "address",
    "person_name",
)


@dataclass(frozen=True)
class Finding:
    """One piece of personal data: what it is, where it is (character offsets) and how sure."""

    kind: str
    start: int
    end: int
    score: float
    text: str


Validator = Callable[[re.Match[str]], float | None]


@dataclass(frozen=True)
class Recognizer:
    """One kind of personal data, declared once for text, line, column and table scans.

    ``validator`` returns the base score of a match or None to reject it (bad checksum,
    impossible date); ``score`` is the highest base score (and the score when there is no
    validator). ``prefilter`` is an RE2 pattern (pyarrow) found in every text the pattern
    matches, so column scans skip the other values without Python. ``whole`` is the vectorized
    validator for values that are exactly one match (a score, null otherwise): it lets a column
    full of phones or RRNs be decided in pyarrow. ``group`` names the reported part of a match.
    """

    kind: str
    pattern: re.Pattern[str]
    prefilter: str
    score: float
    validator: Validator | None = None
    context: tuple[str, ...] = ()
    boost: float = 0.25
    group: str | int = 0
    whole: Callable[[pa.Array], pa.Array] | None = None

    @property
    def ceiling(self) -> float:
        """The highest score this recognizer can report, context included."""
        return round(min(1.0, self.score + (self.boost if self.context else 0.0)), 2)

    @cached_property
    def context_re(self) -> re.Pattern[str] | None:
        """Korean words match anywhere; English ones as words (``tel`` not in ``hotel``)."""
        if not self.context:
            return None
        parts = [re.escape(w) for w in self.context if not w.isascii()]
        english = [re.escape(w) for w in self.context if w.isascii()]
        if english:
            parts.append(
                rf"(?<![A-Za-z])(?:{'|'.join(english)})(?:s|_?no|_?num(?:ber)?)?(?![A-Za-z])"
            )
        return re.compile("|".join(parts), re.IGNORECASE | re.ASCII)

    def has_context(self, text: str, start: int, end: int, extra: str = "") -> bool:
        """A context word just before or after the match, or in ``extra`` (a column name)."""
        if self.context_re is None:
            return False
        window = f"{text[max(0, start - 30) : start]}\n{text[end : end + 15]}"
        return bool(self.context_re.search(window) or (extra and self.context_re.search(extra)))


# Not part of a longer number, an id like CC11560001 / YDP-00012, or a decimal like 35.2.
_L = r"(?<![0-9A-Za-z_.\-])"
_R = r"(?![0-9A-Za-z_]|[.\-][0-9])"


def _digits(text: str) -> list[int]:
    return [int(c) for c in text if c.isdigit()]


# --- resident and foreign registration numbers -------------------------------------------------

_RRN_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
_RANDOM_SINCE = date(2020, 10, 1)  # numbers issued from October 2020 have no check digit


def _registration_score(match: re.Match[str], foreign: bool) -> float | None:
    """Valid birth date and gender digit required; the legacy check digit decides the score.

    Residents: (11 - s % 11) % 10; foreigners: (13 - s % 11) % 10. A failing check digit is
    expected for people born from October 2020 (0.6); for older birth dates it is more likely
    a random number than an RRN (0.4, reported only with context).
    """
    digits = _digits(match.group(0))
    century = 1900 if digits[6] in (1, 2, 5, 6) else 2000
    try:
        born = date(
            century + digits[0] * 10 + digits[1],
            digits[2] * 10 + digits[3],
            digits[4] * 10 + digits[5],
        )
    except ValueError:
        return None
    if born > date.today():
        return None
    total = sum(d * w for d, w in zip(digits, _RRN_WEIGHTS, strict=False))
    check = ((13 if foreign else 11) - total % 11) % 10
    legacy = 0.9 if foreign else 0.95
    score = legacy if check == digits[12] else (0.6 if born >= _RANDOM_SINCE else 0.4)
    return min(score, 0.45) if _loose(match) else score


#: Hyphens people type: ASCII, Unicode hyphens and dashes, the minus sign, the full-width one.
_HYPHENS = "\\-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uff0d"
#: Between the parts of a number: a hyphen (spaces around it allowed), a dot, spaces, nothing.
_SEP = rf"(?P<sep>[ \t]*[{_HYPHENS}][ \t]*|[.][ \t]?|[ \t]+|)"
_SEP_RE2 = rf"(?:[ \t]*[{_HYPHENS}][ \t]*|[.][ \t]?|[ \t]+)?"


def _loose(match: re.Match[str]) -> bool:
    """Written with a dot or spaces only: a decimal or two numbers side by side look the
    same, so such a match needs a context word to be reported."""
    sep = match.group("sep")
    return bool(sep) and not any(c in sep for c in _HYPHENS.replace("\\", ""))


_RRN = re.compile(_L + r"[0-9]{6}" + _SEP + r"[1-4][0-9]{6}" + _R, re.ASCII)
_FOREIGN = re.compile(_L + r"[0-9]{6}" + _SEP + r"[5-8][0-9]{6}" + _R, re.ASCII)

# --- phone numbers ---------------------------------------------------------------------------

_AREA = r"02|03[1-3]|04[1-4]|05[1-5]|06[1-4]|070"
_PHONE = re.compile(
    r"(?<![0-9A-Za-z_.\-+])(?:"
    r"(?P<mobile>01[016789])(?P<s1>[-. ]?)(?P<mid>[0-9]{3,4})(?P=s1)[0-9]{4}"
    rf"|(?P<area>{_AREA})(?P<s2>[-. ]?)[0-9]{{3,4}}(?P=s2)[0-9]{{4}}"
    rf"|\((?:{_AREA})\)\s?[0-9]{{3,4}}-[0-9]{{4}}"
    rf"|\+82(?P<s3>[-. ]?)(?:1[016789]|2|3[1-3]|4[1-4]|5[1-5]|6[1-4]|70)(?P=s3)[0-9]{{3,4}}(?P=s3)[0-9]{{4}}"
    r"|(?P<rep>1[568][0-9]{2})-[0-9]{4}"
    r")" + _R,
    re.ASCII,
)


def _phone_score(match: re.Match[str]) -> float | None:
    """Separated mobile numbers are unmistakable; dashless landlines and 15xx numbers need context."""
    if match.group("mobile"):
        if match.group("mobile") == "010" and len(match.group("mid")) != 4:
            return None
        return 0.85 if match.group("s1") else 0.75
    if match.group("area"):
        return 0.7 if match.group("s2") else 0.4
    if match.group("rep"):
        return 0.4
    return 0.8  # (02) 123-4567 or +82


# --- vehicle plates --------------------------------------------------------------------------

_PLATE_HANGUL = "가나다라마거너더러머버서어저고노도로모보소오조구누두루무부수우주아바사자배하허호"
_REGIONS = "서울|부산|대구|인천|광주|대전|울산|세종|경기|강원|충북|충남|전북|전남|경북|경남|제주"
_PLATE = re.compile(
    rf"(?<![0-9])(?:(?P<region>{_REGIONS})\s?[0-9]{{1,2}}|[0-9]{{2,3}})"
    rf"(?P<sp1>\s?)[{_PLATE_HANGUL}](?P<sp2>\s?)[0-9]{{4}}(?![0-9])",
    re.ASCII,
)


def _plate_score(match: re.Match[str]) -> float:
    """Spaced forms (``12가 3456``) also occur in prose (``12주 2026``), so they need context."""
    if match.group("sp1") or match.group("sp2"):
        return 0.45
    return 0.85 if match.group("region") else 0.8


# --- business registration numbers ----------------------------------------------------------

_BUSINESS = re.compile(_L + r"[0-9]{3}" + _SEP + r"[0-9]{2}(?P=sep)[0-9]{5}" + _R, re.ASCII)


def _business_score(match: re.Match[str]) -> float | None:
    """NTS checksum: weights 1,3,7,1,3,7,1,3,5, plus (d9 * 5) // 10. Hyphenated numbers with
    a usual tax-office code (101-999) stand alone; dashless, dotted or spaced ones and unusual
    office codes (0xx) need a context word such as 사업자등록번호."""
    d = _digits(match.group(0))
    total = sum(x * w for x, w in zip(d, (1, 3, 7, 1, 3, 7, 1, 3, 5), strict=False))
    total += d[8] * 5 // 10
    if (10 - total % 10) % 10 != d[9]:
        return None
    if not match.group("sep") or d[0] == 0:
        return 0.3
    return 0.45 if _loose(match) else 0.8


# --- e-mail, card numbers, bank accounts ------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
    r"(?![A-Za-z0-9\-])",
    re.ASCII,
)

_CARD = re.compile(
    _L + r"(?:[0-9]{4}(?P<s>[ -]?)[0-9]{4}(?P=s)[0-9]{4}(?P=s)[0-9]{1,7}"
    r"|[0-9]{4}(?P<t>[ -]?)[0-9]{6}(?P=t)[0-9]{5})" + _R,
    re.ASCII,
)


def _luhn(digits: list[int]) -> bool:
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card_issuer(d: list[int]) -> bool:
    """Issuer prefix and length (Visa, Mastercard, Amex, JCB, Diners, Discover, UnionPay, BC 9)."""
    n, two, four = len(d), d[0] * 10 + d[1], int("".join(map(str, d[:4])))
    if d[0] == 4:
        return n in (13, 16, 19)
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return n == 16
    if two in (34, 37):
        return n == 15
    if two in (36, 38) or 300 <= four // 10 <= 305:
        return n == 14
    if 3528 <= four <= 3589 or four == 6011 or two in (62, 65) or 644 <= four // 10 <= 649:
        return 16 <= n <= 19
    return d[0] == 9 and n == 16


def _card_score(match: re.Match[str]) -> float | None:
    """Luhn-valid with a real issuer prefix and length; 16-digit ids mostly fail one of them."""
    d = _digits(match.group(0))
    if not _card_issuer(d) or not _luhn(d):
        return None
    return 0.85 if match.group("s") or match.group("t") else 0.7


_ACCOUNT = re.compile(_L + r"[0-9]{2,6}(?:-[0-9]{2,7}){2,3}" + _R, re.ASCII)


def _account_score(match: re.Match[str]) -> float | None:
    """10-14 digits in dashed groups (110-123-456789); many ids look alike, so low without context."""
    groups = match.group(0).split("-")
    if not 10 <= sum(map(len, groups)) <= 14 or max(map(len, groups[1:])) < 3:
        return None
    return 0.35


# --- street addresses ------------------------------------------------------------------------

_SIDO = (
    r"(?:서울|부산|대구|인천|광주|대전|울산|세종)(?:특별시|광역시|특별자치시|시)?"
    r"|(?:경기|강원|충청북|충청남|전라북|전라남|경상북|경상남|제주|강원특별자치|전북특별자치|제주특별자치)도"
    r"|경기|강원|충북|충남|전북|전남|경북|경남|제주"
)
# Ordinary words ending in 시/군/구 that would otherwise pass for a city or district.
_NOT_SIGUNGU = (
    "다시|역시|혹시|당시|표시|지시|게시|개시|동시|즉시|잠시|상시|실시|감시|무시|제시|전시|일시|임시"
    "|연구|요구|추구|도구|가구|입구|출구|창구|항구|친구"
)
_SIGUNGU = rf"(?!(?:{_NOT_SIGUNGU})\s)[가-힣]{{1,4}}(?:시|군|구)"
_TOWN = r"[가-힣][가-힣0-9]{0,5}(?:읍|면|동)"
_ROAD = r"[가-힣][가-힣0-9·]{0,14}(?<!으)(?:로|길)\s?(?:지하\s?)?[0-9]{1,5}(?:-[0-9]{1,5})?(?![0-9동가])"  # 신길1동 is a dong, not 신길 + 1
_LOT = r"[가-힣][가-힣0-9]{0,8}(?:동|리|[0-9]가)\s?(?:산\s?)?[0-9]{1,5}(?:-[0-9]{1,5})?(?:\s?번지)?"
_UNIT = r"(?:,?\s?[0-9]{1,4}동)?(?:\s?[0-9]{1,5}호)?"
_NOT_AFTER = r"[0-9]|[.][0-9]|분|초|시간|개|명|원|년|월|일|회|건|배|살|세|점|km|m|%"
_ADDRESS = re.compile(
    rf"(?<![가-힣])(?P<region>(?:(?:{_SIDO})\s)?(?:(?:{_SIGUNGU})\s){{0,2}})(?:(?:{_TOWN})\s)?"
    rf"(?:{_ROAD}|{_LOT}){_UNIT}(?!{_NOT_AFTER})",
    re.ASCII,
)


def _address_score(match: re.Match[str]) -> float:
    """Addresses normally start with a city or district; a bare ``...로 12`` may be prose."""
    return 0.85 if match.group("region") else 0.45


# --- person names ----------------------------------------------------------------------------

SURNAMES = (
    "김이박최정강조윤장임한오서신권황안송전홍유고문양손배백허남심노하곽성차주우구민류나진지엄채"
    "원천방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용예경봉"
)
_NAME_LABELS = (
    "성명|이름|성함|고객명|환자명|신청인|작성자|보호자|예금주|수취인|대표자|(?<![A-Za-z])(?i:name)"
)
# Words that follow a name label without being a name (``이름 변경``).
_NOT_NAMES = frozenset({"변경", "정보", "표시", "전체", "공개", "기재", "기입", "미상", "없음"})
_NAME_KO = re.compile(
    rf"(?:{_NAME_LABELS})(?:은|는)?(?P<sep>\s*[:：=]\s*|\s+)"  # 이름은 김민서입니다
    rf"(?P<value>[{SURNAMES}][가-힣]{{1,3}}?)"
    r"(?=[^가-힣]|$|님|씨|입니다|이고|이며|이다|이에요|예요|에게|께|는|를|의|와)",
    re.ASCII,
)
_NAME_EN = re.compile(
    r"(?<![A-Za-z])(?i:name)\s*[:=]\s*(?P<value>[A-Z][a-z]+(?:[ -][A-Z][a-z]+){1,2})(?![A-Za-z])",
    re.ASCII,
)


def _name_score(match: re.Match[str]) -> float | None:
    """A colon after the label (``성명: 홍길동``) is a form field; a space alone is weaker."""
    if match.group("value") in _NOT_NAMES:
        return None
    return 0.85 if match.group("sep").strip() else 0.65


# --- vectorized whole-value validators (scan_column) -----------------------------------------


def _full_match(*rules: tuple[str, float]) -> Callable[[pa.Array], pa.Array]:
    """The score of the first RE2 pattern a whole value matches; null when none does."""

    def scores(values: pa.Array) -> pa.Array:
        out = pa.nulls(len(values), pa.float64())
        for pattern, score in reversed(rules):
            out = pc.if_else(pc.match_substring_regex(values, pattern), score, out)
        return out

    return scores


def _registration_column(genders: str, foreign: bool) -> Callable[[pa.Array], pa.Array]:
    """``_registration_score`` in pyarrow, so a column of a million RRNs needs no Python loop."""
    shape = f"^[0-9]{{6}}-?[{genders}][0-9]{{6}}$"

    def scores(values: pa.Array) -> pa.Array:
        ok = pc.match_substring_regex(values, shape)
        number = pc.cast(
            pc.if_else(ok, pc.replace_substring(values, "-", ""), "0001011000000"), pa.int64()
        )
        d = [pc.modulo(pc.divide(number, 10 ** (12 - i)), 10) for i in range(13)]

        def pair(i: int) -> pa.Array:
            return pc.add(pc.multiply(d[i], 10), d[i + 1])

        century = pc.if_else(pc.is_in(d[6], pa.array([1, 2, 5, 6], pa.int64())), 1900, 2000)
        year, month, day = pc.add(century, pair(0)), pair(2), pair(4)
        leap = pc.or_(
            pc.and_(pc.equal(pc.modulo(year, 4), 0), pc.not_equal(pc.modulo(year, 100), 0)),
            pc.equal(pc.modulo(year, 400), 0),
        )
        month_ok = pc.and_(pc.greater_equal(month, 1), pc.less_equal(month, 12))
        lengths = pa.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], pa.int64())
        days = pc.take(lengths, pc.if_else(month_ok, month, 0))
        days = pc.add(days, pc.cast(pc.and_(leap, pc.equal(month, 2)), pa.int64()))
        born = pc.add(pc.add(pc.multiply(year, 10000), pc.multiply(month, 100)), day)
        today = int(date.today().strftime("%Y%m%d"))
        valid = pc.and_(
            pc.and_(ok, month_ok),
            pc.and_(
                pc.and_(pc.greater_equal(day, 1), pc.less_equal(day, days)),
                pc.less_equal(born, today),
            ),
        )
        total = pc.multiply(d[0], _RRN_WEIGHTS[0])
        for digit, weight in zip(d[1:12], _RRN_WEIGHTS[1:], strict=True):
            total = pc.add(total, pc.multiply(digit, weight))
        check = pc.modulo(pc.subtract(13 if foreign else 11, pc.modulo(total, 11)), 10)
        fallback = pc.if_else(
            pc.greater_equal(born, int(_RANDOM_SINCE.strftime("%Y%m%d"))), 0.6, 0.4
        )
        score = pc.if_else(pc.equal(check, d[12]), 0.9 if foreign else 0.95, fallback)
        return pc.if_else(valid, score, pa.scalar(None, pa.float64()))

    return scores


# --- the registry ----------------------------------------------------------------------------

# RE2 (pyarrow) versions of _L and _R for prefilters; RE2 has no lookaround.
_B = r"(?:^|[^0-9A-Za-z_.\-])"
_E = r"(?:$|[^0-9A-Za-z_])"

RECOGNIZERS: tuple[Recognizer, ...] = (
    Recognizer(
        "rrn",
        _RRN,
        _B + r"[0-9]{6}" + _SEP_RE2 + r"[1-4][0-9]{6}" + _E,
        0.95,
        lambda m: _registration_score(m, foreign=False),
        ("주민등록번호", "주민번호", "주민등록", "생년월일", "rrn", "resident"),
        whole=_registration_column("1-4", foreign=False),
    ),
    Recognizer(
        "foreign_rrn",
        _FOREIGN,
        _B + r"[0-9]{6}" + _SEP_RE2 + r"[5-8][0-9]{6}" + _E,
        0.9,
        lambda m: _registration_score(m, foreign=True),
        ("외국인등록번호", "외국인번호", "외국인", "등록번호", "foreigner", "alien", "arc"),
        whole=_registration_column("5-8", foreign=True),
    ),
    Recognizer(
        "phone",
        _PHONE,
        r"(?:^|[^0-9A-Za-z_.\-+])(?:0[1-7][0-9]?[-. ]?[0-9]{3,4}[-. ]?[0-9]{4}"
        r"|\([0-9]{2,3}\)\s?[0-9]{3,4}-[0-9]{4}|\+82|1[568][0-9]{2}-[0-9]{4})",
        0.85,
        _phone_score,
        (
            "전화",
            "연락처",
            "휴대폰",
            "핸드폰",
            "휴대전화",
            "팩스",
            "phone",
            "mobile",
            "tel",
            "cell",
            "fax",
            "contact",
        ),
        whole=_full_match(
            (r"^01[016789]-[0-9]{4}-[0-9]{4}$|^01[16789]-[0-9]{3}-[0-9]{4}$", 0.85),
            (r"^010[0-9]{8}$|^01[16789][0-9]{7,8}$", 0.75),
            (rf"^(?:{_AREA})-[0-9]{{3,4}}-[0-9]{{4}}$", 0.7),
        ),
    ),
    Recognizer(
        "plate",
        _PLATE,
        r"[0-9]\s?[가-힣]\s?[0-9]{4}",
        0.85,
        _plate_score,
        ("차량번호", "차량", "번호판", "자동차", "plate", "vehicle", "car"),
        whole=_full_match(
            (rf"^(?:{_REGIONS})[0-9]{{1,2}}[{_PLATE_HANGUL}][0-9]{{4}}$", 0.85),
            (rf"^[0-9]{{2,3}}[{_PLATE_HANGUL}][0-9]{{4}}$", 0.8),
        ),
    ),
    Recognizer(
        "business_no",
        _BUSINESS,
        _B + r"[0-9]{3}" + _SEP_RE2 + r"[0-9]{2}" + _SEP_RE2 + r"[0-9]{5}" + _E,
        0.8,
        _business_score,
        ("사업자등록번호", "사업자번호", "사업자", "business", "brn", "biz"),
        boost=0.4,
    ),
    Recognizer(
        "email",
        _EMAIL,
        r"@[A-Za-z0-9\-]+\.",
        0.9,
        None,
        ("이메일", "메일", "전자우편", "email", "e-mail", "mail"),
        whole=_full_match(
            (r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$", 0.9)
        ),
    ),
    Recognizer(
        "card",
        _CARD,
        _B + r"(?:[0-9]{4}[ -]?[0-9]{4}[ -]?[0-9]{4}[ -]?[0-9]|[0-9]{4}[ -]?[0-9]{6}[ -]?[0-9]{5})",
        0.85,
        _card_score,
        (
            "카드",
            "카드번호",
            "신용카드",
            "체크카드",
            "결제",
            "card",
            "credit",
            "visa",
            "mastercard",
        ),
    ),
    Recognizer(
        "account",
        _ACCOUNT,
        r"[0-9]{2,6}-[0-9]{2,7}-[0-9]{3,7}|[0-9]{2,6}-[0-9]{3,7}-[0-9]{2,7}",
        0.35,
        _account_score,
        ("계좌", "계좌번호", "입금", "송금", "은행", "예금주", "account", "acct", "bank"),
        boost=0.4,
    ),
    Recognizer(
        "address",
        _ADDRESS,
        r"(?:로|길|동|리|[0-9]가)\s?(?:지하\s?|산\s?)?[0-9]",
        0.85,
        _address_score,
        ("주소", "거주지", "소재지", "배송지", "자택", "주거지", "address", "addr"),
        boost=0.3,
    ),
    Recognizer(
        "person_name",
        _NAME_KO,
        _NAME_LABELS.replace("(?<![A-Za-z])", ""),
        0.85,
        _name_score,
        group="value",
    ),
    Recognizer("person_name", _NAME_EN, r"(?i:name)\s*[:=]", 0.7, group="value"),
)


# --- text ------------------------------------------------------------------------------------


def _resolve(candidates: list[Finding]) -> list[Finding]:
    """Keep the best of overlapping findings: higher score, then longer, then earlier."""
    starts: list[int] = []
    kept: list[Finding] = []
    for f in sorted(candidates, key=lambda f: (-f.score, f.start - f.end, f.start)):
        i = bisect_left(starts, f.start)
        if (i > 0 and kept[i - 1].end > f.start) or (i < len(kept) and kept[i].start < f.end):
            continue
        starts.insert(i, f.start)
        kept.insert(i, f)
    return kept


def _find(
    text: str, recognizers: Iterable[Recognizer], min_score: float, context: str = ""
) -> list[Finding]:
    """All findings, overlaps resolved before the threshold so a weak better match still wins."""
    candidates = []
    for r in recognizers:
        for m in r.pattern.finditer(text):
            score = r.score if r.validator is None else r.validator(m)
            if score is None:
                continue
            start, end = m.span(r.group)
            if r.has_context(text, start, end, context):
                score += r.boost
            score = round(min(score, r.ceiling), 2)
            candidates.append(Finding(r.kind, start, end, score, text[start:end]))
    return [f for f in _resolve(candidates) if f.score >= min_score]


def scan_text(text: str, min_score: float = 0.5) -> list[Finding]:
    """Personal data in ``text``, sorted by start, at or above ``min_score``."""
    return _find(text, RECOGNIZERS, min_score)


def scrub_text(text: str, min_score: float = 0.5) -> str:
    """``text`` with each finding replaced by ``<kind>`` (``<phone>``, ``<rrn>``, ...)."""
    out, pos = [], 0
    for f in scan_text(text, min_score):
        out += [text[pos : f.start], f"<{f.kind}>"]
        pos = f.end
    out.append(text[pos:])
    return "".join(out)


def scan_lines(lines: Iterable[str], min_score: float = 0.5) -> Iterator[dict]:
    """``{"line", "start", "end", "kind", "score"}`` per finding; lines 1-based, offsets in the line."""
    for n, line in enumerate(lines, 1):
        for f in scan_text(line.rstrip("\r\n"), min_score):
            yield {"line": n, "start": f.start, "end": f.end, "kind": f.kind, "score": f.score}


# --- columns and tables ----------------------------------------------------------------------

_CANDIDATE = "|".join(f"(?:{r.prefilter})" for r in RECOGNIZERS)
_NAME_VALUE = f"^[{SURNAMES}][가-힣]{{1,3}}$"
_NAME_COLUMN = re.compile(r"성명|이름|성함|고객명|name", re.IGNORECASE)
_PHONE_RECOGNIZER = next(r for r in RECOGNIZERS if r.kind == "phone")


def _distinct_text(
    values: pa.Array | pa.ChunkedArray, name: str
) -> tuple[pa.Array, pa.Array, bool] | None:
    """Distinct non-null values as strings, their row counts and whether the column is text
    (not integers); None for columns that can hold neither.

    Integers are scanned as digits (an RRN or a phone stored as a number). Their lost leading
    zero is put back for 12 digits (RRNs born 2000-2009) and, when the column name says phone,
    for 10 digits starting 10 (010 mobiles): elsewhere those are ordinary ids like dong codes.
    """
    typ = values.type.value_type if pa.types.is_dictionary(values.type) else values.type
    if pa.types.is_large_string(typ) or pa.types.is_string_view(typ):
        values, typ = values.cast(pa.large_string()), pa.large_string()
    if not (pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_integer(typ)):
        return None
    counted = pc.value_counts(values)
    uniques, counts = counted.field("values"), counted.field("counts")
    if pa.types.is_dictionary(uniques.type):
        uniques = uniques.dictionary_decode()
    valid = pc.is_valid(uniques)
    uniques, counts = uniques.filter(valid), counts.filter(valid)
    if pa.types.is_integer(typ):
        text = pc.cast(uniques, pa.string())
        length = pc.utf8_length(text)
        lost_zero = pc.equal(length, 12)
        if _PHONE_RECOGNIZER.has_context("", 0, 0, name):
            mobile = pc.and_(pc.equal(length, 10), pc.starts_with(text, "10"))
            lost_zero = pc.or_(lost_zero, mobile)
        uniques = pc.if_else(lost_zero, pc.binary_join_element_wise("0", text, ""), text)
    return uniques, counts, not pa.types.is_integer(typ)


def _name_column_rows(uniques: pa.Array, counts: pa.Array) -> int:
    """Rows of a column of person names: most values are 2-4 syllables starting with a common
    surname, many of them distinct, with varied last syllables (``강남구``/``서초구`` or
    ``정상``/``오류`` columns fail one of the last two)."""
    total = pc.sum(counts).as_py() or 0
    trimmed = pc.utf8_trim_whitespace(uniques)
    like = pc.match_substring_regex(trimmed, _NAME_VALUE)
    rows = pc.sum(counts.filter(like)).as_py() or 0
    if not total or rows < 0.6 * total:
        return 0
    names = pc.unique(trimmed.filter(like))
    if len(names) < max(10, min(20, rows // 2)):  # a few words are not a name column
        return 0
    last = pc.value_counts(pc.utf8_slice_codeunits(names, -1))
    if len(names) >= 4 and pc.max(last.field("counts")).as_py() > 0.5 * len(names):
        return 0
    return rows


def _decide_whole(
    candidates: pa.Array, weights: pa.Array, masks: list[pa.Array], min_score: float, name: str
) -> tuple[dict[str, int], pa.Array]:
    """Counts for values that are exactly one match, and the mask of values still undecided.

    A whole-value score is final when it beats the ceiling of every other recognizer whose
    prefilter matched the value: the Python path would resolve the overlap the same way.
    """
    found: dict[str, int] = {}
    undecided = pa.array([True] * len(candidates), pa.bool_())
    for i, r in enumerate(RECOGNIZERS):
        if r.whole is None or not pc.any(masks[i]).as_py():
            continue
        score = r.whole(candidates)
        if r.has_context("", 0, 0, name):
            score = pc.add(score, r.boost)
        score = pc.round(pc.min_element_wise(score, r.ceiling, skip_nulls=False), 2)
        rivals = [
            pc.if_else(mask, other.ceiling, 0.0)
            for j, (other, mask) in enumerate(zip(RECOGNIZERS, masks, strict=True))
            if j != i
        ]
        decided = pc.fill_null(pc.greater(score, pc.max_element_wise(*rivals)), False)
        hits = pc.sum(weights.filter(pc.and_(decided, pc.greater_equal(score, min_score))))
        if hits.as_py():
            found[r.kind] = found.get(r.kind, 0) + hits.as_py()
        undecided = pc.and_not(undecided, decided)
    return found, undecided


def scan_column(
    values: pa.Array | pa.ChunkedArray, min_score: float = 0.5, *, name: str = ""
) -> dict[str, int]:
    """Findings per kind in a column (a value with two phones counts twice).

    Distinct values are scanned once and weighted by their row counts. A vectorized RE2
    prefilter keeps the values some recognizer could match; values that are exactly one match
    are scored in pyarrow, the rest run the Python recognizers whose own prefilter matched.
    ``name`` (the column name) is context for every value.
    """
    distinct = _distinct_text(values, name)
    if distinct is None:
        return {}
    uniques, counts, is_text = distinct
    keep = pc.match_substring_regex(uniques, _CANDIDATE)
    candidates, weights = uniques.filter(keep), counts.filter(keep)
    masks = [pc.match_substring_regex(candidates, r.prefilter) for r in RECOGNIZERS]
    found, undecided = _decide_whole(candidates, weights, masks, min_score, name)
    rest = [mask.filter(undecided).to_pylist() for mask in masks]
    rest_weights = weights.filter(undecided).to_pylist()
    for i, text in enumerate(candidates.filter(undecided).to_pylist()):
        active = [r for r, mask in zip(RECOGNIZERS, rest, strict=True) if mask[i]]
        for f in _find(text, active, min_score, name):
            found[f.kind] = found.get(f.kind, 0) + rest_weights[i]
    if is_text:
        score = 0.9 if _NAME_COLUMN.search(name) else 0.7
        rows = _name_column_rows(uniques, counts) if score >= min_score else 0
        if rows:
            found["person_name"] = found.get("person_name", 0) + rows
    return found


def scan_table(table: pa.Table, min_score: float = 0.5) -> dict[str, dict[str, int]]:
    """Column name -> kind -> count, for the columns with findings; names serve as context."""
    result = {}
    for col_name, column in zip(table.column_names, table.columns, strict=True):
        found = scan_column(column, min_score, name=col_name)
        if found:
            result[col_name] = found
    return result
