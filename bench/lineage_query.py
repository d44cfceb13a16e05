"""``lineage_3hop_p95_ms``: a 3-hop upstream lineage query over a catalog on PostgreSQL filled
with 5,000 jobs and 50,000 OpenLineage events (five runs of each job, START and COMPLETE).

The city graph is layered like the real one: 500 source datasets; each job writes one dataset
from two or three earlier ones (agency feeds, then products of products). Events go in through
``catalog.lineage.record_events``, the path every step's events take; the query is
``catalog.lineage.upstream``. p95 over 500 queries from datasets in the newest fifth.
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from catalog.db import migrate
from catalog.lineage import Emission, LineageDataset, event, record_events, run_uuid, upstream

SOURCES, JOBS, RUNS = 500, 5_000, 5


def _events(seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    out = []
    for j in range(JOBS):
        pool = SOURCES + j  # datasets written so far: sources, then one per earlier job
        reads = {rng.randrange(max(0, pool - 800), pool) for _ in range(rng.choice((2, 3)))}
        emission = Emission(
            [LineageDataset("s3://city-trusted", f"d{i}") for i in sorted(reads)],
            [LineageDataset("s3://city-trusted", f"d{SOURCES + j}")],
        )
        for r in range(RUNS):
            run = run_uuid(f"run-{r}", f"job{j}")
            at = start + timedelta(hours=r)
            out.append(event("START", f"job{j}", run, emission, at=at))
            out.append(event("COMPLETE", f"job{j}", run, emission, at=at + timedelta(minutes=1)))
    return out


def bench_lineage(catalog_url: str, queries: int = 500) -> tuple[float, dict]:
    migrate(catalog_url)
    evs = _events()
    began = time.perf_counter()
    for first in range(0, len(evs), 2_000):
        record_events(catalog_url, evs[first : first + 2_000])
    load_s = time.perf_counter() - began
    rng = random.Random(11)
    newest = range(SOURCES + JOBS * 4 // 5, SOURCES + JOBS)
    timings, found = [], []
    for _ in range(queries + 20):  # the first 20 warm the cache
        name = f"s3://city-trusted/d{rng.choice(newest)}"
        t = time.perf_counter()
        result = upstream(catalog_url, name, hops=3)
        timings.append((time.perf_counter() - t) * 1000)
        found.append(len(result))
    timings = timings[20:]
    p95 = statistics.quantiles(timings, n=20)[-1]
    return p95, {
        "events": len(evs),
        "jobs": JOBS,
        "load_s": round(load_s, 1),
        "median_ms": round(statistics.median(timings), 2),
        "datasets_found_median": statistics.median(found[20:]),
    }
