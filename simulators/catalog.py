"""A large city's catalog, for the search benchmark: ``datasets(n)`` makes n dataset
descriptions (the fields of the data map's card) from the themes, departments and words of
Seoul's open data, deterministically from a seed. Metadata only: no dataset has rows."""

from __future__ import annotations

import random
from typing import Any

THEMES = [  # (Korean subject, English subject, keywords, columns)
    ("대기질", "air quality", ["미세먼지", "초미세먼지", "PM10", "PM2.5"], ["station_id", "pm10"]),
    ("교통량", "traffic volume", ["교통", "차량", "traffic"], ["link_id", "vehicles"]),
    ("공공자전거", "public bike", ["따릉이", "bike", "대여"], ["station_id", "rentals"]),
    ("어린이집", "childcare", ["보육", "어린이집", "childcare"], ["centre_id", "capacity"]),
    (
        "보행자 사고",
        "pedestrian accidents",
        ["교통사고", "보행자", "safety"],
        ["gu_code", "victims"],
    ),
    ("민원", "service requests", ["민원", "120다산콜", "complaints"], ["request_id", "category"]),
    ("주차장", "parking", ["주차", "parking", "공영주차장"], ["lot_id", "spaces"]),
    ("소음", "noise", ["소음", "noise", "환경"], ["sensor_id", "db"]),
    ("상수도", "water supply", ["수도", "water", "수질"], ["plant_id", "turbidity"]),
    ("문화행사", "cultural events", ["문화", "공연", "events"], ["event_id", "venue"]),
    ("도서관", "libraries", ["도서관", "대출", "library"], ["library_id", "loans"]),
    ("창업", "startups", ["창업", "startup", "입주기업"], ["company_id", "sector"]),
]
GU = ["종로구", "중구", "용산구", "성동구", "광진구", "동대문구", "중랑구", "성북구", "강북구",
      "도봉구", "노원구", "은평구", "서대문구", "마포구", "양천구", "강서구", "구로구", "금천구",
      "영등포구", "동작구", "관악구", "서초구", "강남구", "송파구", "강동구"]  # fmt: skip
KINDS = [("월별 현황", "monthly figures", "P30D"), ("일별 집계", "daily totals", "P1D"),
         ("실시간 측정", "live readings", "PT1H"), ("연간 통계", "yearly statistics", "P365D")]  # fmt: skip
TYPES = ["sensor", "administrative", "spatial"]
ACCESS = ["public"] * 8 + ["restricted", "non_public"]
LICENCES = ["공공누리 제1유형 (출처표시)", "공공누리 제2유형 (출처표시, 상업적 이용금지)"]


def datasets(n: int = 2_000, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        ko, en, keywords, columns = THEMES[i % len(THEMES)]
        gu = rng.choice(GU)
        kind_ko, kind_en, cycle = rng.choice(KINDS)
        access = rng.choice(ACCESS)
        score = round(rng.uniform(60, 100), 1) if rng.random() < 0.9 else None
        day = rng.randrange(1, 29)
        formats = ["csv", "parquet", "json"] if access == "public" else []
        out.append(
            {
                "id": f"ds_{i:05d}_{en.replace(' ', '_')}",
                "kind": "feed",
                "title_ko": f"{gu} {ko} {kind_ko}",
                "title_en": f"{gu} {en} {kind_en}",
                "description_ko": f"{gu}의 {ko} {kind_ko} 자료입니다.",
                "description_en": f"{en.capitalize()} {kind_en} of {gu}.",
                "department_ko": f"{gu} {ko} 담당과",
                "department_en": f"{gu} {en} division",
                "provider_ko": gu,
                "type": rng.choice(TYPES),
                "access_class": access,
                "licence": rng.choice(LICENCES),
                "update_cycle": cycle,
                "latest_version": i + 1,
                "latest_at": f"2026-11-{day:02d}T00:00:00+00:00",
                "rows": rng.randrange(100, 1_000_000),
                "fresh": rng.random() < 0.9,
                "quality_score": score,
                "columns": [{"name": c, "description_ko": c, "description_en": c} for c in columns],
                "files": [{"format": f} for f in formats],
                "keywords": [*keywords, gu],
            }
        )
    return out
