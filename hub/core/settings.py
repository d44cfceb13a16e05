"""One typed settings object for the whole hub, read from ``HUB_*`` environment variables.

Every value has an embedded default so a fresh clone runs with nothing set; production points
the same fields at MinIO (or any S3) and PostgreSQL.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, computed_field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hub.core.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: The city's time zone: windows, schedules and local dates are read in it unless a feed says otherwise.
CITY_TIMEZONE = "Asia/Seoul"
ZONES = ("raw", "trusted", "open", "quarantine")
#: The bucket a deployed hub keeps its backups in, apart from the lake's (with the prefix).
BACKUP_BUCKET = "backups"
#: The key vault's settings: what the pipeline must be given, and the web app must not hold. The
#: backup key is one of them: it opens the vault's backups.
VAULT_SETTINGS = ("vault_url", "vault_master_key", "backup_key")
#: What a deployed hub must be given, by role: it never falls back to an embedded or generated
#: one. The web app serves pseudonymized data only, so it is never given the vault.
PRODUCTION_REQUIRED = {
    "pipeline": ("database_url", *VAULT_SETTINGS, "s3_endpoint", "s3_secret_key"),
    "web": ("database_url", "s3_endpoint", "s3_secret_key"),
}
#: Buckets: the lake zones plus the inbox where agencies drop files for the file-drop connector.
BUCKETS = ("inbox", *ZONES)


class S3Connection(BaseModel):
    """Everything a client needs to reach the object store."""

    model_config = {"frozen": True}

    endpoint: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"

    @property
    def secure(self) -> bool:
        return self.endpoint.startswith("https://")

    @property
    def host_port(self) -> str:
        return self.endpoint.split("://", 1)[-1].rstrip("/")


class HubSettings(BaseSettings):
    """The hub's configuration; ``HUB_<FIELD>`` overrides each field."""

    model_config = SettingsConfigDict(env_prefix="HUB_", frozen=True, extra="ignore")

    home: Path = Field(default=Path("var"), description="State folder: services, secrets, SQLite.")
    feeds_dir: Path = Field(default=PROJECT_ROOT / "feeds", description="Feed registry folder.")
    roles_file: Path = Field(
        default=PROJECT_ROOT / "policy" / "roles.yaml",
        description="The duty matrix: roles of the hub's people and their permissions.",
    )
    database_url: str | None = Field(
        default=None, description="Catalog database (SQLAlchemy URL); SQLite under home if unset."
    )
    s3_endpoint: str | None = Field(
        default=None, description="S3 endpoint URL; the embedded SeaweedFS if unset."
    )
    s3_access_key: str = "hub"
    s3_secret_key: str | None = Field(
        default=None, description="Generated under home/secrets on first use if unset."
    )
    s3_region: str = "us-east-1"
    s3_connect_timeout: float = Field(
        default=5.0, description="Seconds to connect to S3 before the call fails (and may retry)."
    )
    s3_request_timeout: float = Field(
        default=120.0, description="Seconds an S3 call may wait for data before it fails."
    )
    s3_port: int = Field(default=8333, description="Port of the embedded S3 server (0 = any free).")
    bucket_prefix: str = Field(default="", description="Prefix of the zone buckets' names.")
    airflow_home: Path | None = Field(
        default=None, description="Airflow's home (metadata DB, logs); home/airflow if unset."
    )
    vault_url: str | None = Field(
        default=None,
        description="Key vault database (SQLAlchemy URL), kept apart from the catalog and the "
        "lake; SQLite under home/vault if unset.",
    )
    vault_master_key: str | None = Field(
        default=None,
        description="Base64 AES-256 key that encrypts the vault; generated under home/secrets "
        "on first use if unset (production passes it from a secret manager).",
    )
    backup_location: str | None = Field(
        default=None,
        description="Where `hub backup` writes: a local folder, or s3://bucket/prefix on the "
        "hub's S3 endpoint in a bucket apart from the lake's; if unset, home/backups, or for a "
        "deployed hub the bucket <prefix>backups that the init job creates.",
    )
    backup_keep: int = Field(
        default=14,
        ge=1,
        description="Backups kept by `hub backup` and the nightly DAG (two weeks of nightly "
        "ones); older ones are deleted after a backup succeeds.",
    )
    backup_key: str | None = Field(
        default=None,
        description="Base64 AES-256 key that encrypts the vault's backups, kept apart from the "
        "vault master key and from the backups; generated under home/secrets on first use if "
        "unset (production passes it from a secret manager).",
    )
    web_rate_per_minute: int = Field(
        default=1200,
        ge=0,
        description="Requests a minute one address may make without an API key, per web "
        "worker (a burst of as many, then 429 with Retry-After); 0: no limit.",
    )
    map_tiles_url: str | None = Field(
        default=None,
        description="A tile server for the portal's map ('https://tiles.example/{z}/{x}/{y}.png');"
        " unset, the map draws the bundled gu boundaries only and fetches nothing outside.",
        pattern=r"^https://[A-Za-z0-9.{}:-]+/[A-Za-z0-9._~/{}@-]*\{z\}[A-Za-z0-9._~/{}@?=&-]*$",
    )
    oidc_issuer: str | None = Field(
        default=None,
        description="The city IdP's OpenID Connect issuer URL (Keycloak realm, Azure AD tenant); "
        "staff then sign in there. Unset: local accounts only.",
    )
    oidc_client_id: str | None = Field(default=None, description="The hub's client id at the IdP.")
    oidc_client_secret: str | None = Field(
        default=None, description="The hub's client secret at the IdP (from a secret manager)."
    )
    web_session_secret: str | None = Field(
        default=None,
        description="Signs the short-lived cookie that carries an OpenID Connect sign-in's state "
        "and nonce; generated under home/secrets on first use if unset (a deployed hub with an "
        "IdP passes it, the same to every web worker).",
    )
    task_retries: int = Field(
        default=2,
        ge=0,
        description="Airflow retries of a feed or product task after a transient error (bad "
        "input fails at once).",
    )
    task_retry_delay_s: float = Field(
        default=60.0,
        gt=0,
        description="Seconds before a task's first retry; each later one waits twice as long.",
    )
    catalog_name: str = "hub"
    timezone: str = CITY_TIMEZONE
    production: bool = Field(
        default=False,
        description="A deployed hub: every service and secret comes from the environment; "
        "nothing is started, generated or kept under home.",
    )
    role: Literal["pipeline", "web"] = Field(
        default="pipeline",
        description="What this process runs: the pipeline (Airflow, the CLI), or the web app, "
        "which is never given the key vault and refuses to open it.",
    )

    @model_validator(mode="after")
    def _production_has_its_secrets(self) -> HubSettings:
        """Refuse to run a deployed hub that would invent a secret (a vault key made up on one
        machine could never resolve the tokens made on another), or a web app given the vault."""
        if self.production:
            missing = [
                f"HUB_{name.upper()}"
                for name in PRODUCTION_REQUIRED[self.role]
                if not getattr(self, name)
            ]
            if missing:
                raise ValueError(
                    "HUB_PRODUCTION is set but these variables are not: " + ", ".join(missing)
                )
        if self.production and self.oidc_issuer and not self.web_session_secret:
            raise ValueError(
                "HUB_OIDC_ISSUER is set on a deployed hub but HUB_WEB_SESSION_SECRET is not: "
                "every web worker must sign the sign-in state with the same secret"
            )
        if self.role == "web":
            given = [f"HUB_{name.upper()}" for name in VAULT_SETTINGS if getattr(self, name)]
            if given:
                raise ValueError(
                    "HUB_ROLE is web, which never holds the key vault, but "
                    + ", ".join(given)
                    + " are set: remove them from the web app's environment"
                )
        return self

    @computed_field  # type: ignore[prop-decorator]
    @cached_property
    def home_dir(self) -> Path:
        return self.home if self.home.is_absolute() else (Path.cwd() / self.home).resolve()

    @property
    def run_dir(self) -> Path:
        return self.home_dir / "run"

    @property
    def secrets_dir(self) -> Path:
        return self.home_dir / "secrets"

    def bucket(self, zone: str) -> str:
        if zone not in BUCKETS:
            raise ValueError(f"unknown zone {zone!r}; zones are {', '.join(BUCKETS)}")
        return f"{self.bucket_prefix}{zone}"

    @property
    def buckets(self) -> dict[str, str]:
        return {zone: self.bucket(zone) for zone in BUCKETS}

    @property
    def catalog_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home_dir / 'catalog.db'}"

    @property
    def vault_database_url(self) -> str:
        if self.vault_url:
            return self.vault_url
        return f"sqlite:///{self.home_dir / 'vault' / 'vault.db'}"

    @property
    def backup_target(self) -> str:
        """Where backups go: ``backup_location``; else a deployed hub's own backups bucket
        (nothing lasts under its home) or the embedded hub's folder ``home/backups``."""
        if self.backup_location:
            return self.backup_location
        if self.production:
            return f"s3://{self.bucket_prefix}{BACKUP_BUCKET}/hub"
        return str(self.home_dir / "backups")

    @property
    def backup_bucket(self) -> str | None:
        """The S3 bucket the backups go to, if they go to S3."""
        target = self.backup_target
        return (
            target.removeprefix("s3://").partition("/")[0] if target.startswith("s3://") else None
        )

    def as_env(self) -> dict[str, str]:
        """The HUB_* variables that give a subprocess (the CLI, ``hub serve``) these settings."""
        env = {
            "HUB_HOME": str(self.home),
            "HUB_BUCKET_PREFIX": self.bucket_prefix,
            "HUB_S3_SECRET_KEY": self.s3().secret_key,
        }
        optional = {
            "HUB_S3_ENDPOINT": self.s3_endpoint,
            "HUB_DATABASE_URL": self.database_url,
            "HUB_VAULT_URL": self.vault_url,
            "HUB_BACKUP_LOCATION": self.backup_location,
            "HUB_AIRFLOW_HOME": self.airflow_home,
        }
        return env | {k: str(v) for k, v in optional.items() if v is not None}

    def s3(self) -> S3Connection:
        """The object store connection: explicit settings first, then the embedded server."""
        endpoint = self.s3_endpoint or _embedded_endpoint(self)
        return S3Connection(
            endpoint=endpoint,
            access_key=self.s3_access_key,
            secret_key=self.s3_secret_key or embedded_secret_key(self),
            region=self.s3_region,
        )

    def iceberg_properties(self) -> dict[str, str]:
        """Properties for ``pyiceberg.catalog.sql.SqlCatalog(name, **props)``."""
        s3 = self.s3()
        return {
            "uri": self.catalog_url,
            "warehouse": f"s3://{self.bucket('trusted')}",
            "s3.endpoint": s3.endpoint,
            "s3.access-key-id": s3.access_key,
            "s3.secret-access-key": s3.secret_key,
            "s3.region": s3.region,
            "s3.path-style-access": "true",
            "s3.connect-timeout": str(self.s3_connect_timeout),
            "s3.request-timeout": str(self.s3_request_timeout),
        }


