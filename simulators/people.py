"""Synthetic people: Hangul names and resident registration numbers with a valid check digit."""

from __future__ import annotations

import random

SURNAMES = "김이박최정강조윤장임한오서신권황안송전홍"
GIVEN = "민서지현우준하윤도연수아진영예은시호유건태"


def name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)


def rrn(rng: random.Random) -> str:
    """YYMMDD-GNNNNNC with the pre-2020 weighted check digit (synthetic, never a real person)."""
    year = rng.randint(1950, 2019)
    digits = f"{year % 100:02d}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    gender = rng.choice("12") if year < 2000 else rng.choice("34")
    body = digits + gender + f"{rng.randint(0, 99999):05d}"
    weights = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]
    check = (11 - sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11) % 10
    return f"{body[:6]}-{body[6:]}{check}"


def foreign_rrn(rng: random.Random) -> str:
    """A foreigner registration number: gender digit 5-8, check digit (13 - s % 11) % 10."""
    year = rng.randint(1950, 2019)
    digits = f"{year % 100:02d}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    gender = rng.choice("56") if year < 2000 else rng.choice("78")
    body = digits + gender + f"{rng.randint(0, 99999):05d}"
    weights = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]
    check = (13 - sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11) % 10
    return f"{body[:6]}-{body[6:]}{check}"


def business_no(rng: random.Random, office: int | None = None) -> str:
    """An NTS business registration number with a valid check digit; ``office`` may be an
    unusual tax-office code (below 101) as some old or special registrations carry."""
    office = rng.randint(101, 999) if office is None else office
    body = f"{office:03d}{rng.randint(1, 99):02d}{rng.randint(0, 9999):04d}"
    digits = [int(c) for c in body]
    total = sum(d * w for d, w in zip(digits, (1, 3, 7, 1, 3, 7, 1, 3, 5), strict=True))
    total += digits[8] * 5 // 10
    return f"{body[:3]}-{body[3:5]}-{body[5:]}{(10 - total % 10) % 10}"


#: How people type the hyphen of a number: spaces around it, Unicode hyphens and dashes, the
#: minus sign, the full-width hyphen.
HYPHENS = [" - ", " -", "- ", "\u2010", "\u2011", "\u2013", "\u2014", "\u2212", "\uff0d"]


def written_loosely(number: str, rng: random.Random) -> str:
    """``number`` (hyphenated) with each hyphen typed as one loose form picked by ``rng``."""
    return number.replace("-", rng.choice(HYPHENS))
