"""The city itself as a party of the catalog: publisher of the catalog and owner of products."""

from __future__ import annotations

from hub.core.text import Text
from hub.registry.spec import Licence, Party

CITY_DATA_TEAM = Party(
    id="seoul-data-team",
    name=Text(
        ko="서울시 디지털정책관 데이터전략과",
        en="Seoul Digital Policy Office, Data Strategy Division",
    ),
    contact="data@seoul.example.kr",
)
OPEN_LICENCE = Licence(
    id="KOGL-Type1",
    title="공공누리 제1유형 (출처표시)",
    url="https://www.kogl.or.kr/info/licenseType1.do",
)
