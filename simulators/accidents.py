"""Pedestrian traffic accidents reported by the 25 gu and the Transport HQ, per 15 minutes.

Served by the simulated Open API (``simulators.agency_api``) in the data.go.kr convention:
``response.body.items.item`` holds the accidents whose ``ocrnDt`` lies in the requested window,
every value as text, as the portal sends it. The same (seed, 15-minute slot) always gives the
same accidents, so a rerun of a window sees the same delivery.

Seoul has roughly 9,000 pedestrian casualties a year, about one every hour; the simulated city
reports a few per 15 minutes (more at the evening peak, fewer at night), so many windows hold
fewer than five accidents and some none at all.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

KST = ZoneInfo("Asia/Seoul")
STEP = timedelta(minutes=15)
SEVERITIES = {"사망": 2, "중상": 24, "경상": 56, "부상신고": 18}  # weights, TAAS-like shares
#: Approximate centre (lat, lon) of each gu, by administrative code.
GU_CENTRES: dict[str, tuple[float, float]] = {
    "11110": (37.5735, 126.9790),
    "11140": (37.5641, 126.9979),
    "11170": (37.5324, 126.9900),
    "11200": (37.5634, 127.0369),
    "11215": (37.5385, 127.0823),
    "11230": (37.5744, 127.0396),
    "11260": (37.6066, 127.0927),
    "11290": (37.5894, 127.0167),
    "11305": (37.6396, 127.0257),
    "11320": (37.6688, 127.0471),
    "11350": (37.6542, 127.0568),
    "11380": (37.6027, 126.9291),
    "11410": (37.5791, 126.9368),
    "11440": (37.5663, 126.9019),
    "11470": (37.5170, 126.8665),
    "11500": (37.5509, 126.8495),
    "11530": (37.4955, 126.8875),
    "11545": (37.4569, 126.8955),
    "11560": (37.5264, 126.8962),
    "11590": (37.5124, 126.9393),
    "11620": (37.4784, 126.9516),
    "11650": (37.4837, 127.0324),
    "11680": (37.5172, 127.0473),
    "11710": (37.5145, 127.1059),
    "11740": (37.5301, 127.1238),
}


def expected_per_slot(slot: datetime) -> float:
    """Mean accidents in a 15-minute slot: an evening peak, a morning one, quiet nights."""
    hour = slot.astimezone(KST).hour + slot.minute / 60
    return (
        1.0 + 3.5 * math.exp(-((hour - 18.5) ** 2) / 6) + 2.0 * math.exp(-((hour - 8.5) ** 2) / 3)
    )


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _age(rng: random.Random) -> int:
    """Pedestrian victims: children and the elderly are over-represented."""
    group = rng.choices(["child", "adult", "senior"], weights=[12, 50, 38])[0]
    if group == "child":
        return rng.randint(4, 15)
    if group == "adult":
        return rng.randint(16, 64)
    return min(97, 65 + int(rng.expovariate(1 / 9)))


def accidents(start: datetime, end: datetime, seed: int = 7) -> list[dict[str, str]]:
    """Every accident that occurred in [start, end), as API items (all values text)."""
    slot = start.astimezone(KST)
    slot = slot.replace(minute=slot.minute - slot.minute % 15, second=0, microsecond=0)
    gus = sorted(GU_CENTRES)
    rows = []
    while slot < end:
        rng = random.Random(f"{seed}:accidents:{slot:%Y%m%d%H%M}")
        for n in range(_poisson(rng, expected_per_slot(slot))):
            at = slot + timedelta(seconds=rng.randrange(15 * 60))
            gu = rng.choice(gus)
            lat0, lon0 = GU_CENTRES[gu]
            if not start <= at < end:
                continue
            rows.append(
                {
                    "acdntNo": f"{gu}{at:%Y%m%d%H%M}{n:02d}",
                    "sggCd": gu,
                    "ocrnDt": f"{at:%Y%m%d%H%M}",
                    "laCrd": f"{lat0 + rng.gauss(0, 0.012):.7f}",
                    "loCrd": f"{lon0 + rng.gauss(0, 0.015):.7f}",
                    "vctmAge": str(_age(rng)),
                    "injrySvrtNm": rng.choices(list(SEVERITIES), weights=SEVERITIES.values())[0],
                }
            )
        slot += STEP
    return rows
