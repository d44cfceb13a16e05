"""Files the city's civic services drop into the inbox, as each really exports them.

- ``service_requests``: the 120 call centre's and the chatbot's daily CSV (UTF-8 with BOM, as
  Excel-friendly exports are), one row per complaint: channel, category, where, the complaint
  in the caller's words and the caller's mobile number. About a third of the complaints repeat
  the caller's number in the text; some name the caller after a 성명/이름 label (as agents
  note it), name a car by its plate or give a lot-number address.
- ``resident_council_activity``: each dong community centre's quarterly JSON form export, one
  document per centre with its resident councils, each holding its member roster (names,
  birth years, phones, whether chosen by lottery) beside the assembly, agenda and budget.

Everything is deterministic per seed and window. ``service_request_records`` and
``council_documents`` give the generated records themselves (with what was planted where), so
tests can compare what the hub published with what the agencies sent.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from simulators.people import name as person_name
from simulators.seoul import GU

KST = ZoneInfo("Asia/Seoul")

#: Four administrative dongs per gu (real names), keyed by gu code.
DONGS: dict[str, list[str]] = {
    "11110": ["청운효자동", "사직동", "삼청동", "혜화동"],
    "11140": ["소공동", "명동", "필동", "신당동"],
    "11170": ["후암동", "이촌1동", "한남동", "서빙고동"],
    "11200": ["왕십리도선동", "마장동", "사근동", "행당1동"],
    "11215": ["화양동", "자양1동", "구의1동", "중곡1동"],
    "11230": ["회기동", "휘경1동", "청량리동", "장안1동"],
    "11260": ["면목본동", "상봉1동", "중화1동", "망우본동"],
    "11290": ["성북동", "돈암1동", "정릉1동", "길음1동"],
    "11305": ["미아동", "번1동", "수유1동", "우이동"],
    "11320": ["쌍문1동", "방학1동", "창1동", "도봉1동"],
    "11350": ["월계1동", "공릉1동", "하계1동", "상계1동"],
    "11380": ["녹번동", "불광1동", "응암1동", "역촌동"],
    "11410": ["충현동", "신촌동", "연희동", "홍제1동"],
    "11440": ["아현동", "공덕동", "서교동", "망원1동"],
    "11470": ["목1동", "신월1동", "신정1동", "목5동"],
    "11500": ["염창동", "등촌1동", "화곡1동", "가양1동"],
    "11530": ["신도림동", "구로1동", "가리봉동", "개봉1동"],
    "11545": ["가산동", "독산1동", "시흥1동", "시흥4동"],
    "11560": ["여의동", "당산1동", "문래동", "신길1동"],
    "11590": ["노량진1동", "상도1동", "흑석동", "사당1동"],
    "11620": ["보라매동", "청룡동", "신림동", "서원동"],
    "11650": ["서초1동", "반포1동", "방배1동", "양재1동"],
    "11680": ["신사동", "압구정동", "역삼1동", "대치1동"],
    "11710": ["잠실본동", "방이1동", "오금동", "가락1동"],
    "11740": ["강일동", "천호1동", "암사1동", "길동"],
}
#: Two road names per gu, for road-name addresses.
ROADS: dict[str, list[str]] = {
    "11110": ["종로", "율곡로"],
    "11140": ["퇴계로", "을지로"],
    "11170": ["한강대로", "이태원로"],
    "11200": ["왕십리로", "고산자로"],
    "11215": ["능동로", "아차산로"],
    "11230": ["왕산로", "천호대로"],
    "11260": ["망우로", "동일로"],
    "11290": ["보문로", "정릉로"],
    "11305": ["도봉로", "삼양로"],
    "11320": ["방학로", "노해로"],
    "11350": ["동일로", "한글비석로"],
    "11380": ["통일로", "연서로"],
    "11410": ["연희로", "통일로"],
    "11440": ["마포대로", "월드컵로"],
    "11470": ["목동로", "신월로"],
    "11500": ["공항대로", "화곡로"],
    "11530": ["구로중앙로", "경인로"],
    "11545": ["시흥대로", "벚꽃로"],
    "11560": ["여의대로", "영등포로"],
    "11590": ["노량진로", "상도로"],
    "11620": ["관악로", "남부순환로"],
    "11650": ["서초대로", "반포대로"],
    "11680": ["테헤란로", "도산대로"],
    "11710": ["올림픽로", "송파대로"],
    "11740": ["천호대로", "양재대로"],
}
#: Relative call volume per gu (bigger and busier gu call more).
GU_WEIGHT = {gu: 1.0 + (int(gu) * 2_654_435_761 % 97) / 60 for gu in GU}


def dong_code(gu: str, index: int) -> str:
    """A 10-digit administrative dong code in the style of the childcare feed's codes."""
    return f"{gu}{51 + index * 3:03d}00"


