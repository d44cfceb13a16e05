"""The sharing API under load, from a second process on loopback.

``web_metadata_req_per_s`` / ``web_metadata_p99_ms``: wrk (Debian's, installed if missing)
against one dataset's metadata, ``/api/v1/datasets/{id}``, for 10 s after a warm-up.
``web_csv_download_mb_per_s``: curl downloading the 1,000,000-row CSV export of the open
air-quality archive (median of 3). The server is ``hub serve`` as a citizen reaches it: one
uvicorn process on the embedded lake, the catalog on SQLite.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import time
from pathlib import Path

import httpx
from archive import FEED, open_archive

from hub.core.settings import HubSettings
from hub.services.process import free_port

ROWS = 1_000_000


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
    return {**outside, **settings.as_env(), "HUB_WEB_PORT": str(port)}


def _millis(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def load(url: str, seconds: int = 10, connections: int = 16) -> tuple[float, float, str]:
    """Requests a second and p99 latency (ms) that wrk measured, and its report."""
    wrk = _wrk()
    subprocess.run(
        [wrk, "-t1", f"-c{connections}", "-d2s", url], check=True, capture_output=True
    )  # warm-up
    out = subprocess.run(
        [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url],
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


def bench_web(settings: HubSettings) -> tuple[dict, dict]:
    exports = {e.format: e for e in open_archive(settings, ROWS)}
    port = free_port()
    hub = Path(os.environ.get("VIRTUAL_ENV", ".venv")) / "bin" / "hub"
    server = subprocess.Popen(
        [str(hub if hub.exists() else "hub"), "serve"],
        env=_env(settings, port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{base}/api/v1/datasets/{FEED}", timeout=5).raise_for_status()
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        rate, p99, report = load(f"{base}/api/v1/datasets/{FEED}")
        print(f"  metadata: {rate:,.0f} req/s, p99 {p99:.1f} ms", flush=True)
        csv = exports["csv"]
        mb_s, runs = download_rate(f"{base}/api/v1/datasets/{FEED}/files/csv", csv.bytes)
        print(f"  1M-row CSV ({csv.bytes / 1e6:.0f} MB): {mb_s:,.0f} MB/s", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
    figures = {
        "web_metadata_req_per_s": {"value": round(rate), "unit": "req/s"},
        "web_metadata_p99_ms": {"value": round(p99, 2), "unit": "ms"},
        "web_csv_download_mb_per_s": {"value": round(mb_s, 1), "unit": "MB/s"},
    }
    meta = {
        "web_load": "wrk -t1 -c16 -d10s, one uvicorn process, SQLite catalog",
        "web_csv_bytes": csv.bytes,
        "web_csv_rows": ROWS,
        "web_csv_runs_mb_s": [round(s, 1) for s in runs],
        "web_wrk_report": report.strip().splitlines()[-8:],
    }
    return figures, meta
