"""``validate_rows_per_s`` and ``validate_naive_gx_rows_per_s``: the bike_trips suite (its 20
declared checks) on 1,000,000 conformed bike-trip rows, the hub's way and the naive way.

The hub's way is ``quality.gate.run_checks`` as the validate step calls it: the frame of the
columns the suite reads, GX's validation with BASIC results, and the failing rows' positions
for any check that failed (0.1% of the rows carry defects, so that path is paid too). The
naive way hands GX a pandas copy of the whole table and validates the same suite with BASIC
results: what a first integration would do. Both start from the same Arrow table, in the same
process, GX already imported. Median of the runs after one warm-up each.
"""

from __future__ import annotations

import statistics
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa

from hub.core.delivery import Window
from hub.core.settings import PROJECT_ROOT
from hub.registry import load_feed
from hub.steps.conform import conform
from quality.gate import _definition, run_checks
from quality.suite import build_suite
from simulators.bikes import trips_table
from simulators.defects import Defect, inject_table

KST = ZoneInfo("Asia/Seoul")
DAY = date(2026, 11, 1)


def _rows(rows: int) -> tuple[pa.Table, Window]:
    feed = load_feed(PROJECT_ROOT / "feeds" / "bike_trips.yaml")
    start = datetime.combine(DAY, datetime.min.time(), KST)
    window = Window(start, start + timedelta(days=1))
    sent = trips_table(DAY, trips=rows)
    head = inject_table(
        sent.slice(0, 10_000),
        [  # ~0.1% of the rows break three checks
            Defect("out_of_range", "출생연도", rows=400, value="1800", seed=1),
            Defect("bad_code", "성별", rows=300, value="X", seed=2),
            Defect("swap", "대여일시", other="반납일시", rows=300, seed=3),
        ],
    )
    sent = pa.concat_tables([head, sent.slice(10_000)])
    return conform(feed, sent, window=window, object_key="bench", run_id="bench").valid, window


def bench_validate(rows: int = 1_000_000, repeats: int = 5) -> tuple[float, float, dict]:
    feed = load_feed(PROJECT_ROOT / "feeds" / "bike_trips.yaml")
    data, window = _rows(rows)
    hub_runs, naive_runs = [], []
    failing = 0
    for run in range(repeats + 1):  # the first of each is a warm-up
        began = time.perf_counter()
        outcome = run_checks(feed, data, window)
        if run:
            hub_runs.append(time.perf_counter() - began)
        failing = len(outcome.failing)
    definition = _definition()
    for run in range(max(2, repeats // 2) + 1):
        began = time.perf_counter()
        frame = data.to_pandas()
        _naive_fingerprint(True)
        batch = definition.get_batch(batch_parameters={"dataframe": frame})
        naive = batch.validate(build_suite(feed, window), result_format="BASIC")
        _naive_fingerprint(False)
        if run:
            naive_runs.append(time.perf_counter() - began)
    assert len(naive.results) == len(outcome.results) == len(feed.checks)
    return (
        rows / statistics.median(hub_runs),
        rows / statistics.median(naive_runs),
        {
            "expectations": len(feed.checks),
            "failing_rows": failing,
            "hub_runs_s": hub_runs,
            "naive_runs_s": naive_runs,
        },
    )


def _naive_fingerprint(on: bool) -> None:
    """The naive way keeps GX's default of fingerprinting every frame under 1 GB."""
    from great_expectations.execution_engine import pandas_execution_engine

    pandas_execution_engine.HASH_THRESHOLD = 1e9 if on else 0
