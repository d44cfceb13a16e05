"""Women's-safety deliveries of Yeongdeungpo-gu, as their two providers send them.

- ``women_crime_incidents``: Yeongdeungpo Police Station's monthly CSV of crimes against
  women, exported in cp949 (EUC-KR family) with Korean headers, as the police systems write it:
  case numbers, offences, times, points and addresses of the scene, the victim's age and sex.
- ``door_sensor_installs``: the gu women-policy team's weekly Excel workbook of door sensors
  (문열림 센서) installed in the homes of women living alone and single-parent households:
  one sheet ``설치현황`` with a title row and a blank row above the header, residents' names,
  mobile numbers and home addresses included.

Every value is drawn from ``random.Random`` seeded with the seed, the window and the row, so a
delivery is the same bytes every time. Points are drawn around the centre of the dong that the
address names, inside Yeongdeungpo-gu (37.49-37.54 N, 126.88-126.94 E).
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from simulators.people import name

KST = ZoneInfo("Asia/Seoul")
GU_NAME = "서울특별시 영등포구"
#: Administrative dongs of Yeongdeungpo-gu with an approximate centre (lat, lon).
DONGS: dict[str, tuple[float, float]] = {
    "여의동": (37.5219, 126.9245),
    "당산1동": (37.5225, 126.8990),
    "당산2동": (37.5335, 126.9010),
    "도림동": (37.5085, 126.9000),
    "문래동": (37.5170, 126.8945),
    "양평1동": (37.5255, 126.8880),
    "양평2동": (37.5360, 126.8890),
    "신길1동": (37.5125, 126.9175),
    "신길3동": (37.5045, 126.9150),
    "신길4동": (37.5090, 126.9085),
    "신길5동": (37.4995, 126.9135),
    "신길6동": (37.5010, 126.9195),
    "신길7동": (37.5060, 126.9230),
    "대림1동": (37.4945, 126.9005),
    "대림2동": (37.4935, 126.8955),
    "대림3동": (37.4965, 126.9055),
    "영등포본동": (37.5150, 126.9070),
    "영등포동": (37.5180, 126.9065),
}
ROADS = [
    "국제금융로",
    "여의대로",
    "의사당대로",
    "영중로",
    "당산로",
    "선유로",
    "도림로",
    "경인로",
    "신길로",
    "대림로",
    "디지털로",
    "문래로",
    "양평로",
    "영등포로",
    "버드나루로",
    "도신로",
]
BOX = ((37.490, 37.540), (126.880, 126.940))  # (lat, lon) bounds of the gu's points


def _point(rng: random.Random, dong: str) -> tuple[float, float]:
    """A point near the dong's centre, kept inside the gu's box (6 decimals, as GPS exports)."""
    lat, lon = DONGS[dong]
    (lat_lo, lat_hi), (lon_lo, lon_hi) = BOX
    lat = min(lat_hi, max(lat_lo, rng.gauss(lat, 0.0025)))
    lon = min(lon_hi, max(lon_lo, rng.gauss(lon, 0.003)))
    return round(lat, 6), round(lon, 6)


def _lot(rng: random.Random) -> str:
    main = rng.randint(1, 700)
    return f"{main}-{rng.randint(1, 60)}" if rng.random() < 0.7 else str(main)


# --- women_crime_incidents: the police station's monthly CSV (cp949) ---------------------------

CRIME_HEADER = {
    "case_no": "사건번호",
    "offence_type": "죄종",
    "occurred_at": "발생일시",
    "lat": "위도",
    "lon": "경도",
    "address": "발생장소",
    "victim_age": "피해자연령",
    "victim_sex": "피해자성별",
}
#: Offences against women the station reports, with their weight in a month.
OFFENCES = {
    "성범죄": 22,
    "불법촬영": 8,
    "폭행": 20,
    "스토킹": 14,
    "데이트폭력": 8,
    "절도": 12,
    "주거침입": 9,
    "공연음란": 4,
    "협박": 3,
}
#: Share of incidents per hour of the day: late evening and night peak.
CRIME_HOURLY = [
    6,
    6,
    5,
    4,
    3,
    2,
    1,
    1,
    2,
    2,
    2,
    2,
    3,
    3,
    3,
    3,
    4,
    4,
    5,
    6,
    7,
    8,
    8,
    7,
]
VICTIM_AGES = [
    (10, 19, 12),
    (20, 29, 34),
    (30, 39, 22),
    (40, 49, 13),
    (50, 59, 9),
    (60, 69, 6),
    (70, 89, 4),
]


def crime_month(start: datetime) -> date:
    return start.astimezone(KST).date().replace(day=1)


def crime_rows(start: datetime, seed: int = 7) -> list[dict[str, str]]:
    """One month of incidents (280-320), every value as the export writes it (text)."""
    month = crime_month(start)
    days = ((month + timedelta(days=32)).replace(day=1) - month).days
    count = random.Random(f"{seed}:crime-count:{month}").randint(280, 320)
    first = (month.month - 1) * 400 + 1  # case numbers run through the station's year
    offences, weights = list(OFFENCES), list(OFFENCES.values())
    dongs = list(DONGS)
    rows = []
    for i in range(count):
        rng = random.Random(f"{seed}:crime:{month}:{i}")
        hour = rng.choices(range(24), CRIME_HOURLY)[0]
        at = datetime.combine(month + timedelta(days=rng.randrange(days)), time(hour))
        at += timedelta(minutes=rng.randrange(60))
        dong = rng.choice(dongs)
        lat, lon = _point(rng, dong)
        lot = rng.random() < 0.7  # a lot address, or a road address near the scene
        place = f"{dong} {_lot(rng)}" if lot else f"{rng.choice(ROADS)} {rng.randint(1, 300)}"
        address = f"{GU_NAME} {place}"
        low, high, _ = rng.choices(VICTIM_AGES, [w for *_, w in VICTIM_AGES])[0]
        age = "" if rng.random() < 0.02 else str(rng.randint(low, high))  # 2 % not recorded
        rows.append(
            {
                "case_no": f"{month.year}-영등포-{first + i:06d}",
                "offence_type": rng.choices(offences, weights)[0],
                "occurred_at": f"{at:%Y-%m-%d %H:%M}",
                "lat": f"{lat:.6f}",
                "lon": f"{lon:.6f}",
                "address": address,
                "victim_age": age,
                "victim_sex": "여" if rng.random() < 0.88 else "남",
            }
        )
    return rows


def crimes_csv(rows: list[dict[str, str]], encoding: str = "cp949") -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CRIME_HEADER.values())
    writer.writerows([r[k] for k in CRIME_HEADER] for r in rows)
    return out.getvalue().encode(encoding)


def crime_key(start: datetime) -> str:
    month = crime_month(start)
    return f"women_crime_incidents/{month:%Y%m}/ydp_police_women_crime_{month:%Y%m}.csv"


def women_crime_incidents(start: datetime, seed: int = 7) -> dict[str, bytes]:
    return {crime_key(start): crimes_csv(crime_rows(start, seed))}


# --- door_sensor_installs: the women-policy team's weekly workbook ------------------------------

SENSOR_SHEET = "설치현황"
SENSOR_HEADER = {
    "install_id": "설치번호",
    "resident_name": "성명",
    "phone": "연락처",
    "address": "주소",
    "household_type": "가구유형",
    "installed_at": "설치일시",
    "device_id": "기기번호",
    "facility_type": "주거형태",
}
HOUSEHOLDS = {"1인 여성가구": 70, "한부모가구": 18, "여성 노인 1인가구": 12}
FACILITIES = {"원룸": 30, "다세대": 28, "다가구": 14, "오피스텔": 16, "연립": 7, "고시원": 5}


def sensor_week(start: datetime) -> date:
    return start.astimezone(KST).date()


def sensor_rows(start: datetime, seed: int = 7) -> list[dict[str, object]]:
    """One week of installs (50-70), on working days 09-18 h; ``installed_at`` is a naive KST
    ``datetime`` (an Excel date cell), the rest text."""
    week = sensor_week(start)
    count = random.Random(f"{seed}:sensor-count:{week}").randint(50, 70)
    dongs = list(DONGS)
    rows = []
    for i in range(count):
        rng = random.Random(f"{seed}:sensor:{week}:{i}")
        day = week + timedelta(days=rng.randrange(5))  # Monday to Friday
        at = datetime.combine(day, time(rng.randint(9, 17), rng.choice((0, 10, 20, 30, 40, 50))))
        dong = rng.choice(dongs)
        unit = f" {rng.randint(1, 5)}0{rng.randint(1, 9)}호" if rng.random() < 0.8 else ""
        rows.append(
            {
                "install_id": f"YDP-DS-{week:%Y%m%d}-{i + 1:03d}",
                "resident_name": name(rng),
                "phone": f"010-{rng.randint(2000, 9999)}-{rng.randint(0, 9999):04d}",
                "address": f"{GU_NAME} {dong} {_lot(rng)}{unit}",
                "household_type": rng.choices(list(HOUSEHOLDS), list(HOUSEHOLDS.values()))[0],
                "installed_at": at,
                "device_id": f"DSN-{rng.getrandbits(32):08X}",
                "facility_type": rng.choices(list(FACILITIES), list(FACILITIES.values()))[0],
            }
        )
    return rows


def sensor_workbook(
    start: datetime, rows: list[dict[str, object]], sheet: str = SENSOR_SHEET
) -> bytes:
    from openpyxl import Workbook

    week = sensor_week(start)
    book = Workbook(write_only=True)
    out = book.create_sheet(sheet)
    last = week + timedelta(days=6)
    out.append([f"여성 1인가구 등 안심장비(문열림 센서) 설치 현황 ({week:%Y.%m.%d}~{last:%m.%d})"])
    out.append([])
    out.append(list(SENSOR_HEADER.values()))
    for row in rows:
        out.append([row[k] for k in SENSOR_HEADER])
    sink = io.BytesIO()
    book.save(sink)
    return sink.getvalue()


def sensor_key(start: datetime) -> str:
    week = sensor_week(start)
    return f"door_sensor_installs/{week:%Y%m%d}/ydp_door_sensor_installs_{week:%Y%m%d}.xlsx"


def door_sensor_installs(start: datetime, seed: int = 7) -> dict[str, bytes]:
    return {sensor_key(start): sensor_workbook(start, sensor_rows(start, seed))}
