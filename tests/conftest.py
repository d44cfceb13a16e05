"""Fixtures: a real SeaweedFS and a real PostgreSQL for the session, isolated lakes per test.

Every test that touches the lake gets its own bucket prefix, hub home and catalog database,
so tests never see each other's data. Services are started here and stopped by PID.
"""

from __future__ import annotations

import itertools
import os
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.core.settings import HubSettings
from hub.lake.objectstore import ObjectStore
from hub.services import SeaweedFS
from hub.services.postgres import PostgresCluster
from simulators.agency_api import AgencyApiServer

#: Fixtures shared as plugins: the browser and axe-core for the tests that look at pages.
pytest_plugins = ["tests.support.browser"]

_counter = itertools.count(1)


@pytest.fixture(scope="session")
def session_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="hub-tests-") as tmp:
        yield Path(tmp)


@pytest.fixture(scope="session")
def s3_server(session_dir: Path) -> Iterator[str]:
    """A SeaweedFS S3 server on a free port for the whole session."""
    settings = HubSettings(home=session_dir / "s3", s3_port=0)
    server = SeaweedFS(settings)
    state, _ = server.start()
    yield state.endpoint
    server.stop()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster().start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def airflow_home(session_dir: Path) -> Path:
    """One Airflow metadata database for the session (migrating it takes seconds)."""
    return session_dir / "airflow"


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def hub_settings(
    backend: str,
    request: pytest.FixtureRequest,
    s3_server: str,
    session_dir: Path,
    airflow_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> HubSettings:
    """Settings for an isolated lake on the session's S3 server, catalog on ``backend``.

    They are also exported as HUB_* variables so subprocesses (Airflow, the CLI) see the same.
    """
    n = next(_counter)
    home = session_dir / f"home{n}"
    database_url = vault_url = None
    if backend == "postgres":  # the vault gets a database of its own, as in production
        cluster = request.getfixturevalue("pg_cluster")
        database_url, vault_url = (cluster.create_database(f"{db}{n}") for db in ("hub", "vault"))
    settings = HubSettings(
        home=home,
        s3_endpoint=s3_server,
        s3_secret_key=_s3_secret(session_dir),
        bucket_prefix=f"t{n}-",
        database_url=database_url,
        vault_url=vault_url,
        airflow_home=airflow_home,
    )
    for name, value in settings.as_env().items():
        monkeypatch.setenv(name, value)
    ObjectStore(settings).ensure_buckets()
    return settings


def _s3_secret(session_dir: Path) -> str:
    from hub.core.settings import embedded_secret_key

    return embedded_secret_key(HubSettings(home=session_dir / "s3"))


@pytest.fixture
def agency_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[AgencyApiServer]:
    """The simulated data.go.kr API, with its key and URL in the environment as in production."""
    key = secrets.token_hex(12)
    with AgencyApiServer(key) as server:
        monkeypatch.setenv("DATA_GO_KR_SERVICE_KEY", key)
        monkeypatch.setenv("DATA_GO_KR_BASE_URL", server.base_url)
        monkeypatch.setenv("CITY_IOT_BROKER_URL", server.base_url)
        yield server


def pytest_configure(config: pytest.Config) -> None:
    # In-process Airflow imports (DagBag) must not touch the developer's ~/airflow.
    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="hub-airflow-unit-")
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"


@pytest.fixture(autouse=True)
def _no_one_acts_after_a_command():
    """A command run in-process signs its person in for the rest of the process, as a CLI
    process does; the next test starts as no one."""
    yield
    from catalog import audit

    audit.act_as(None)