def _mobile(rng: random.Random) -> str:
    return f"010-{rng.randint(2000, 9999)}-{rng.randint(0, 9999):04d}"


# --- service requests ------------------------------------------------------------------------

SR_HEADER = [
    "접수번호",
    "접수채널",
    "민원유형",
    "발생위치",
    "민원내용",
    "연락처",
    "접수일시",
    "처리일시",
]
#: Share of a day's complaints still open when the day's file is exported (처리일시 empty).
SR_OPEN = 0.06
CHANNELS = {"전화": 45, "챗봇": 25, "앱": 22, "방문": 8}
#: Calls per hour of the day: the call centre runs around the clock, busiest in office hours.
SR_HOURLY = [2, 1, 1, 1, 1, 2, 4, 7, 10, 12, 12, 11, 9, 10, 11, 11, 10, 9, 8, 7, 6, 5, 4, 3]
SPOTS = [
    "초등학교 정문 앞",
    "버스정류장 옆",
    "지하철역 2번 출구 앞",
    "놀이터 입구",
    "편의점 앞 골목",
    "아파트 후문 쪽",
    "주민센터 앞",
    "시장 입구",
    "공원 산책로",
    "교차로 횡단보도 앞",
]
PLATE_HANGUL = "가나다라마거너더러머버서어저고노도로모보소오조구누두루무부수우주"
#: Complaint texts per category; {spot} is where, {plate} a car's plate when the caller gave one.
CATEGORIES: dict[str, tuple[int, list[str], list[str]]] = {  # weight, texts, texts with a plate
    "불법주정차": (
        24,
        [
            "{spot}에 불법주정차 차량 때문에 통행이 어렵습니다. 단속 요청합니다.",
            "{spot}에 매일 밤 차량들이 이중주차를 해서 버스가 지나가지 못합니다.",
        ],
        [
            "{plate} 차량이 {spot}에 3일째 불법주차 되어 있습니다. 견인 부탁드립니다.",
            "흰색 승용차 {plate} 차량이 {spot} 소화전 앞에 세워져 있어요. 단속해 주세요.",
            "{spot}에 {plate} 차량이 인도를 막고 주차되어 있습니다.",
        ],
    ),
    "가로등 고장": (
        14,
        [
            "{spot} 가로등이 며칠째 꺼져 있어 밤에 너무 어둡습니다. 수리 부탁드립니다.",
            "{spot} 가로등이 계속 깜빡거립니다. 점검 바랍니다.",
        ],
        [],
    ),
    "쓰레기 무단투기": (
        18,
        [
            "{spot}에 대형 폐기물과 쓰레기봉투가 무단으로 버려져 있습니다. 수거 요청합니다.",
            "{spot}에 음식물 쓰레기를 계속 버리는 사람이 있습니다. CCTV 설치 검토 부탁드립니다.",
        ],
        [],
    ),
    "소음": (
        16,
        [
            "밤마다 {spot} 근처 공사장 소음이 심합니다. 작업 시간 확인 부탁드립니다.",
            "{spot} 인근 식당 환풍기 소음 때문에 잠을 잘 수가 없습니다.",
        ],
        [
            "{spot}에서 {plate} 오토바이가 새벽마다 굉음을 내며 지나갑니다.",
        ],
    ),
    "도로 파손": (
        14,
        [
            "{spot} 도로에 포트홀이 생겨 위험합니다. 보수 요청합니다.",
            "{spot} 보도블록이 깨져 있어 보행자가 넘어질 위험이 있습니다.",
        ],
        [],
    ),
    "불법 광고물": (
        6,
        [
            "{spot}에 불법 현수막이 여러 개 걸려 있습니다. 철거해 주세요.",
        ],
        [],
    ),
    "공원 시설 고장": (
        8,
        [
            "{spot} 운동기구가 부서져 있어 아이들이 다칠까 걱정됩니다.",
            "{spot} 화장실 문이 고장나 잠기지 않습니다.",
        ],
        [],
    ),
}
CALLER_NAME = ["민원인 성명: {name}. ", "신고자 이름 {name}, ", "성함 {name}님 요청: "]
CALLER_PHONE = [
    " 처리 결과는 {phone}로 문자 부탁드립니다.",
    " 연락처 {phone}",
    " 회신 바랍니다({phone}).",
]


