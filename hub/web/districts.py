"""Seoul's gu by code, read from the boundaries the map draws (one source for both)."""

from __future__ import annotations

import json
from functools import cache

from hub.web.templating import STATIC

BOUNDARIES = STATIC / "geo" / "seoul_gu.geojson"


@cache
def names(lang: str) -> dict[str, str]:
    """Gu code -> its name in ``lang``."""
    features = json.loads(BOUNDARIES.read_text(encoding="utf-8"))["features"]
    return {f["properties"]["code"]: f["properties"][f"name_{lang}"] for f in features}
