"""Benchmarks of the hub; figures go to ``bench/results.json`` (format in DESIGN.md).

- ``publish_rows_per_s``: rows already landed in the raw zone (air-quality API pages) read,
  parsed to the declared schema, written and committed as one Iceberg snapshot on the
  embedded S3 server. Median of five runs after one warm-up, each replacing the same window.
- ``protect_rows_per_s`` / ``protect_presidio_rows_per_s``: see ``bench/protect.py``.
- ``validate_rows_per_s`` / ``validate_naive_gx_rows_per_s``: see ``bench/validation.py``.
- ``lineage_3hop_p95_ms``: see ``bench/lineage_query.py``.
- ``search_2000_p95_ms``: see ``bench/search.py``.
- ``dags_parse_s``: wall time to parse the whole ``dags/`` folder into a DagBag in a fresh
  process with Airflow already imported (what a DAG processor pays per parse). Median.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from connectors.base import FetchContext  # noqa: E402
from hub.core.delivery import RawPart, Window  # noqa: E402
from hub.core.settings import HubSettings  # noqa: E402
from hub.lake.objectstore import ObjectStore  # noqa: E402
from hub.lake.raw import RawLanding  # noqa: E402
from hub.services import SeaweedFS  # noqa: E402
from hub.steps.context import RunContext  # noqa: E402
from hub.steps.publish import publish_table  # noqa: E402
from hub.steps.validate import parse_delivery  # noqa: E402
from simulators import air_quality, drops  # noqa: E402
from simulators.agency_api import _envelope  # noqa: E402

PAGE = 10_000


def _land_pages(settings: HubSettings, ctx: RunContext, rows: int):
    """Generate ``rows`` readings as API pages and land them as the connector would."""
    hours = 24 * 31
    stations = air_quality.stations(count=max(1, -(-rows // hours)))
    landing = RawLanding(ObjectStore(settings), ctx.feed.id, ctx.window, ctx.run_id)
    readings = (
        air_quality.reading(station, ctx.window.start + timedelta(hours=h))
        for h in range(hours)
        for station in stations
    )
    for page, start in enumerate(range(0, rows, PAGE), start=1):
        items = [next(readings) for _ in range(min(PAGE, rows - start))]
        body = _envelope("00", "NORMAL_CODE", items, rows, page, PAGE)
        landing(RawPart(f"page-{page:05d}.json", body, "application/json", "bench", len(items)))
    return landing.seal(rows_reported=rows)


@contextmanager
def embedded_lake():
    """A throwaway SeaweedFS lake with its buckets, stopped (by PID) afterwards."""
    with tempfile.TemporaryDirectory(prefix="hub-bench-") as tmp:
        base = HubSettings(home=Path(tmp), s3_port=0)
        server = SeaweedFS(base)
        state, _ = server.start()
        try:
            settings = base.model_copy(update={"s3_endpoint": state.endpoint})
            ObjectStore(settings).ensure_buckets()
            yield settings
        finally:
            server.stop()


def bench_publish(rows: int, repeats: int) -> tuple[float, dict]:
    with embedded_lake() as settings:
        from catalog import migrate

        migrate(settings.catalog_url)
        start = datetime(2026, 10, 1, tzinfo=air_quality.KST).astimezone(UTC)
        window = Window(start, start + timedelta(days=31))
        ctx = RunContext.create(
            "air_quality_hourly", window.start, window.end, "bench", settings=settings
        )
        t = time.perf_counter()
        manifest = _land_pages(settings, ctx, rows)
        print(
            f"landed {rows:,} rows in {len(manifest.objects)} pages ({manifest.size / 1e6:.0f} MB) in {time.perf_counter() - t:.1f} s",
            flush=True,
        )
        store = ObjectStore(settings)
        timings = []
        # one unmeasured warm-up run (cold page cache and first-use kernels), then repeats
        for i in range(-1, repeats):
            # a run of its own each time: a retry of one run finds its commit and writes nothing
            run = RunContext.create(
                "air_quality_hourly", window.start, window.end, f"bench-{i}", settings=settings
            )
            t = time.perf_counter()
            conformed = parse_delivery(run, manifest, store)
            parsed = time.perf_counter() - t
            result = publish_table(run, conformed.valid, manifest)
            elapsed = time.perf_counter() - t
            assert result["rows_published"] == rows - conformed.rejects.num_rows
            if i < 0:
                print(f"  warm-up: {rows / elapsed:,.0f} rows/s ({elapsed:.2f} s)", flush=True)
                continue
            timings.append(elapsed)
            print(
                f"  run {i + 1}: {rows / elapsed:,.0f} rows/s ({elapsed:.2f} s: read+parse "
                f"{parsed:.2f} s, write+commit {elapsed - parsed:.2f} s)",
                flush=True,
            )
        parse_s, write_s = _parse_and_write_alone(ctx, manifest, store, conformed.valid, repeats)
        print(
            f"  the limit: parse the pages alone {parse_s:.2f} s + write the rows as Parquet "
            f"alone {write_s:.2f} s",
            flush=True,
        )
        return rows / statistics.median(timings), {
            "runs_s": timings,
            "pages": len(manifest.objects),
            "parse_only_s": parse_s,
            "write_only_s": write_s,
        }


def _parse_and_write_alone(ctx, manifest, store, rows, repeats: int) -> tuple[float, float]:
    """Medians of parsing the landed pages from memory with the feed's reader (the pipeline's
    4 threads), and of writing the published rows to one local Parquet file (the lake's zstd):
    what a publish with no overhead of its own would cost."""
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow.parquet as pq

    from connectors import reader

    read, config = reader(ctx.feed.delivery.connector), ctx.feed.delivery.config
    pages = [(o.key, store.get("raw", o.key)) for o in manifest.objects]
    parse, write = [], []
    with tempfile.TemporaryDirectory(prefix="hub-bench-") as tmp:
        for _ in range(repeats):
            t = time.perf_counter()
            with ThreadPoolExecutor(max_workers=4) as pool:
                parsed = list(
                    pool.map(lambda p: read(config, p[1], name=p[0], feed_id=ctx.feed.id), pages)
                )
            parse.append(time.perf_counter() - t)
            assert sum(t.num_rows for t in parsed) >= rows.num_rows
            t = time.perf_counter()
            pq.write_table(rows, f"{tmp}/rows.parquet", compression="zstd")
            write.append(time.perf_counter() - t)
    return statistics.median(parse), statistics.median(write)


def _cached(name: str, make) -> bytes:
    """Deterministic bench inputs, generated once under var/bench-cache (generation is slow)."""
    path = ROOT / "var" / "bench-cache" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(make())
    return path.read_bytes()


def land_and_parse_runs(kind, rows, repeats, store, ctx, config, fetch, read) -> list[float]:
    """One warm-up and ``repeats`` timed runs of fetch -> land in raw -> parse every part."""
    timings = []
    for i in range(-1, repeats):
        t = time.perf_counter()
        # a fresh delivery each run: the same bytes again in one feed's window would be a
        # redelivery, which lands as the earlier one after re-reading it
        landing = RawLanding(store, f"{ctx.feed_id}-{i + 1}", ctx.window, f"bench-{i}")
        fetch(config, ctx, landing)
        manifest = landing.seal(rows_reported=None)
        parsed = sum(
            read(config, store.get("raw", o.key), name=o.key).num_rows for o in manifest.objects
        )
        elapsed = time.perf_counter() - t
        assert parsed == rows, parsed
        if i >= 0:
            timings.append(elapsed)
        label = "warm-up" if i < 0 else f"run {i + 1}"
        print(f"  {kind} {label}: {rows / elapsed:,.0f} rows/s ({elapsed:.2f} s)", flush=True)
    return timings


def bench_file_connector(kind: str, rows: int, repeats: int) -> tuple[float, dict]:
    """Rows/s of one file delivery: fetch from the inbox, land in raw (checksummed), read."""
    from connectors.file_drop.config import FileDropConfig
    from connectors.file_drop.connector import fetch, read

    day = datetime(2026, 10, 1, tzinfo=air_quality.KST)
    if kind == "csv_cp949":
        data = _cached(
            f"pm_gyeonggi_{rows}.csv", lambda: drops.pm_csv("gyeonggi", day.date(), sites=rows)
        )
        config = FileDropConfig(prefix="bench/", format="csv", encoding="cp949")
    else:
        data = _cached(
            f"childcare_{rows}.xlsx", lambda: drops.childcare_workbook(day, facilities=rows)
        )
        config = FileDropConfig(prefix="bench/", format="excel", sheet="시설현황", header_row=2)
    with embedded_lake() as settings:
        store = ObjectStore(settings)
        store.put("inbox", f"bench/{kind}.bin", data)
        window = Window(day, day + timedelta(days=1))
        ctx = FetchContext(
            feed_id=f"bench_{kind}", window=window, timezone="Asia/Seoul", inbox=store
        )
        timings = land_and_parse_runs(kind, rows, repeats, store, ctx, config, fetch, read)
        return rows / statistics.median(timings), {"runs_s": timings, "bytes": len(data)}


def bench_sql_connector(rows: int, repeats: int) -> tuple[float, dict]:
    """Rows/s of a SQL-table snapshot: ADBC read of the source table, landed as Parquet, read."""
    from connectors.sql_table.config import SqlTableConfig
    from connectors.sql_table.connector import fetch, read
    from simulators import startups

    at = datetime(2027, 1, 1, tzinfo=air_quality.KST)
    with (
        tempfile.TemporaryDirectory(prefix="hub-bench-source-") as folder,
        embedded_lake() as settings,
    ):
        url = f"sqlite:///{folder}/startup_tenants.db"
        startups.write_state(url, at, tenants=rows)
        config = SqlTableConfig(url=url, table="startup_tenants", cursor_column="updated_at")
        window = Window(at - timedelta(days=92), at)
        ctx = FetchContext(feed_id="bench_sql", window=window, timezone="Asia/Seoul")
        store = ObjectStore(settings)
        timings = land_and_parse_runs("sql", rows, repeats, store, ctx, config, fetch, read)
        return rows / statistics.median(timings), {"runs_s": timings}


def bench_http_connector(kind: str, rows: int, repeats: int) -> tuple[float, dict]:
    """Rows/s of an HTTP delivery: every page requested, checked, landed in raw, then parsed."""
    from http_sources import StaticPages, ngsi_pages

    import connectors
    from hub.registry import load_feed

    if kind == "http_json":
        feed = load_feed(ROOT / "feeds" / "air_quality_hourly.yaml")
        config = feed.delivery.config.model_copy(update={"page_size": PAGE, "url": "{base}/aq"})
        stations = air_quality.stations(count=max(1, -(-rows // (24 * 31))))
        start = datetime(2026, 10, 1, tzinfo=air_quality.KST)
        readings = (
            air_quality.reading(s, start + timedelta(hours=h))
            for h in range(24 * 31)
            for s in stations
        )
        pages = []
        for page, first in enumerate(range(0, rows, PAGE), start=1):
            items = [next(readings) for _ in range(min(PAGE, rows - first))]
            pages.append(_envelope("00", "NORMAL_CODE", items, rows, page, PAGE))
        limit = PAGE
    else:
        from simulators import iot_sensors

        feed = load_feed(ROOT / "feeds" / "iot_air_sensors.yaml")
        limit = 1000
        config = feed.delivery.config.model_copy(update={"limit": limit, "url": "{base}"})
        sensors = iot_sensors.sensors(count=rows)
        slot = datetime(2026, 10, 1, 13, tzinfo=air_quality.KST)
        pages = ngsi_pages([iot_sensors.entity(s, slot) for s in sensors], limit)
    window = Window(
        datetime(2026, 10, 1, tzinfo=air_quality.KST), datetime(2026, 11, 1, tzinfo=air_quality.KST)
    )
    with embedded_lake() as settings, StaticPages(pages, total=rows, limit=limit) as source:
        config = config.model_copy(update={"url": config.url.format(base=source.url)})
        store = ObjectStore(settings)
        ctx = FetchContext(feed_id=feed.id, window=window, timezone="Asia/Seoul", inbox=store)
        fetch, read = (
            connectors.fetcher(feed.delivery.connector),
            connectors.reader(feed.delivery.connector),
        )
        import os

        os.environ.setdefault("DATA_GO_KR_SERVICE_KEY", "bench")
        timings = land_and_parse_runs(kind, rows, repeats, store, ctx, config, fetch, read)
    return rows / statistics.median(timings), {"runs_s": timings, "pages": len(pages)}


PARSE = """
import time, sys
import airflow.sdk
from airflow.dag_processing.dagbag import DagBag
t = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1])
elapsed = time.perf_counter() - t
assert not bag.import_errors, bag.import_errors
print(elapsed, len(bag.dags))
"""


def bench_dags_parse(repeats: int) -> tuple[float, int]:
    times, count = [], 0
    with tempfile.TemporaryDirectory(prefix="hub-bench-airflow-") as home:
        env = {"AIRFLOW_HOME": home, "AIRFLOW__CORE__LOAD_EXAMPLES": "False", **_env()}
        for _ in range(repeats):
            out = subprocess.run(
                [sys.executable, "-c", PARSE, str(ROOT / "dags")],
                capture_output=True,
                text=True,
                env=env,
                check=True,
            )
            elapsed, count = out.stdout.split()[-2:]
            times.append(float(elapsed))
    return statistics.median(times), int(count)


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}


def publish_figures(args) -> tuple[dict, dict]:
    print(f"publish benchmark: {args.rows:,} air-quality rows", flush=True)
    rate, detail = bench_publish(args.rows, args.repeats)
    limit = args.rows / (detail["parse_only_s"] + detail["write_only_s"])
    meta = {
        "publish_rows": args.rows,
        "publish_runs_s": [round(t, 3) for t in detail["runs_s"]],
        "publish_pages": detail["pages"],
        "publish_parse_only_s": round(detail["parse_only_s"], 3),
        "publish_write_only_s": round(detail["write_only_s"], 3),
    }
    print(f"  publish_vs_limit: {rate:,.0f} / {limit:,.0f} rows/s = {rate / limit:.2f}")
    return {
        "publish_rows_per_s": {"value": round(rate), "unit": "rows/s"},
        # throughput over (rows / (parse alone + write alone)): 1.0 is no overhead beyond them
        "publish_vs_limit": {"value": round(rate / limit, 2), "unit": "ratio"},
    }, meta


def connector_figures(args) -> tuple[dict, dict]:
    connectors = {}
    for kind, kind_rows in (("csv_cp949", 1_000_000), ("excel", args.excel_rows)):
        print(f"connector benchmark: {kind}, {kind_rows:,} rows", flush=True)
        connectors[kind] = (kind_rows, *bench_file_connector(kind, kind_rows, 3))
    for kind, repeats in (("http_json", 3), ("ngsi_ld", 1)):  # a broker page holds 1,000
        print(f"connector benchmark: {kind}, 1,000,000 rows", flush=True)
        connectors[kind] = (1_000_000, *bench_http_connector(kind, 1_000_000, repeats))
    connectors.update(_sql(args))
    figures = {
        f"connector_{kind}_rows_per_s": {"value": round(rate), "unit": "rows/s"}
        for kind, (_, rate, _) in connectors.items()
    }
    return figures, {f"connector_{kind}_rows": n for kind, (n, _, _) in connectors.items()}


def _sql(args) -> dict:
    print("connector benchmark: sql (SQLite source, snapshot), 1,000,000 rows", flush=True)
    return {"sql": (1_000_000, *bench_sql_connector(1_000_000, 3))}


def sql_figures(args) -> tuple[dict, dict]:
    _, rate, _ = _sql(args)["sql"]
    return {"connector_sql_rows_per_s": {"value": round(rate), "unit": "rows/s"}}, {
        "connector_sql_rows": 1_000_000
    }


def protect_figures(args) -> tuple[dict, dict]:
    from protect import bench_presidio, bench_protect

    print("protect benchmark: 1,000,000 bike-trip rows, hub techniques", flush=True)
    rate, detail = bench_protect(1_000_000, 50_000, args.repeats)
    print(
        "protect benchmark: the same member_id column through Presidio's hash operator", flush=True
    )
    presidio, presidio_detail = bench_presidio(1_000_000, 50_000)
    figures = {
        "protect_rows_per_s": {"value": round(rate), "unit": "rows/s"},
        "protect_presidio_rows_per_s": {"value": round(presidio), "unit": "rows/s"},
    }
    meta = {
        "protect_rows": 1_000_000,
        "protect_distinct_members": detail["distinct_members"],
        "protect_runs_s": [round(t, 3) for t in detail["runs_s"]],
        "protect_presidio_run_s": round(presidio_detail["run_s"], 3),
    }
    return figures, meta


def quality_figures(args) -> tuple[dict, dict]:
    from validation import bench_validate

    print("quality benchmark: bike_trips suite on 1,000,000 rows, hub vs naive GX", flush=True)
    rate, naive, detail = bench_validate(1_000_000, args.repeats)
    figures = {
        "validate_rows_per_s": {"value": round(rate), "unit": "rows/s"},
        "validate_naive_gx_rows_per_s": {"value": round(naive), "unit": "rows/s"},
    }
    meta = {
        "validate_rows": 1_000_000,
        "validate_expectations": detail["expectations"],
        "validate_failing_rows": detail["failing_rows"],
        "validate_runs_s": [round(t, 3) for t in detail["hub_runs_s"]],
        "validate_naive_runs_s": [round(t, 3) for t in detail["naive_runs_s"]],
    }
    return figures, meta


def lineage_figures(args) -> tuple[dict, dict]:
    from lineage_query import bench_lineage

    from hub.services.postgres import PostgresCluster

    print(
        "lineage benchmark: 3-hop upstream over 5,000 jobs / 50,000 events, PostgreSQL", flush=True
    )
    cluster = PostgresCluster().start()
    try:
        p95, detail = bench_lineage(cluster.create_database("lineage_bench"))
    finally:
        cluster.stop()
    print(f"  p95 {p95:.2f} ms, median {detail['median_ms']} ms, load {detail['load_s']} s")
    return {"lineage_3hop_p95_ms": {"value": round(p95, 2), "unit": "ms"}}, {
        f"lineage_{k}": v for k, v in detail.items()
    }


def search_figures(args) -> tuple[dict, dict]:
    from search import bench_search

    print("search benchmark: /api/v1/search over 2,000 generated datasets", flush=True)
    with tempfile.TemporaryDirectory() as home:
        p95, detail = bench_search(HubSettings(home=Path(home)))
    print(f"  p95 {p95:.2f} ms, median {detail['median_ms']} ms")
    return {"search_2000_p95_ms": {"value": round(p95, 2), "unit": "ms"}}, {
        f"search_{k}": v for k, v in detail.items()
    }


def dags_figures(args) -> tuple[dict, dict]:
    parse_s, dags = bench_dags_parse(5)
    print(f"dags/ parse: {parse_s:.3f} s for {dags} DAG(s)")
    return {"dags_parse_s": {"value": round(parse_s, 3), "unit": "s"}}, {"dags": dags}


def web_figures(args) -> tuple[dict, dict]:
    from web_load import bench_web

    from hub.services.postgres import PostgresCluster

    print("web benchmark: metadata and records under wrk, 1M-row CSV download", flush=True)
    with embedded_lake() as settings:
        cluster = PostgresCluster().start()
        try:
            on_pg = settings.model_copy(
                update={
                    "database_url": cluster.create_database("hub_bench"),
                    "bucket_prefix": "pg-",
                }
            )
            ObjectStore(on_pg).ensure_buckets()
            return bench_web(settings, on_pg)
        finally:
            cluster.stop()


def year_figures(args) -> tuple[dict, dict]:
    from year import year_figures as simulate_year

    print("simulated year: windows through the real steps, maintenance on its schedule", flush=True)
    with embedded_lake() as settings:
        return simulate_year(settings)


GROUPS = {
    "publish": publish_figures,
    "connectors": connector_figures,
    "sql": sql_figures,
    "protect": protect_figures,
    "quality": quality_figures,
    "lineage": lineage_figures,
    "dags": dags_figures,
    "search": search_figures,
    "web": web_figures,
    "year": year_figures,
}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--excel-rows", type=int, default=1_000_000)
    parser.add_argument(
        "--only",
        default=",".join(GROUPS),
        help="Comma-separated groups to run; the other figures in results.json are kept.",
    )
    args = parser.parse_args()
    path = ROOT / "bench" / "results.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    meta = results.pop("_meta", {})
    for name in args.only.split(","):
        figures, detail = GROUPS[name.strip()](args)
        results.update(figures)
        meta.update(detail)
    for name, figure in results.items():
        print(f"{name:40} {figure['value']:>14,} {figure['unit']}")
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    meta.update(
        {
            "machine": f"{platform.machine()} {platform.processor() or ''} {_cpus()} cores, Python {platform.python_version()}".strip(),
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "commit": commit,
            "groups_run": args.only,
        }
    )
    path.write_text(json.dumps({**results, "_meta": meta}, indent=2, ensure_ascii=False) + "\n")
    return 0


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    sys.exit(main())