@dataclass(frozen=True)
class ServiceRequest:
    """One complaint as the call centre exports it, plus what the generator planted in it."""

    request_id: str
    channel: str
    category: str
    location: str
    text: str
    phone: str
    received_at: str
    #: when the complaint was closed ("" while it is still open)
    resolved_at: str
    #: the text with each planted piece of personal data replaced by ``<kind>``
    scrubbed: str
    #: (kind, value) of every piece of personal data planted in the text
    planted: tuple[tuple[str, str], ...] = field(default=())

    def row(self) -> list[str]:
        return [
            self.request_id,
            self.channel,
            self.category,
            self.location,
            self.text,
            self.phone,
            self.received_at,
            self.resolved_at,
        ]


def _plate(rng: random.Random) -> str:
    digits = f"{rng.randint(10, 99)}" if rng.random() < 0.6 else f"{rng.randint(100, 399)}"
    plate = f"{digits}{rng.choice(PLATE_HANGUL)}{rng.randint(1000, 9999)}"
    return f"서울{plate[-7:]}" if len(digits) == 2 and rng.random() < 0.1 else plate


def _lot_address(rng: random.Random, gu: str, dong: str) -> str:
    lot = f"{rng.randint(1, 999)}"
    if rng.random() < 0.6:
        lot += f"-{rng.randint(1, 60)}"
    if rng.random() < 0.3:
        lot += "번지"
    return f"{GU[gu]} {dong} {lot}"


def _location(rng: random.Random, gu: str, dong: str) -> str:
    """Where, as the agent or the chatbot recorded it: a dong, a lot or a road-name address."""
    pick = rng.random()
    if pick < 0.4:
        return f"서울특별시 {GU[gu]} {dong}"
    if pick < 0.75:
        return f"서울특별시 {_lot_address(rng, gu, dong)}"
    return f"서울특별시 {GU[gu]} {rng.choice(ROADS[gu])} {rng.randint(1, 300)}"


def service_request_records(day: date, seed: int = 7, requests: int = 2000) -> list[ServiceRequest]:
    """One KST day of complaints, in the order received."""
    rng = random.Random(f"{seed}:service_requests:{day}")
    gus = sorted(GU)
    gu_weights = [GU_WEIGHT[g] for g in gus]
    categories = list(CATEGORIES)
    category_weights = [CATEGORIES[c][0] for c in categories]
    start = datetime.combine(day, time(), KST)
    seconds = sorted(
        rng.choices(range(24), weights=SR_HOURLY)[0] * 3600 + rng.randrange(3600)
        for _ in range(requests)
    )
    # closing times from a generator of their own, so adding them changed no other value
    closing = random.Random(f"{seed}:service_requests:resolved:{day}")
    out = []
    for i, second in enumerate(seconds):
        received = start + timedelta(seconds=second)
        hours = min(240.0, closing.lognormvariate(math.log(18.0), 0.9))
        resolved = (
            ""
            if closing.random() < SR_OPEN
            else f"{received + timedelta(hours=hours):%Y-%m-%d %H:%M:%S}"
        )
        gu = rng.choices(gus, weights=gu_weights)[0]
        dong = rng.choice(DONGS[gu])
        category = rng.choices(categories, weights=category_weights)[0]
        _, texts, plated = CATEGORIES[category]
        phone = _mobile(rng)
        parts: list[tuple[str, str | None]] = []  # (text, kind of personal data or None)
        if rng.random() < 0.15:
            before, after = rng.choice(CALLER_NAME).split("{name}")
            parts += [(before, None), (person_name(rng), "person_name"), (after, None)]
        template = rng.choice(plated) if plated and rng.random() < 0.5 else rng.choice(texts)
        spot = (
            [(_lot_address(rng, gu, dong), "address"), (" 앞", None)]
            if rng.random() < 0.2
            else [(rng.choice(SPOTS), None)]
        )
        for piece in _split(template):
            if piece == "{spot}":
                parts += spot
            elif piece == "{plate}":
                parts.append((_plate(rng), "plate"))
            else:
                parts.append((piece, None))
        if rng.random() < 1 / 3:
            before, after = rng.choice(CALLER_PHONE).split("{phone}")
            shown = rng.choices(
                [phone, phone.replace("-", ""), phone.replace("-", " ")], weights=[6, 3, 1]
            )[0]
            parts += [(before, None), (shown, "phone"), (after, None)]
        out.append(
            ServiceRequest(
                request_id=f"SR{day:%Y%m%d}-{i + 1:05d}",
                channel=rng.choices(list(CHANNELS), weights=CHANNELS.values())[0],
                category=category,
                location=_location(rng, gu, dong),
                text="".join(t for t, _ in parts).strip(),
                phone=phone,
                received_at=f"{received:%Y-%m-%d %H:%M:%S}",
                resolved_at=resolved,
                scrubbed="".join(f"<{k}>" if k else t for t, k in parts).strip(),
                planted=tuple((k, t) for t, k in parts if k),
            )
        )
    return out


