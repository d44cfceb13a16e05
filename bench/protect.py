"""``protect_rows_per_s`` and ``protect_presidio_rows_per_s``: the protect step's techniques on
1,000,000 bike-trip rows, against the same tokenization done with Presidio's anonymizer.

The hub's figure is the bike_trips policy as the feed declares it (HMAC tokens for ~50,000
members with their sealed token table, birth years banded, both times cut to the hour) on rows
already validated in memory: no object-store I/O. Presidio hashes the same member_id column
value by value with its ``hash`` operator (SHA-256 with a fixed salt, so tokens can be joined).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa

from hub.core.delivery import Window
from hub.core.settings import PROJECT_ROOT
from hub.registry import load_feed
from hub.steps.conform import conform
from privacy.techniques import protect_table
from privacy.vault import Vault
from simulators.bikes import trips_table

KST = ZoneInfo("Asia/Seoul")
DAY = date(2026, 11, 1)


def bike_rows(rows: int, members: int) -> pa.Table:
    feed = load_feed(PROJECT_ROOT / "feeds" / "bike_trips.yaml")
    start = datetime.combine(DAY, datetime.min.time(), KST)
    sent = trips_table(DAY, trips=rows, members=members)
    window = Window(start, start + timedelta(days=1))
    return conform(feed, sent, window=window, object_key="bench", run_id="bench").valid


def bench_protect(
    rows: int = 1_000_000, members: int = 50_000, repeats: int = 5
) -> tuple[float, dict]:
    feed = load_feed(PROJECT_ROOT / "feeds" / "bike_trips.yaml")
    data = bike_rows(rows, members)
    with tempfile.TemporaryDirectory(prefix="hub-bench-vault-") as home:
        vault = Vault(f"sqlite:///{Path(home) / 'vault.db'}", b"\x00" * 32)
        key = vault.current_key("bike_trips")
        timings = []
        for run in range(repeats + 1):  # the first is a warm-up
            began = time.perf_counter()
            result = protect_table(data, feed.privacy, key=key, timezone="Asia/Seoul", noise_seed=0)
            for column, (tokens, values) in result.token_tables.items():
                vault.keep_token_table(key, column, f"bench-{run}", tokens, values)
            if run:
                timings.append(time.perf_counter() - began)
    distinct = len(result.token_tables["member_id"][0])
    return rows / statistics.median(timings), {"runs_s": timings, "distinct_members": distinct}


def bench_presidio(rows: int = 1_000_000, members: int = 50_000) -> tuple[float, dict]:
    from presidio_anonymizer import AnonymizerEngine
    from presidio_anonymizer.entities import OperatorConfig, RecognizerResult

    values = bike_rows(rows, members).column("member_id").to_pylist()
    engine = AnonymizerEngine()
    operators = {
        "MEMBER_ID": OperatorConfig("hash", {"hash_type": "sha256", "salt": "bench-salt-16byte"})
    }
    began = time.perf_counter()
    for value in values:
        engine.anonymize(
            text=value,
            analyzer_results=[RecognizerResult("MEMBER_ID", 0, len(value), 1.0)],
            operators=operators,
        )
    elapsed = time.perf_counter() - began
    return rows / elapsed, {"run_s": elapsed}