def run_time_secret(
    settings: HubSettings, name: str, make: Callable[[], dict[str, str]]
) -> dict[str, str]:
    """A secret made once at run time under ``home/secrets`` (0600), never committed."""
    path = settings.secrets_dir / f"{name}.json"
    if path.exists():
        return _read_secret(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    value = make()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return _read_secret(path)
    with os.fdopen(fd, "w") as fh:
        json.dump(value, fh)
    return value


def _read_secret(path: Path) -> dict[str, str]:
    return {str(k): str(v) for k, v in json.loads(path.read_text()).items()}


def embedded_secret_key(settings: HubSettings) -> str:
    """The embedded S3 server's secret."""
    made = run_time_secret(
        settings,
        "s3",
        lambda: {"access_key": settings.s3_access_key, "secret_key": secrets.token_urlsafe(30)},
    )
    return made["secret_key"]


def _embedded_endpoint(settings: HubSettings) -> str:
    state = settings.run_dir / "seaweedfs.json"
    if state.exists():
        return str(json.loads(state.read_text())["endpoint"])
    return f"http://127.0.0.1:{settings.s3_port}"


def get_settings() -> HubSettings:
    """Read settings from the environment now (no cache: tests and CLI may change it).

    Raises:
        ConfigError: a variable is malformed, or a deployed hub lacks one it needs.
    """
    try:
        return HubSettings()
    except ValidationError as exc:
        problems = "; ".join(
            (f"HUB_{str(e['loc'][0]).upper()}: " if e["loc"] else "")
            + e["msg"].removeprefix("Value error, ")
            for e in exc.errors()
        )
        raise ConfigError(f"settings (HUB_* variables): {problems}") from None
