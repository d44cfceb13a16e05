"""`make demo` as a person runs it: every feed through Airflow, the UI served, Ctrl-C stops all."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from hub.core.settings import PROJECT_ROOT
from hub.services.process import free_port, pid_alive
from tests.dags.test_feed_dags import FEEDS
from tests.support.staff import PASSWORD

HUB = str(PROJECT_ROOT / ".venv" / "bin" / "hub")


def _healthy(port: int) -> bool:
    try:
        health = httpx.get(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=2).json()
    except (httpx.HTTPError, ValueError):
        return False
    return all(part.get("status") == "healthy" for part in health.values())


def test_demo_runs_every_feed_serves_the_ui_and_ctrl_c_stops_what_it_started(tmp_path: Path):
    port, web_port = free_port(), free_port()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "DATA_GO_KR_", "CITY_"))
    }
    env |= {
        "HUB_HOME": str(tmp_path / "var"),
        "HUB_S3_PORT": "0",
        "HUB_AIRFLOW_PORT": str(port),
        "HUB_WEB_PORT": str(web_port),
    }
    proc = subprocess.Popen(
        [HUB, "demo", "--at", "2026-11-01T05:00:00+09:00"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Airflow UI on"):
                break
        # Keep reading: Airflow logs to the same pipe, and a full pipe would block the demo
        # (and its Ctrl-C handling) on its next write.
        threading.Thread(
            target=lambda: [lines.append(rest) for rest in proc.stdout], daemon=True
        ).start()
        output = "".join(lines)
        for feed in FEEDS:
            assert f"  {feed}: ok" in output, output
            assert f"\n{feed} " in output and "published" in output
        state = json.loads((tmp_path / "var" / "run" / "seaweedfs.json").read_text())
        deadline = time.monotonic() + 180
        while not _healthy(port) and time.monotonic() < deadline:
            time.sleep(2)
        assert _healthy(port), "the Airflow UI never became healthy"
        data_map = httpx.get(f"http://127.0.0.1:{web_port}/", timeout=10)
        assert data_map.status_code == 200 and "서울시 데이터 맵" in data_map.text
        # the sweep is a person's command: the installer's first account (an administrator)
        first = {**env, "HUB_NEW_PASSWORD": PASSWORD}
        add = [HUB, "users", "add", "ada", "--name", "Ada", "--role", "administrator"]
        added = subprocess.run(add, env=first, cwd=tmp_path, capture_output=True, text=True)
        assert added.returncode == 0, added.stdout + added.stderr
        # the freshness sweep right after the demo: every feed has delivered its windows
        # (10 minutes to quarterly), however old the rows of the monthly and quarterly ones are
        fresh, stale = sweep_at("2026-11-01T05:05:00+09:00", env, tmp_path)
        assert (sorted(fresh), stale) == (sorted(FEEDS), [])
        # half an hour on, with no delivery since: only the feeds whose 10- and 15-minute
        # windows closed past their grace are stale
        fresh, stale = sweep_at("2026-11-01T05:30:00+09:00", env, tmp_path)
        assert sorted(stale) == ["iot_air_sensors", "ped_accidents", "traffic_ped_counts"]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)
    assert proc.returncode == 0
    assert not pid_alive(state["pid"])
    assert not _healthy(port)
    with pytest.raises(httpx.ConnectError):  # the data map stopped with it
        httpx.get(f"http://127.0.0.1:{web_port}/", timeout=2)


def sweep_at(at: str, env: dict[str, str], cwd: Path) -> tuple[list[str], list[str]]:
    """The feeds ``hub quality freshness --at`` calls fresh and stale."""
    swept = subprocess.run(
        [HUB, "quality", "freshness", "--at", at, "--as", "ada"],
        env={**env, "HUB_AS_PASSWORD": PASSWORD},
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    lines = swept.stdout.splitlines()
    fresh = [line.split(":")[0] for line in lines if ": fresh:" in line]
    stale = [line.split(":")[0] for line in lines if ": STALE:" in line]
    assert swept.returncode == (1 if stale else 0), swept.stdout + swept.stderr
    return fresh, stale
