"""``search_2000_p95_ms``: the search API (``GET /api/v1/search``) over a catalog of 2,000
datasets made by ``simulators/catalog.py``, through the whole web app in this process (routing,
validation, search, facets, JSON). Queries mix Korean and English words, facet choices and
orders; p95 over 500 after 20 warm-ups."""

from __future__ import annotations

import random
import statistics
import time

from fastapi.testclient import TestClient

from hub.core.settings import HubSettings
from hub.web.app import create_app
from hub.web.catalog_view import DatasetCard
from simulators.catalog import GU, THEMES, datasets

DATASETS = 2_000


def _queries(rng: random.Random) -> dict[str, str]:
    """One search as a citizen types it: words, maybe a facet, maybe an order."""
    ko, en, keywords, _ = rng.choice(THEMES)
    words = rng.choice([ko, en.split()[0], rng.choice(keywords), f"{rng.choice(GU)} {ko}", ""])
    params = {"q": words} if words else {}
    if rng.random() < 0.4:
        params["type"] = rng.choice(["sensor", "administrative", "spatial"])
    if rng.random() < 0.3:
        params["sort"] = rng.choice(["name", "updated", "quality"])
    return params


def bench_search(settings: HubSettings, queries: int = 500) -> tuple[float, dict]:
    cards = [DatasetCard(**d) for d in datasets(DATASETS)]
    app = create_app(settings)
    app.state.hub.cards = lambda: cards  # the bench's catalog in place of the registry's
    rng = random.Random(11)
    timings, totals = [], []
    with TestClient(app) as client:
        for _ in range(queries + 20):
            params = _queries(rng)
            began = time.perf_counter()
            answer = client.get("/api/v1/search", params=params)
            timings.append((time.perf_counter() - began) * 1000)
            assert answer.status_code == 200, answer.text
            totals.append(answer.json()["total"])
    timings = timings[20:]
    p95 = statistics.quantiles(timings, n=20)[-1]
    return p95, {
        "datasets": DATASETS,
        "queries": queries,
        "median_ms": round(statistics.median(timings), 2),
        "median_results": statistics.median(totals[20:]),
    }
