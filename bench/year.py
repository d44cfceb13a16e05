"""A year of service in minutes (``hub bench --only year``).

Every window goes through the real steps (the functions the DAG tasks call), in the order
their schedules close them: twelve months of a daily and a monthly feed, one month of
``air_quality_hourly`` (720 windows) and one week of a 15-minute feed (672 windows). The
maintenance rounds run on their DAGs' schedules inside the simulated time (compaction at :40
of every hour a dataset changed, the nightly round at 02:30), on the hub's simulated clock, so
retention judges ages as a year of service would.

Figures: ``year_windows_per_min`` (windows run per minute of wall time, maintenance excluded),
``year_aq_files_per_partition`` (most data files in any month partition of the maintained
``air_quality_hourly`` at the end) and ``year_month_scan_ratio`` (p95 of a one-month scan of
the maintained table / that of the same rows written once, measured in the same run).
"""

from __future__ import annotations

import heapq
import os
import secrets
import statistics
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from croniter import croniter

from hub.core.delivery import Window
from hub.core.settings import HubSettings
from hub.core.time import simulated
from hub.lake import iceberg, maintenance
from hub.lake.objectstore import ObjectStore
from hub.steps.context import RunContext
from hub.steps.export import export_owed
from hub.steps.pipeline import run_step
from hub.steps.plan import steps_for
from hub.upkeep import rounds
from simulators import drops
from simulators.agency_api import AgencyApiServer

KST = ZoneInfo("Asia/Seoul")
YEAR = datetime(2026, 1, 1, tzinfo=KST)
AQ = "air_quality_hourly"
#: feed -> windows run, from the start of the simulated year
PLAN = {
    "pm_composition": 365,  # daily
    "childcare_capacity": 12,  # monthly, personal data (the vault, the destruction step)
    AQ: 720,  # hourly, ~40 rows a window
    "traffic_ped_counts": 672,  # every 15 minutes
}
DROPS = {"pm_composition": drops.pm_composition, "childcare_capacity": drops.childcare_capacity}
#: the maintenance DAGs' schedules (dags/hub_maintenance.py)
COMPACTION_MINUTE = 40
NIGHTLY = (2, 30)
#: a run starts this long after its window closes (the scheduler's delay)
RUN_DELAY = timedelta(minutes=2)
SCANS = 15


@dataclass(order=True)
class Event:
    at: datetime
    kind: str = field(compare=False)  # window | compact | nightly
    feed: str = field(compare=False, default="")
    window: Window | None = field(compare=False, default=None)


@dataclass
class Clock:
    """The simulated instant the hub reads (``hub.core.time.utc_now``)."""

    now: datetime = YEAR

    def __call__(self) -> datetime:
        return self.now.astimezone(UTC)


def windows(settings: HubSettings, feed_id: str, count: int) -> Iterator[Window]:
    spec = rounds.datasets(settings)[feed_id]
    runs = croniter(spec.schedule.cron, YEAR - timedelta(seconds=1))
    start = runs.get_next(datetime)
    for _ in range(count):
        end = runs.get_next(datetime)
        yield Window(start.astimezone(UTC), end.astimezone(UTC))
        start = end


def timeline(settings: HubSettings, plan: dict[str, int]) -> list[Event]:
    events = [
        Event(w.end + RUN_DELAY, "window", feed, w)
        for feed, count in plan.items()
        for w in windows(settings, feed, count)
    ]
    end = max(e.at for e in events) + timedelta(days=1)
    hour = YEAR
    while hour < end:
        events.append(Event(hour + timedelta(minutes=COMPACTION_MINUTE), "compact"))
        if (hour.hour, 0) == (NIGHTLY[0], 0):
            events.append(Event(hour.replace(minute=NIGHTLY[1]), "nightly"))
        hour += timedelta(hours=1)
    heapq.heapify(events)
    return [heapq.heappop(events) for _ in range(len(events))]


@dataclass
class Year:
    """What the simulated year did and how long it took."""

    windows: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    run_s: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    step_s: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    compact_s: float = 0.0
    nightly_s: float = 0.0
    compactions: int = 0
    catch_up_exports: int = 0
    expired: int = 0
    orphans: int = 0


