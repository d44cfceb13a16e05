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
