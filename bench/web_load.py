"""The sharing API under load, from a second process on loopback.

wrk (Debian's, installed if missing), 64 connections for 10 s after a warm-up, against
``hub serve --workers 2`` as a citizen reaches it, over a 1,000,000-row open air-quality
archive, once with the catalog on SQLite (the embedded default) and once on PostgreSQL (the
production topology): one dataset's metadata (``web_metadata_*`` on SQLite,
``web_postgres_metadata_*``), a records page ``/records?limit=100`` (``web_records_*`` on
PostgreSQL, ``web_sqlite_records_*``) and the same page filtered on ``gu_code``
(``web_records_gu_*``); and curl downloading the archive's CSV export (median of 3,
``web_csv_download_mb_per_s``, ``web_postgres_csv_download_mb_per_s``).
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
from archive import FEED, open_archive

from hub.core.settings import HubSettings
from hub.services.process import free_port

ROWS = 1_000_000
#: As the issue asks: 64 concurrent connections, against the production server's processes.
CONNECTIONS = 64
WORKERS = 2


def _wrk() -> str:
    if not shutil.which("wrk"):
        print("  installing wrk (Debian) for the load generator", flush=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "wrk"],
            check=True,
            capture_output=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
    return shutil.which("wrk") or "wrk"


def _env(settings: HubSettings, port: int) -> dict[str, str]:
    outside = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "AIRFLOW"))}
    # the server's capacity, measured from one address: the per-address limit is off
    return {
        **outside,
        **settings.as_env(),
        "HUB_WEB_PORT": str(port),
        "HUB_WEB_RATE_PER_MINUTE": "0",
    }


def _millis(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def load(url: str, seconds: int = 10, connections: int = 16) -> tuple[float, float, str]:
    """Requests a second and p99 latency (ms) that wrk measured, and its report."""
    wrk = _wrk()
    subprocess.run(
        [wrk, "-t2", f"-c{connections}", "-d2s", url], check=True, capture_output=True
    )  # warm-up
    out = subprocess.run(
        [wrk, "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = _millis(re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE).group(1))
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"the load run had errors:\n{out}")
    return rate, p99, out


def download_rate(url: str, expected: int, repeats: int = 3) -> tuple[float, list[float]]:
    """MB/s of whole downloads by curl (median), checking each got every byte."""
    speeds = []
    for _ in range(repeats):
        out = subprocess.run(
            ["curl", "-s", "-o", "/dev/null", "-w", "%{size_download} %{speed_download}", url],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        assert int(out[0]) == expected, f"downloaded {out[0]} of {expected} bytes"
        speeds.append(float(out[1]) / 1e6)
    return statistics.median(speeds), speeds


def _serve(settings: HubSettings, port: int) -> subprocess.Popen:
    hub = Path(os.environ.get("VIRTUAL_ENV", ".venv")) / "bin" / "hub"
    env = {**_env(settings, port), "HUB_WEB_WORKERS": str(WORKERS)}
    server = subprocess.Popen(
        [str(hub if hub.exists() else "hub"), "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(600):
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v1/datasets/{FEED}", timeout=5)
            return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.terminate()
    raise RuntimeError("hub serve did not answer within 60 s")


def _one_backend(settings: HubSettings, label: str) -> tuple[dict, dict]:
    """The figures of one catalog backend: metadata, a records page (plain and filtered by
    gu), and the 1M-row CSV download, from a server with WORKERS processes."""
    exports = {e.format: e for e in open_archive(settings, ROWS)}
    port = free_port()
    server = _serve(settings, port)
    base = f"http://127.0.0.1:{port}/api/v1/datasets/{FEED}"
    gu = httpx.get(f"{base}/records?limit=1", timeout=30).json()["items"][0]["gu_code"]
    home = f"http://127.0.0.1:{port}/"
    urls = {  # name -> (url, connections)
        "metadata": (base, CONNECTIONS),
        "records": (f"{base}/records?limit=100", CONNECTIONS),
        "records_gu": (f"{base}/records?limit=100&gu_code={gu}", CONNECTIONS),
        # the citizen's pages, at the load issue 19 names
        "home": (home, 32),
        "home_search": (f"{home}?{urlencode({'q': '미세먼지', 'type': 'sensor'})}", 32),
        "search_api": (f"http://127.0.0.1:{port}/api/v1/search?{urlencode({'q': 'bike'})}", 32),
    }
    figures: dict[str, dict] = {}
    reports: dict[str, list[str]] = {}
    try:
        for name, (url, connections) in urls.items():
            rate, p99, report = load(url, connections=connections)
            print(f"  {label} {name}: {rate:,.0f} req/s, p99 {p99:.1f} ms", flush=True)
            figures[f"{name}_req_per_s"] = {"value": round(rate), "unit": "req/s"}
            figures[f"{name}_p99_ms"] = {"value": round(p99, 2), "unit": "ms"}
            reports[name] = report.strip().splitlines()[-8:]
        csv = exports["csv"]
        mb_s, runs = download_rate(f"{base}/files/csv", csv.bytes)
        print(f"  {label} 1M-row CSV ({csv.bytes / 1e6:.0f} MB): {mb_s:,.0f} MB/s", flush=True)
        figures["csv_download_mb_per_s"] = {"value": round(mb_s, 1), "unit": "MB/s"}
    finally:
        server.terminate()
        server.wait(timeout=30)
    meta = {"csv_bytes": csv.bytes, "csv_runs_mb_s": [round(r, 1) for r in runs], "wrk": reports}
    return figures, meta


#: Names as the issues ask for them: the production topology's (PostgreSQL) figures carry the
#: plain names of the records page; the metadata and download figures keep the names they had
#: on SQLite, with ``pg_`` beside them.
NAMES = {
    ("sqlite", "metadata_req_per_s"): "web_metadata_req_per_s",
    ("sqlite", "metadata_p99_ms"): "web_metadata_p99_ms",
    ("sqlite", "csv_download_mb_per_s"): "web_csv_download_mb_per_s",
    ("postgres", "records_req_per_s"): "web_records_req_per_s",
    ("postgres", "records_p99_ms"): "web_records_p99_ms",
    ("postgres", "records_gu_req_per_s"): "web_records_gu_req_per_s",
    ("postgres", "records_gu_p99_ms"): "web_records_gu_p99_ms",
    ("postgres", "home_p99_ms"): "web_home_p99_ms",
    ("postgres", "home_search_p99_ms"): "web_home_search_p99_ms",
    ("postgres", "search_api_p99_ms"): "web_search_api_p99_ms",
}


def bench_web(sqlite: HubSettings, postgres: HubSettings) -> tuple[dict, dict]:
    """Both catalog backends under the same load; see the module's docstring."""
    figures, meta = (
        {},
        {
            "web_load": f"wrk -t2 -c{CONNECTIONS} -d10s, hub serve --workers {WORKERS}",
            "web_csv_rows": ROWS,
        },
    )
    for label, settings in (("sqlite", sqlite), ("postgres", postgres)):
        found, detail = _one_backend(settings, label)
        for name, figure in found.items():
            figures[NAMES.get((label, name), f"web_{label}_{name}")] = figure
        meta.update({f"web_{label}_{k}": v for k, v in detail.items()})
    return figures, meta