def simulate(settings: HubSettings, plan: dict[str, int], *, progress: bool = True) -> Year:
    """Run the timeline through the real steps and maintenance rounds, on a simulated clock."""
    specs = rounds.datasets(settings)
    store = ObjectStore(settings)
    clock, year = Clock(), Year()
    dirty: set[str] = set()
    events = timeline(settings, plan)
    total = sum(plan.values())
    started = time.perf_counter()
    with simulated(clock):
        for event in events:
            clock.now = event.at
            if event.kind == "window":
                _run_window(settings, store, event, year)
                dirty.add(event.feed)
                done = sum(year.windows.values())
                if progress and done % 100 == 0:
                    spent = sum(year.run_s.values())
                    print(
                        f"  {done:5d}/{total} windows, {event.at:%Y-%m-%d %H:%M} simulated, "
                        f"{done / spent * 60:.0f} windows/min, "
                        f"{time.perf_counter() - started:.0f} s wall",
                        flush=True,
                    )
            elif event.kind == "compact":
                t = time.perf_counter()
                for feed in sorted(dirty):
                    done_round = rounds.compaction(settings, specs[feed])
                    year.compactions += sum(1 for t_ in done_round.tables if t_.compacted_files)
                for feed in plan:  # the hourly task also writes the files a cadence owes
                    year.catch_up_exports += bool(export_owed(settings, specs[feed], clock()))
                dirty.clear()
                year.compact_s += time.perf_counter() - t
            else:
                t = time.perf_counter()
                for feed in plan:
                    nightly = rounds.daily(
                        settings, specs[feed], clock(), orphan_min_age=timedelta(0)
                    )
                    year.expired += sum(len(t_.expired) for t_ in nightly.tables)
                    year.orphans += sum(t_.orphans for t_ in nightly.tables)
                year.nightly_s += time.perf_counter() - t
    return year


def _run_window(settings: HubSettings, store: ObjectStore, event: Event, year: Year) -> None:
    assert event.window is not None
    feed = event.feed
    if feed in DROPS:  # the agency uploads its file for the window
        for key, data in DROPS[feed](event.window.start.astimezone(KST)).items():
            store.put("inbox", key, data)
    ctx = RunContext.create(
        feed,
        event.window.start,
        event.window.end,
        f"scheduled__{event.window.end:%Y%m%dT%H%M}",
        settings=settings,
    )
    t0 = time.perf_counter()
    result = None
    for step in steps_for(ctx.feed):
        t = time.perf_counter()
        result = run_step(ctx, step.name, result)
        year.step_s[(feed, step.name)].append(time.perf_counter() - t)
    year.run_s[feed] += time.perf_counter() - t0
    year.windows[feed] += 1


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) > 1 else samples[0]


def _month_scan_s(table, start: datetime, end: datetime) -> list[float]:
    from pyiceberg.expressions import And, GreaterThanOrEqual, LessThan

    month = And(
        GreaterThanOrEqual("measured_at", start.isoformat()),
        LessThan("measured_at", end.isoformat()),
    )
    times = []
    for _ in range(SCANS):
        t = time.perf_counter()
        rows = table.scan(row_filter=month).to_arrow().num_rows
        times.append(time.perf_counter() - t)
    assert rows > 0
    return times


def _copies(settings: HubSettings, table, hours: int) -> tuple[object, object]:
    """The same rows written once, and published window by window with no maintenance."""
    spec = rounds.datasets(settings)[AQ]
    rows = table.scan().to_arrow().sort_by("measured_at")
    fields, partition = spec.published_fields, (spec.partition.column, spec.partition.transform)
    once = iceberg.ensure_table(settings, "trusted", f"{AQ}_written_once", fields, partition)
    iceberg.replace_all(once, rows, {"hub.step": "bench"})
    raw = iceberg.ensure_table(settings, "trusted", f"{AQ}_unmaintained", fields, partition)
    import pyarrow.compute as pc

    for window in windows(settings, AQ, hours):
        start, end = window.start, window.end
        column = rows.column("measured_at")
        part = rows.filter(pc.and_(pc.greater_equal(column, start), pc.less(column, end)))
        iceberg.replace_window(
            raw, part, "measured_at", window, {"hub.run-id": "bench"}, timezone="Asia/Seoul"
        )
    return once, raw


def _records_p95(settings: HubSettings, start: datetime, end: datetime) -> tuple[float, int]:
    from fastapi.testclient import TestClient

    from hub.web.app import create_app

    client = TestClient(create_app(settings))
    params = {"from": start.isoformat(), "to": end.isoformat()}
    times, rows = [], 0
    for _ in range(SCANS):
        t = time.perf_counter()
        answer = client.get(f"/api/v1/datasets/{AQ}/records", params=params)
        times.append(time.perf_counter() - t)
        assert answer.status_code == 200, answer.text
        rows = answer.json()["rows"]
    return _p95(times), rows


def _zone_bytes(settings: HubSettings) -> dict[str, int]:
    store = ObjectStore(settings)
    return {zone: sum(o.size for o in store.listing(zone, "")) for zone in settings.buckets}


