"""`hub up` / `hub down` / `hub status --json` on the embedded SeaweedFS, as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import make_url

from hub.core.settings import PROJECT_ROOT, HubSettings
from hub.services.lake import status
from hub.services.process import pid_alive

HUB = str(PROJECT_ROOT / ".venv" / "bin" / "hub")


@pytest.fixture
def home(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "DATA_GO_KR_"))} | {
        "HUB_HOME": str(tmp_path / "var"),
        "HUB_S3_PORT": "0",
    }
    yield env
    subprocess.run([HUB, "down"], env=env, capture_output=True, check=False)


def _hub(env, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HUB, *args], env=env, capture_output=True, text=True, check=False)


def test_up_is_idempotent_status_describes_the_lake_and_down_stops_only_that_pid(home):
    first = _hub(home, "up")
    assert first.returncode == 0, first.stderr
    assert "started at http://127.0.0.1:" in first.stdout
    status = json.loads(_hub(home, "status", "--json", "--show-secrets").stdout)
    pid = status["services"]["seaweedfs"]["pid"]
    second = _hub(home, "up")
    assert "already running" in second.stdout
    assert json.loads(_hub(home, "status", "--json").stdout)["services"]["seaweedfs"]["pid"] == pid

    assert set(status["s3"]) >= {"endpoint", "access_key", "secret_key", "buckets"}
    assert set(status["s3"]["buckets"]) == {"inbox", "raw", "trusted", "open", "quarantine"}
    assert status["iceberg"]["uri"] == status["database_url"]
    from minio import Minio

    s3 = status["s3"]
    client = Minio(s3["endpoint"].split("://")[1], s3["access_key"], s3["secret_key"], secure=False)
    assert {b.name for b in client.list_buckets()} >= set(s3["buckets"].values())

    # the secret was generated at run time under the home, readable by its owner only
    secret_file = Path(home["HUB_HOME"]) / "secrets" / "s3.json"
    assert oct(secret_file.stat().st_mode & 0o777) == "0o600"

    # a plain status (printed into a log or a ticket) shows no secret
    plain = _hub(home, "status", "--json").stdout
    assert s3["secret_key"] not in plain
    assert json.loads(plain)["s3"]["secret_key"].startswith("<hidden")
    assert s3["secret_key"] not in _hub(home, "status").stdout

    assert "stopped" in _hub(home, "down").stdout
    assert not pid_alive(pid)
    assert "nothing was running" in _hub(home, "down").stdout


def test_status_hides_the_database_password_and_s3_secret_unless_asked(tmp_path):
    settings = HubSettings(
        home=tmp_path,
        database_url="postgresql://hub:catalog-pw@db.city.example:5432/hub",
        s3_endpoint="http://s3.city.example:9000",
        s3_secret_key="s3-secret-value",
    )
    hidden = json.dumps(status(settings))
    assert "catalog-pw" not in hidden and "s3-secret-value" not in hidden
    assert "postgresql://hub:***@db.city.example:5432/hub" in hidden
    shown = status(settings, secrets=True)
    assert shown["iceberg"]["uri"] == settings.catalog_url
    assert shown["iceberg"]["s3.secret-access-key"] == "s3-secret-value"


@pytest.mark.parametrize("backend", ["postgres"])
def test_up_against_production_services_starts_nothing_and_prints_no_password(hub_settings):
    """As the init job runs it: S3 and PostgreSQL are services of their own; its log leaks nothing."""
    url = make_url(hub_settings.catalog_url).set(password="catalog-pw")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env |= hub_settings.as_env() | {"HUB_DATABASE_URL": url.render_as_string(hide_password=False)}
    up = _hub(env, "up")
    assert up.returncode == 0, up.stderr
    assert f"S3 at {hub_settings.s3_endpoint} (external; nothing started)" in up.stdout
    assert "catalog-pw" not in up.stdout + up.stderr
    assert "catalog: postgresql+psycopg2://postgres:***@" in up.stdout


def test_a_port_taken_by_another_server_is_never_taken_for_the_lake(tmp_path, monkeypatch):
    """Two hubs (or two test workers) starting side by side can pick the same free port. The
    port another server holds is not mistaken for the lake's S3 API: weed starts on another."""
    import http.server
    import threading

    from hub.services import SeaweedFS, seaweedfs
    from hub.services.process import free_port

    class Json(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b'{"error": "volume id inbox not found"}'
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # quiet
            pass

    other = http.server.HTTPServer(("127.0.0.1", 0), Json)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    taken = other.server_address[1]
    assert not seaweedfs._s3_answers(f"http://127.0.0.1:{taken}")  # JSON is not S3
    picks = iter([taken])
    monkeypatch.setattr(
        seaweedfs,
        "free_port",
        lambda also_free=0: next(picks, None) or free_port(also_free=also_free),
    )
    server = SeaweedFS(HubSettings(home=tmp_path / "var", s3_port=0))
    try:
        state, started = server.start()
        assert started and state.s3_port != taken
        assert seaweedfs._s3_answers(state.endpoint)
    finally:
        server.stop()
        other.shutdown()