def _split(template: str) -> list[str]:
    """``"{spot}에 {plate} 차량"`` -> ``["{spot}", "에 ", "{plate}", " 차량"]``."""
    out, rest = [], template
    while rest:
        at = min((rest.find(p) for p in ("{spot}", "{plate}") if p in rest), default=-1)
        if at < 0:
            out.append(rest)
            break
        if at:
            out.append(rest[:at])
        end = rest.index("}", at) + 1
        out.append(rest[at:end])
        rest = rest[end:]
    return out


def service_requests_csv(records: list[ServiceRequest]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(SR_HEADER)
    writer.writerows(r.row() for r in records)
    return out.getvalue().encode("utf-8-sig")


def service_requests(start: datetime, seed: int = 7, requests: int = 2000) -> dict[str, bytes]:
    day = start.astimezone(KST).date()
    key = f"service_requests/{day:%Y%m%d}/120_service_requests_{day:%Y%m%d}.csv"
    return {key: service_requests_csv(service_request_records(day, seed, requests))}


# --- resident councils -----------------------------------------------------------------------

AGENDAS = ["마을환경개선", "주민복지", "문화·교육", "안전·방범", "주민참여예산", "자치계획"]
COUNCILS = ["주민자치회", "환경분과", "복지분과", "문화분과", "안전분과"]
STATUSES = {"계획": 2, "진행중": 5, "완료": 4, "보류": 1}


def quarter_bounds(start: datetime) -> tuple[date, date]:
    """The KST quarter that starts at or contains ``start``: [first day, first day of the next)."""
    local = start.astimezone(KST).date()
    first = date(local.year, (local.month - 1) // 3 * 3 + 1, 1)
    month = first.month + 3
    return first, date(first.year + (month > 12), (month - 1) % 12 + 1, 1)


def council_documents(start: datetime, seed: int = 7) -> dict[str, dict]:
    """Each dong centre's form export for the quarter, keyed by its inbox object key."""
    first, nxt = quarter_bounds(start)
    days = (nxt - first).days
    docs = {}
    for gu in sorted(DONGS):
        for index, dong in enumerate(DONGS[gu]):
            code = dong_code(gu, index)
            rng = random.Random(f"{seed}:councils:{code}:{first}")
            councils = []
            for n, council in enumerate(COUNCILS[: rng.randint(1, 4)]):
                subsidy = rng.randrange(2_000_000, 30_000_000, 10_000)
                members = [
                    {
                        "성명": person_name(rng),
                        "출생연도": rng.randint(1948, 2006),
                        "연락처": _mobile(rng),
                        "추첨선정": rng.random() < 0.4,
                    }
                    for _ in range(rng.randint(8, 25) if n else rng.randint(20, 50))
                ]
                councils.append(
                    {
                        "자치회ID": f"RC{code}-{n + 1:02d}",
                        "자치회명": f"{dong} {council}",
                        "행정동코드": code,
                        "총회일자": (first + timedelta(days=rng.randrange(days))).isoformat(),
                        "안건분야": rng.choice(AGENDAS),
                        "투표참여자수": rng.randint(30, 800) if n == 0 else rng.randint(8, 40),
                        "보조금(원)": subsidy,
                        "자부담(원)": int(subsidy * rng.uniform(0.05, 0.2)) // 10_000 * 10_000,
                        "사업상태": rng.choices(list(STATUSES), weights=STATUSES.values())[0],
                        "위원명단": members,
                    }
                )
            key = f"resident_council_activity/{first:%Y%m}/{code}_council_report.json"
            docs[key] = {
                "서식": "주민자치회 분기 활동보고",
                "기관명": f"{GU[gu]} {dong} 주민센터",
                "행정동코드": code,
                "보고기간": {
                    "시작": first.isoformat(),
                    "종료": (nxt - timedelta(days=1)).isoformat(),
                },
                "작성일시": f"{nxt:%Y-%m-%d}T09:{rng.randint(0, 59):02d}:00+09:00",
                "주민자치회": councils,
            }
    return docs


def council_json(doc: dict) -> bytes:
    return json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8")


def resident_council_activity(start: datetime, seed: int = 7) -> dict[str, bytes]:
    return {key: council_json(doc) for key, doc in council_documents(start, seed).items()}