def year_figures(settings: HubSettings, plan: dict[str, int] = PLAN) -> tuple[dict, dict]:
    from catalog import migrate

    migrate(settings.catalog_url)
    key = secrets.token_hex(8)
    with AgencyApiServer(key) as api:
        os.environ.update(
            DATA_GO_KR_SERVICE_KEY=key,
            DATA_GO_KR_BASE_URL=api.base_url,
            CITY_IOT_BROKER_URL=api.base_url,
        )
        wall = time.perf_counter()
        year = simulate(settings, plan)
        wall = time.perf_counter() - wall
    cat = iceberg.table_catalog(settings)
    shapes = {
        (zone, feed): maintenance.shape(cat.load_table((zone, feed)))
        for feed in plan
        for zone in ("trusted", "open")
        if cat.table_exists((zone, feed))
    }
    windows_run = sum(year.windows.values())
    run_s = sum(year.run_s.values())
    print(f"\nsimulated year: {windows_run} windows in {wall / 60:.1f} min wall")
    print(
        f"  windows: {run_s / 60:.1f} min ({windows_run / run_s * 60:.0f} windows/min); "
        f"compaction {year.compact_s:.0f} s ({year.compactions} commits, "
        f"{year.catch_up_exports} exports owed by a cadence); "
        f"nightly rounds {year.nightly_s:.0f} s ({year.expired} snapshots expired, "
        f"{year.orphans} orphan files removed)"
    )
    print("  time per step (mean ms per window):")
    steps = sorted(
        {s for _, s in year.step_s},
        key=["land", "validate", "protect", "publish", "release", "cleanup"].index,
    )
    print(f"    {'feed':24}" + "".join(f"{s:>10}" for s in steps) + f"{'window':>10}{'/min':>7}")
    for feed in plan:
        means = [
            statistics.fmean(year.step_s[(feed, s)]) * 1000 if year.step_s[(feed, s)] else 0
            for s in steps
        ]
        per = year.run_s[feed] / max(1, year.windows[feed])
        print(
            f"    {feed:24}"
            + "".join(f"{m:10.0f}" for m in means)
            + f"{per * 1000:10.0f}{60 / per:7.0f}"
        )
    print("  tables at year end, with maintenance:")
    print(
        f"    {'table':34}{'rows':>9}{'files':>7}{'max/part':>9}{'snaps':>7}{'manif':>7}{'meta KB':>9}"
    )
    for (zone, feed), s in shapes.items():
        print(
            f"    {zone + '.' + feed:34}{s.rows:9,}{s.data_files:7}{s.most_files_in_a_partition:9}"
            f"{s.snapshots:7}{s.manifests:7}{s.metadata_bytes / 1024:9.0f}"
        )
    aq = cat.load_table(("trusted", AQ))
    month = (datetime(2026, 1, 1, tzinfo=KST), datetime(2026, 2, 1, tzinfo=KST))
    middle = (YEAR + timedelta(hours=plan.get(AQ, 0) // 2)).replace(hour=0)
    day = (middle, middle + timedelta(days=1))  # a day inside the hourly windows run
    once, raw = _copies(settings, aq, plan[AQ])
    raw_shape = maintenance.shape(raw)
    print(
        f"    {'trusted.' + AQ + ' (no maintenance)':34}{raw_shape.rows:9,}{raw_shape.data_files:7}"
        f"{raw_shape.most_files_in_a_partition:9}{raw_shape.snapshots:7}{raw_shape.manifests:7}"
        f"{raw_shape.metadata_bytes / 1024:9.0f}"
    )
    scans = {
        name: _p95(_month_scan_s(t, *month))
        for name, t in (("maintained", aq), ("written once", once), ("no maintenance", raw))
    }
    print(
        "  one-month scan of air_quality_hourly through pyiceberg, p95: "
        + ", ".join(f"{n} {v * 1000:.0f} ms" for n, v in scans.items())
    )
    records = {
        name: _records_p95(settings, *span) for name, span in (("day", day), ("month", month))
    }
    print(
        "  /records?from=..&to=.. p95: "
        + ", ".join(f"{n} {v * 1000:.0f} ms ({rows:,} rows)" for n, (v, rows) in records.items())
    )
    catalog_bytes = Path(settings.catalog_url.removeprefix("sqlite:///")).stat().st_size
    zones = _zone_bytes(settings)
    print(
        f"  catalog database {catalog_bytes / 1e6:.1f} MB; disk per zone: "
        + ", ".join(f"{z} {b / 1e6:.1f} MB" for z, b in zones.items())
    )
    aq_shape = shapes[("trusted", AQ)]
    figures = {
        "year_windows_per_min": {
            "value": round(windows_run / run_s * 60, 1),
            "unit": "windows/min",
        },
        "year_aq_files_per_partition": {
            "value": aq_shape.most_files_in_a_partition,
            "unit": "files",
        },
        "year_month_scan_ratio": {
            "value": round(scans["maintained"] / scans["written once"], 2),
            "unit": "ratio",
        },
    }
    meta = {
        "year_windows": dict(year.windows),
        "year_wall_min": round(wall / 60, 1),
        "year_aq_snapshots": aq_shape.snapshots,
        "year_aq_unmaintained": {"files": raw_shape.data_files, "snapshots": raw_shape.snapshots},
        "year_month_scan_p95_ms": {n: round(v * 1000, 1) for n, v in scans.items()},
        "year_records_p95_ms": {n: round(v * 1000, 1) for n, (v, _) in records.items()},
        "year_catalog_db_bytes": catalog_bytes,
        "year_zone_bytes": zones,
    }
    return figures, meta
