"""Files the city's agencies drop into the hub's inbox bucket, as each really sends them.

- ``pm_composition``: one CSV a day per provincial institute, Korean headers; Seoul in UTF-8
  with BOM, Incheon in UTF-8, Gyeonggi in cp949 (EUC-KR family), as Excel-era systems export.
- ``night_floating_population``: KT's monthly Parquet of night-time estimates per segment.
- ``childcare_capacity``: a monthly Excel workbook with a title row above the header and two
  sheets: facilities (``childcare_capacity``), and applications with children's names and
  guardians' RRNs (``childcare_applications``, protected before the trusted zone).
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable
from datetime import date, datetime, timedelta

from simulators.seoul import GU

KST_DAY = timedelta(days=1)
PM_HEADER = [
    "측정소코드",
    "시도",
    "측정일자",
    "황산염",
    "질산염",
    "암모늄",
    "유기탄소",
    "원소탄소",
    "중금속합계",
]
INSTITUTES = {  # institute -> (province, sites, encoding)
    "seoul": ("서울특별시", 6, "utf-8-sig"),
    "incheon": ("인천광역시", 4, "utf-8"),
    "gyeonggi": ("경기도", 8, "cp949"),
}


def pm_rows(institute: str, day: date, seed: int = 7, sites: int | None = None) -> list[list[str]]:
    province, count, _ = INSTITUTES[institute]
    rows = []
    for site in range(sites or count):
        rng = random.Random(f"{seed}:pm:{institute}:{site}:{day}")
        sulfate = rng.lognormvariate(1.6, 0.4)
        rows.append(
            [
                f"{institute[:2].upper()}{site + 1:03d}",
                province,
                day.isoformat(),
                f"{sulfate:.2f}",
                f"{sulfate * rng.uniform(0.8, 1.6):.2f}",
                f"{sulfate * rng.uniform(0.3, 0.6):.2f}",
                f"{rng.uniform(2, 8):.2f}",
                f"{rng.uniform(0.3, 1.5):.2f}",
                f"{rng.uniform(0.05, 0.4):.3f}",
            ]
        )
    return rows


def pm_csv(institute: str, day: date, seed: int = 7, sites: int | None = None) -> bytes:
    _, _, encoding = INSTITUTES[institute]
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(PM_HEADER)
    writer.writerows(pm_rows(institute, day, seed, sites))
    return out.getvalue().encode(encoding)


def pm_composition(start: datetime, seed: int = 7) -> dict[str, bytes]:
    day = start.date()
    return {
        f"pm_composition/{day:%Y%m%d}/{name}_{day:%Y%m%d}.csv": pm_csv(name, day, seed)
        for name in INSTITUTES
    }


SEGMENTS = [f"YDP-{i:05d}" for i in range(1, 61)]  # 10 m street segments in Yeongdeungpo-gu
AGE_BANDS = ["10s", "20s", "30s", "40s", "50s", "60s", "70+"]
NIGHT_HOURS = [22, 23, 0, 1, 2, 3, 4, 5]


def night_population(start: datetime, seed: int = 7) -> dict[str, bytes]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    month = start.date().replace(day=1)
    nxt = (month + timedelta(days=32)).replace(day=1)
    cols: dict[str, list] = {
        k: [] for k in ("segment_id", "date", "hour", "sex", "age_band", "est_count")
    }
    day = month
    while day < nxt:
        for seg in SEGMENTS:
            rng = random.Random(f"{seed}:pop:{seg}:{day}")
            base = rng.uniform(5, 60)
            for hour in NIGHT_HOURS:
                for sex in ("F", "M"):
                    for band in AGE_BANDS:
                        cols["segment_id"].append(seg)
                        cols["date"].append(day)
                        cols["hour"].append(hour)
                        cols["sex"].append(sex)
                        cols["age_band"].append(band)
                        cols["est_count"].append(round(base * rng.uniform(0.05, 0.4), 1))
        day += KST_DAY
    sink = io.BytesIO()
    pq.write_table(pa.table(cols), sink)
    return {
        f"night_floating_population/{month:%Y%m}/kt_night_population_{month:%Y%m}.parquet": sink.getvalue()
    }


FACILITY_TYPES = ["국공립", "민간", "가정", "직장", "법인·단체"]
FACILITY_HEADER = [
    "기준월",
    "시설코드",
    "시설유형",
    "자치구코드",
    "행정동코드",
    "정원",
    "현원",
    "대기인원",
    "운영시작",
    "운영종료",
]
APPLICATION_HEADER = [
    "신청번호",
    "신청일",
    "아동성명",
    "보호자주민등록번호",
    "가구유형",
    "소득구간",
    "추첨결과",
]


def childcare_workbook(start: datetime, seed: int = 7, facilities: int = 300) -> bytes:
    from openpyxl import Workbook

    month = start.date().replace(day=1)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("시설현황")
    sheet.append([f"{month:%Y년 %m월} 서울시 어린이집 정원 현황"])
    sheet.append([])
    sheet.append(FACILITY_HEADER)
    gus = sorted(GU)
    for i in range(facilities):
        rng = random.Random(f"{seed}:care:{i}:{month}")
        gu = gus[i % len(gus)]
        capacity = rng.choice([20, 39, 49, 70, 99, 120])
        enrolled = min(capacity, int(capacity * rng.uniform(0.6, 1.0)))
        sheet.append(
            [
                month.isoformat(),
                f"CC{gu}{i:04d}",
                rng.choice(FACILITY_TYPES),
                gu,
                f"{gu}{rng.randint(51, 79):03d}00",
                capacity,
                enrolled,
                rng.randint(0, 40) if enrolled == capacity else 0,
                "07:30",
                rng.choice(["19:30", "20:00", "22:00"]),
            ]
        )
    apps = book.create_sheet("입소신청")
    apps.append([f"{month:%Y년 %m월} 입소 신청 (개인정보 포함)"])
    apps.append([])
    apps.append(APPLICATION_HEADER)
    from simulators.people import name, rrn

    for i in range(facilities // 2):
        rng = random.Random(f"{seed}:app:{i}:{month}")
        applied_on = month + timedelta(days=rng.randint(0, 27))
        apps.append(
            [
                f"AP{month:%Y%m}{i:05d}",
                applied_on.isoformat(),
                name(rng),
                rrn(rng),
                rng.choice(["맞벌이", "한부모", "일반"]),
                rng.choice(["1구간", "2구간", "3구간"]),
                rng.choice(["당첨", "대기"]),
            ]
        )
    sink = io.BytesIO()
    book.save(sink)
    return sink.getvalue()


def childcare_capacity(start: datetime, seed: int = 7) -> dict[str, bytes]:
    month = start.date().replace(day=1)
    key = f"childcare_capacity/{month:%Y%m}/childcare_{month:%Y%m}.xlsx"
    return {key: childcare_workbook(start, seed)}


def street_segments(start: datetime, seed: int = 7) -> dict[str, bytes]:
    from simulators.segments import street_segments as master

    return master(start, seed)


def bike_trips(start: datetime, seed: int = 7) -> dict[str, bytes]:
    from simulators.bikes import bike_trips as day_of_rentals

    return day_of_rentals(start, seed)


DROPS: dict[str, Callable[[datetime, int], dict[str, bytes]]] = {
    "bike_trips": bike_trips,
    "street_segments": street_segments,
    "pm_composition": pm_composition,
    "night_floating_population": night_population,
    "childcare_capacity": childcare_capacity,
    "childcare_applications": childcare_capacity,  # the same workbook, its applications sheet
    "women_crime_incidents": __import__("simulators.safety").safety.women_crime_incidents,
    "door_sensor_installs": __import__("simulators.safety").safety.door_sensor_installs,
    "service_requests": __import__("simulators.civic").civic.service_requests,
    "resident_council_activity": __import__("simulators.civic").civic.resident_council_activity,
}
