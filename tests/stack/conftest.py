"""The production topology as separate processes: the ``stack`` fixture (``make test-stack``).

Starts, on 127.0.0.1 free ports, what ``docker-compose.yml`` runs (both from
``hub/deploy/topology.py``): PostgreSQL with the ``airflow``, ``hub`` and ``vault`` databases
and roles made by ``deploy/postgres/init-databases.sh`` (password authentication on TCP);
SeaweedFS through ``deploy/seaweedfs/start.sh`` with its identities; Redis; the init job; and
Airflow's api-server, scheduler, dag-processor, triggerer and two Celery workers, each worker
with its own HUB_HOME and TMPDIR, all sharing one JWT secret and Fernet key made for this run.
The agencies are the simulators. Logs of each process stay under the run's directory and their
tails are printed when a test fails; everything is stopped by PID at the end.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from hub.core.settings import PROJECT_ROOT, HubSettings
from hub.deploy import topology
from hub.services.postgres import PostgresCluster
from hub.services.process import free_port, wait_until
from hub.services.seaweedfs import weed_binary
from simulators.agency_api import AgencyApiServer
from tests.stack.topology_run import (
    LocalTopology,
    Process,
    StackError,
    generate_secrets,
    references,
)

#: Parts of a feed's delivery that live outside the hub: the simulated agencies' values.
AGENCY_KEY_VARIABLE = "DATA_GO_KR_SERVICE_KEY"
WORKERS = ("worker1", "worker2")
#: What a container gets from its own network namespace and that two processes on one machine
#: must be told apart by: listen addresses and the ports of the log and health servers.
LOCAL_OVERRIDES = {
    "airflow-apiserver": {"AIRFLOW__API__HOST": "127.0.0.1", "AIRFLOW__API__WORKERS": "2"},
    "airflow-dag-processor": {
        # a 2-core machine: parse the three DAG files every 2 minutes, not every 30 s
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "120",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
    },
    "airflow-worker": {"AIRFLOW__CELERY__WORKER_CONCURRENCY": "2"},
}


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@dataclass
class Stack:
    topo: LocalTopology
    postgres: PostgresCluster
    agency: AgencyApiServer
    api_url: str
    started_in_s: float

    @property
    def admin_password(self) -> str:
        return self.topo.values["AIRFLOW_ADMIN_PASSWORD"]

    def psql(self, sql: str, database: str = "postgres") -> str:
        """SQL as the cluster's superuser, over its socket (as the image's entrypoint runs)."""
        cluster = self.postgres
        argv = [
            str(cluster.bindir / "psql"),
            "-h",
            str(cluster.sockets),
            "-p",
            str(cluster.port),
            "-U",
            cluster.user,
            "-d",
            database,
            "-v",
            "ON_ERROR_STOP=1",
            "-Atc",
            sql,
        ]
        try:
            return cluster._run(*argv).stdout
        except subprocess.CalledProcessError as exc:
            raise StackError(f"psql {sql!r}: {exc.stderr}") from None

    def process(self, name: str) -> Process:
        return self.topo.processes[name]

    def env_of(self, name: str) -> dict[str, str]:
        return self.process(name).env

    def hub_settings(self, identity: str = "WRITER") -> HubSettings:
        """The pipeline's settings (a worker's), for reading the lake as the hub does."""
        env = self.env_of("worker1")
        values = self.topo.values
        return HubSettings(
            home=self.topo.root / "homes" / "test",
            database_url=env["HUB_DATABASE_URL"],
            vault_url=env["HUB_VAULT_URL"],
            vault_master_key=env["HUB_VAULT_MASTER_KEY"],
            s3_endpoint=env["HUB_S3_ENDPOINT"],
            s3_access_key=values[f"S3_{identity}_ACCESS_KEY"],
            s3_secret_key=values[f"S3_{identity}_SECRET_KEY"],
            bucket_prefix=env["HUB_BUCKET_PREFIX"],
        )

    def token(self) -> str:
        """A JWT from the api-server, as the UI gets one: the admin's credentials."""
        answer = httpx.post(
            f"{self.api_url}/auth/token",
            json={"username": "admin", "password": self.admin_password},
            timeout=30,
        )
        answer.raise_for_status()
        return answer.json()["access_token"]

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.api_url}/api/v2",
            headers={"Authorization": f"Bearer {self.token()}"},
            timeout=60,
        )

    def restart(
        self, name: str, *, kill: bool = False, extra_env: dict[str, str] | None = None
    ) -> Process:
        """Stop one service this run started (``kill -9`` of its process group with ``kill``,
        else SIGTERM) and start it again with the same command and environment (plus
        ``extra_env``), as a container's restart policy would."""
        old = self.process(name)
        if kill:
            old.kill9()
        else:
            old.stop(grace_s=12.0)
        new = Process(
            name=name, argv=list(old.argv), env=old.env | dict(extra_env or {}), log=old.log
        )
        self.topo.processes[name] = new
        return new.start()

    def restart_scheduler(self, *, kill: bool = False, extra_env: dict[str, str] | None = None):
        proc = self.restart("airflow-scheduler", kill=kill, extra_env=extra_env)
        port = proc.env["AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT"]
        proc.wait_for(
            lambda: _healthy(f"http://127.0.0.1:{port}/health"),
            timeout_s=180,
            what="its /health answers",
        )
        return proc

    def stop_s3(self) -> None:
        self.process("s3").stop(grace_s=12.0)

    def start_s3(self) -> Process:
        """The S3 service again, on its data and ports (stopped by ``stop_s3``)."""
        old = self.process("s3")
        assert not old.alive()
        for sock in self.topo.home("s3").glob("*.sock"):
            sock.unlink()  # the filer's and S3's local sockets of the stopped server
        new = Process(name="s3", argv=list(old.argv), env=dict(old.env), log=old.log)
        self.topo.processes["s3"] = new
        new.start()
        url = f"http://127.0.0.1:{self.topo.ports['s3']}/healthz"
        new.wait_for(lambda: _healthy(url), timeout_s=120, what="its S3 port answers")
        return new

    def restart_postgres(self) -> None:
        """``pg_ctl restart -m fast``: every open connection of every service is cut."""
        cluster = self.postgres
        cluster._run(
            str(cluster.bindir / "pg_ctl"),
            "-D",
            str(cluster.data),
            "-m",
            "fast",
            "-w",
            "-t",
            "60",
            "-l",
            str(cluster.root / "postgres.log"),
            "restart",
        )


