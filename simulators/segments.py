"""Yeongdeungpo-gu's street-segment master (가로구간 기본도): the 10 m segments that KT's
night-time population is counted on, with the dong each lies in and its centre point, as the
gu's GIS team exports it (a monthly CSV)."""

from __future__ import annotations

import csv
import io
import random
from datetime import datetime

from simulators.drops import SEGMENTS
from simulators.safety import DONGS

HEADER = ["가로구간ID", "행정동", "중심위도", "중심경도", "구간길이", "기준일"]


def segment_rows(seed: int = 7) -> list[list[str]]:
    dongs = list(DONGS)
    rows = []
    for i, segment in enumerate(SEGMENTS):
        rng = random.Random(f"{seed}:segment:{segment}")
        dong = dongs[i % len(dongs)]
        lat, lon = DONGS[dong]
        rows.append(
            [
                segment,
                dong,
                f"{rng.gauss(lat, 0.002):.6f}",
                f"{rng.gauss(lon, 0.0025):.6f}",
                "10",
                "2026-01-01",
            ]
        )
    return rows


def street_segments(start: datetime, seed: int = 7) -> dict[str, bytes]:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(segment_rows(seed))
    return {f"street_segments/{start:%Y%m}/ydp_street_segments.csv": out.getvalue().encode("utf-8")}
