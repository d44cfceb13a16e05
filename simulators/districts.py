"""The synthetic Seoul's 25 gu as polygons, for the portal's map (no real boundary file ships
with the hub): each gu is the part of the city nearer its office than any other gu's (a
Voronoi cell, clipped to the city's outline), in WGS84 GeoJSON. The offices and the distance
are those ``products.reference.gu_of`` places points by, so a sensor the products count in a
gu is drawn inside it.

``python -m simulators districts`` writes ``hub/web/static/geo/seoul_gu.geojson``; a test
checks the committed file is what this makes.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from products.reference import GU

#: Each gu's name in English (the Korean one, the code and the office are the reference's).
ENGLISH: dict[str, str] = {
    "11110": "Jongno-gu",
    "11140": "Jung-gu",
    "11170": "Yongsan-gu",
    "11200": "Seongdong-gu",
    "11215": "Gwangjin-gu",
    "11230": "Dongdaemun-gu",
    "11260": "Jungnang-gu",
    "11290": "Seongbuk-gu",
    "11305": "Gangbuk-gu",
    "11320": "Dobong-gu",
    "11350": "Nowon-gu",
    "11380": "Eunpyeong-gu",
    "11410": "Seodaemun-gu",
    "11440": "Mapo-gu",
    "11470": "Yangcheon-gu",
    "11500": "Gangseo-gu",
    "11530": "Guro-gu",
    "11545": "Geumcheon-gu",
    "11560": "Yeongdeungpo-gu",
    "11590": "Dongjak-gu",
    "11620": "Gwanak-gu",
    "11650": "Seocho-gu",
    "11680": "Gangnam-gu",
    "11710": "Songpa-gu",
    "11740": "Gangdong-gu",
}
#: A coarse outline of the city (longitude, latitude), counter-clockwise.
OUTLINE = [
    (126.800, 37.540),
    (126.840, 37.480),
    (126.890, 37.440),
    (126.960, 37.435),
    (127.050, 37.445),
    (127.120, 37.470),
    (127.180, 37.530),
    (127.170, 37.570),
    (127.110, 37.630),
    (127.080, 37.690),
    (127.010, 37.700),
    (126.950, 37.665),
    (126.900, 37.630),
    (126.800, 37.590),
]
#: Degrees of longitude are this much shorter than of latitude here (cos 37.55°).
X_SCALE = math.cos(math.radians(37.55))

Point = tuple[float, float]


def _clip(polygon: list[Point], a: Point, b: Point) -> list[Point]:
    """The part of ``polygon`` nearer ``a`` than ``b`` (Sutherland-Hodgman, one half-plane)."""
    mx, my = (a[0] + b[0]) / 2, (a[1] + b[1]) / 2
    nx, ny = b[0] - a[0], b[1] - a[1]

    def inside(p: Point) -> bool:
        return (p[0] - mx) * nx + (p[1] - my) * ny <= 0

    def cut(p: Point, q: Point) -> Point:
        dp = (p[0] - mx) * nx + (p[1] - my) * ny
        dq = (q[0] - mx) * nx + (q[1] - my) * ny
        t = dp / (dp - dq)
        return (p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1]))

    out: list[Point] = []
    for i, p in enumerate(polygon):
        q = polygon[(i + 1) % len(polygon)]
        if inside(p):
            out.append(p)
            if not inside(q):
                out.append(cut(p, q))
        elif inside(q):
            out.append(cut(p, q))
    return out


def districts() -> dict[str, object]:
    """The 25 gu as a GeoJSON FeatureCollection (properties: code, name_ko, name_en)."""
    scaled = {code: (lon * X_SCALE, lat) for code, (_, lat, lon) in GU.items()}
    outline = [(lon * X_SCALE, lat) for lon, lat in OUTLINE]
    features = []
    for code, centre in scaled.items():
        cell = outline
        for other, point in scaled.items():
            if other != code:
                cell = _clip(cell, centre, point)
        ring = [[round(x / X_SCALE, 5), round(y, 5)] for x, y in cell]
        features.append(
            {
                "type": "Feature",
                "properties": {"code": code, "name_ko": GU[code][0], "name_en": ENGLISH[code]},
                "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def write(path: Path) -> None:
    """The GeoJSON file, one feature per line (a diff of it stays readable)."""
    collection = districts()
    lines = [json.dumps(f, ensure_ascii=False) for f in collection["features"]]  # type: ignore[union-attr]
    path.write_text(
        '{"type": "FeatureCollection", "features": [\n' + ",\n".join(lines) + "\n]}\n",
        encoding="utf-8",
    )