def _bind_mounts() -> dict[str, str]:
    """Container path -> file in the checkout, from docker-compose.yml's bind mounts."""
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
    mounts: dict[str, str] = {}
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source, _, rest = volume.partition(":")
            if source.startswith("./"):
                mounts[rest.split(":")[0]] = str(PROJECT_ROOT / source)
    return mounts


def _ensure_redis() -> None:
    if shutil.which("redis-server"):
        return
    proc = subprocess.run(
        ["apt-get", "install", "-y", "redis-server"], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0 or not shutil.which("redis-server"):
        raise StackError(f"redis-server is missing and apt-get failed:\n{proc.stderr[-2000:]}")


def _start_postgres(topo: LocalTopology, cluster: PostgresCluster) -> None:
    """The postgres service: the init script on the cluster, then passwords required on TCP."""
    service = topo.topology["postgres"]
    env = topo.environment(service, "postgres") | {
        "PATH": f"{cluster.bindir}:/usr/bin:/bin",
        "PGHOST": "127.0.0.1",
        "PGPORT": str(cluster.port),
        "POSTGRES_USER": cluster.user,
    }
    script = _bind_mounts()["/docker-entrypoint-initdb.d/10-init-databases.sh"]
    proc = subprocess.run(["bash", script], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise StackError(f"init-databases.sh failed:\n{proc.stdout}\n{proc.stderr}")
    # The throwaway cluster trusts every local connection; the stack's roles must give their
    # passwords, as in the image (the superuser keeps the socket, as the image's does).
    hba = cluster.data / "pg_hba.conf"
    hba.write_text(
        "local all all trust\n"
        "host all all 127.0.0.1/32 scram-sha-256\n"
        "host all all ::1/128 scram-sha-256\n"
    )
    cluster._run(str(cluster.bindir / "pg_ctl"), "-D", str(cluster.data), "reload")


def _start_redis(topo: LocalTopology) -> Process:
    service = topo.topology["redis"]
    data = topo.root / "redis"
    data.mkdir()
    proc = topo.process("redis")
    # the topology's `exec redis-server --requirepass ... --appendonly yes`, on this run's port
    proc.argv[-1] += f" --port {topo.ports['redis']} --bind 127.0.0.1 --dir {data}"
    proc.start()
    import redis

    client = redis.Redis(
        host="127.0.0.1", port=topo.ports["redis"], password=proc.env["REDIS_PASSWORD"]
    )

    def pong() -> bool:
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    proc.wait_for(pong, timeout_s=30, what="PONG")
    assert service.port == 6379
    return proc


def _start_s3(topo: LocalTopology) -> Process:
    """deploy/seaweedfs/start.sh as the s3 service runs it; a shim puts weed on this run's ports."""
    shim_dir = topo.root / "s3-shim"
    shim_dir.mkdir()
    ports = {f"-{part}.port": free_port(also_free=10000) for part in ("master", "volume", "filer")}
    sockets = topo.home("s3")
    flags = " ".join(
        [
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-s3.port={topo.ports['s3']}",
            *(f"{flag}={port}" for flag, port in ports.items()),
            "-master.electionTimeout=1s",
            f"-filer.localSocket={sockets}/filer.sock",
            f"-s3.localSocket={sockets}/s3.sock",
        ]
    )
    shim = shim_dir / "weed"
    shim.write_text(f'#!/bin/sh\nexec {weed_binary()} "$@" {flags}\n')
    shim.chmod(0o755)
    data = topo.root / "s3-data"
    data.mkdir()
    mounts = _bind_mounts()
    proc = topo.process("s3", extra_env={"SEAWEEDFS_DATA": str(data)})
    proc.argv = [mounts.get(a, a) for a in proc.argv]
    proc.env["PATH"] = f"{shim_dir}:{proc.env['PATH']}"
    proc.start()

    def answers() -> bool:
        try:
            httpx.get(f"http://127.0.0.1:{topo.ports['s3']}/healthz", timeout=1)
        except httpx.HTTPError:
            return False
        return True

    proc.wait_for(answers, timeout_s=60, what="its S3 port answers")
    return proc


def _run_init(topo: LocalTopology) -> None:
    proc = topo.process("init").start()
    assert proc.proc is not None
    try:
        code = proc.proc.wait(timeout=600)
    except subprocess.TimeoutExpired:
        raise StackError("init: still running after 600 s", proc) from None
    if code != 0:
        raise StackError(f"init: exited with {code}", proc)


def start_airflow_worker(
    topo: LocalTopology, name: str, extra_env: dict[str, str] | None = None
) -> Process:
    """One Celery worker of the ``airflow-worker`` service, with a home and TMPDIR of its own."""
    proc = topo.process(
        "airflow-worker",
        process_name=name,
        extra_env=LOCAL_OVERRIDES["airflow-worker"]
        | {"AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port())}
        | (extra_env or {}),
        # two workers on one machine share its host name: Celery needs distinct node names
        extra_args=["--celery-hostname", f"{name}@%h"],
    )
    return proc.start()


def worker_ready(proc: Process) -> bool:
    return proc.log.exists() and " ready." in proc.log.read_text(errors="replace")


def start_stack(root: Path) -> Stack:
    started = time.monotonic()
    services = topology.services()
    _ensure_redis()
    cluster = PostgresCluster().start()
    agency_key = os.urandom(12).hex()
    agency = AgencyApiServer(agency_key).start()
    needed = set().union(*(references(s) for s in services.values()))
    values = generate_secrets(needed) | {
        AGENCY_KEY_VARIABLE: agency_key,
        "DATA_GO_KR_BASE_URL": agency.base_url,
        "CITY_IOT_BROKER_URL": agency.base_url,
        "STARTUP_DB_URL": f"sqlite:///{root / 'sources' / 'startup_tenants.db'}",
        "HUB_WEB_WORKERS": "1",
    }
    ports = {"postgres": cluster.port}
    for name in ("redis", "airflow-apiserver", "airflow-scheduler", "airflow-triggerer", "hub-web"):
        ports[name] = free_port()
    ports["s3"] = free_port(also_free=10000)
    topo = LocalTopology(root=root, values=values, ports=ports, topology=services)
    stack = Stack(
        topo=topo,
        postgres=cluster,
        agency=agency,
        api_url=f"http://127.0.0.1:{ports['airflow-apiserver']}",
        started_in_s=0.0,
    )
    try:
        _start_postgres(topo, cluster)
        _start_redis(topo)
        _start_s3(topo)
        _run_init(topo)
        api = topo.process(
            "airflow-apiserver", extra_env=LOCAL_OVERRIDES["airflow-apiserver"]
        ).start()
        scheduler = topo.process(
            "airflow-scheduler",
            extra_env={
                "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(
                    ports["airflow-scheduler"]
                )
            },
        ).start()
        topo.process(
            "airflow-dag-processor", extra_env=LOCAL_OVERRIDES["airflow-dag-processor"]
        ).start()
        topo.process(
            "airflow-triggerer",
            extra_env={
                "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(ports["airflow-triggerer"])
            },
        ).start()
        workers = [start_airflow_worker(topo, name) for name in WORKERS]
        api.wait_for(
            lambda: _healthy(f"{stack.api_url}/api/v2/monitor/health"),
            timeout_s=180,
            what="/api/v2/monitor/health answers",
        )
        scheduler.wait_for(
            lambda: _healthy(f"http://127.0.0.1:{ports['airflow-scheduler']}/health"),
            timeout_s=180,
            what="its /health answers",
        )
        for worker in workers:
            worker.wait_for(lambda w=worker: worker_ready(w), timeout_s=180, what="ready")
        _wait_for_components(stack)
    except BaseException:
        print(topo.tails())
        stop_stack(stack)
        raise
    stack.started_in_s = time.monotonic() - started
    return stack


def _wait_for_components(stack: Stack) -> None:
    """Every component reports healthy and the DAG processor has parsed every DAG."""
    from hub.registry import load_registry
    from products import load_products

    expected = set(load_registry(PROJECT_ROOT / "feeds")) | {
        f"product_{p}" for p in load_products()
    }
    state: dict[str, object] = {}

    def ready() -> bool:
        health = httpx.get(f"{stack.api_url}/api/v2/monitor/health", timeout=5).json()
        state["health"] = health
        if any(
            (health.get(part) or {}).get("status") != "healthy"
            for part in ("metadatabase", "scheduler", "triggerer", "dag_processor")
        ):
            return False
        with stack.client() as api:
            dags = api.get("/dags", params={"limit": 100}).json()["dags"]
        state["dags"] = sorted(d["dag_id"] for d in dags)
        return expected <= set(state["dags"])

    if not wait_until(ready, timeout_s=300, interval_s=3):
        raise StackError(f"the stack did not become ready: {state}")


def stop_stack(stack: Stack) -> None:
    try:
        stack.topo.stop_all()
    finally:
        stack.agency.stop()
        stack.postgres.stop()


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    """The production topology as processes for the whole session (see the module docstring)."""
    root = Path(tempfile.mkdtemp(prefix="hub-stack-"))
    os.chmod(root, 0o755)
    s = start_stack(root)
    print(f"\nstack up in {s.started_in_s:.0f} s under {root}")
    try:
        yield s
    finally:
        stop_stack(s)
        if os.environ.get("HUB_STACK_KEEP") != "1":
            shutil.rmtree(root, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    outcome = yield
    report = outcome.get_result()
    stack_ = getattr(item, "funcargs", {}).get("stack")
    if report.failed and isinstance(stack_, Stack):
        report.sections.append(("stack process logs (tails)", stack_.topo.tails(40)))
