"""The city IoT platform's micro PM sensors, keyed to CCTV poles, as NGSI-LD entities.

One observation per sensor per 10 minutes, deterministic per seed and slot.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

KST = ZoneInfo("Asia/Seoul")
CONTEXT = [
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/context.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld",
]
SLOT = timedelta(minutes=10)


def sensors(count: int = 200, seed: int = 7) -> list[tuple[str, float, float]]:
    rng = random.Random(f"sensors:{seed}")
    return [
        (
            f"CCTV-{i + 1:05d}",
            round(rng.uniform(126.80, 127.17), 6),
            round(rng.uniform(37.45, 37.69), 6),
        )
        for i in range(count)
    ]


def entity(sensor: tuple[str, float, float], slot: datetime, seed: int = 7) -> dict:
    cctv, lon, lat = sensor
    local = slot.astimezone(KST)
    rng = random.Random(f"{seed}:iot:{cctv}:{local:%Y%m%d%H%M}")
    diurnal = 1 + 0.3 * math.sin((local.hour - 8) / 24 * 2 * math.pi)
    pm10 = max(2.0, rng.lognormvariate(math.log(35), 0.5) * diurnal)
    observed = local.isoformat(timespec="seconds")
    return {
        "id": f"urn:ngsi-ld:AirQualityObserved:{cctv}",
        "type": "AirQualityObserved",
        "dateObserved": {"type": "Property", "value": {"@type": "DateTime", "@value": observed}},
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}},
        "pm10": {"type": "Property", "value": round(pm10, 1), "unitCode": "GQ"},
        "pm25": {
            "type": "Property",
            "value": round(pm10 * rng.uniform(0.4, 0.7), 1),
            "unitCode": "GQ",
        },
        "temperature": {
            "type": "Property",
            "value": round(rng.uniform(-5, 30), 1),
            "unitCode": "CEL",
        },
        "relativeHumidity": {"type": "Property", "value": round(rng.uniform(0.2, 0.95), 2)},
        "refDevice": {"type": "Relationship", "object": f"urn:ngsi-ld:Device:{cctv}"},
    }


def current(start: datetime, end: datetime, *, seed: int = 7, count: int = 200) -> list[dict]:
    """Each sensor's latest observation in [start, end), as the broker's entity state."""
    slot = end - timedelta(microseconds=1)
    slot = slot.replace(minute=slot.minute - slot.minute % 10, second=0, microsecond=0)
    if slot < start:
        return []
    return [entity(s, slot, seed) for s in sensors(count, seed)]
