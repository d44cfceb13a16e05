"""Vehicle and pedestrian counts at the city's count points, per 15 minutes (deterministic)."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from simulators.seoul import GU

KST = ZoneInfo("Asia/Seoul")
STEP = timedelta(minutes=15)


def count_points(per_gu: int = 8) -> list[tuple[str, str, str]]:
    """(count point id, road link id, gu code) for ``per_gu`` points in each of the 25 gu."""
    points = []
    for gu in sorted(GU):
        for i in range(per_gu):
            rng = random.Random(f"point:{gu}:{i}")
            points.append((f"CP{gu}{i:02d}", f"{gu[:4]}{rng.randint(100000, 999999)}", gu))
    return points


def counts(start: datetime, end: datetime, seed: int = 7) -> list[dict[str, str]]:
    """Every point's counts for each 15-minute slot starting in [start, end), as API text."""
    slot = start.astimezone(KST)
    rows = []
    while slot < end:
        rush = (
            1
            + 0.8 * math.exp(-((slot.hour - 8) ** 2) / 3)
            + 0.7 * math.exp(-((slot.hour - 18) ** 2) / 4)
        )
        for point, link, gu in count_points():
            rng = random.Random(f"{seed}:traffic:{point}:{slot:%Y%m%d%H%M}")
            rows.append(
                {
                    "countPointId": point,
                    "roadLinkId": link,
                    "sggCd": gu,
                    "msrmtDt": f"{slot:%Y%m%d%H%M}",
                    "vhclCnt": str(int(rng.uniform(40, 260) * rush)),
                    "pdstrnCnt": str(int(rng.uniform(5, 120) * rush)),
                    "drctn": rng.choice(["상행", "하행"]),
                }
            )
        slot += STEP
    return rows
