"""Backups of what the lake cannot rebuild, and restoring them: the catalog database (which also
holds the Iceberg tables' pointers) and the key vault.

The lake's data and metadata files live on S3 and are never rewritten, so a copy of the two
databases is enough to bring the hub back: the catalog says which metadata file is each table's
current version, and the vault holds the keys without which no token can be made the same again
or resolved. Each database is copied consistently while writers run (SQLite's backup API;
``pg_dump`` of one exported snapshot, read by the row counts too). The vault's copy is then
encrypted with AES-256-GCM under a key of its own (``HUB_BACKUP_KEY``), so a stolen backup gives
no pseudonymization key away, and backups are kept apart from the lake: a local folder, or a
bucket that is not a zone's.

A backup is a folder ``<UTC time>-<short id>/`` whose ``manifest.json`` (written last: a folder
without one is a backup that did not finish) lists every file's SHA-256 and size, the rows of
every table and the Iceberg pointers. A restore refuses a backup that does not match its
manifest, naming the file; after restoring, it checks the rows, the audit chain, the pointers'
metadata files and the vault's keys, and appends a ``restore`` entry to the audit chain.
"""

from __future__ import annotations

import base64
import glob
import hashlib
import io
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from minio import Minio
from minio.deleteobjects import DeleteObject
from minio.error import S3Error
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, create_engine, func, inspect, make_url, select, table, text
from sqlalchemy.pool import NullPool
from urllib3.exceptions import HTTPError

from catalog import audit
from catalog.db import migrate, session_for
from catalog.models import ExportFile
from hub.core.database import engine_for
from hub.core.errors import HubError
from hub.core.settings import PROJECT_ROOT, HubSettings, run_time_secret
from hub.lake.iceberg import table_catalog
from hub.lake.objectstore import PART_SIZE, ObjectStore
from privacy.vault import Vault, keys_table

MANIFEST = "manifest.json"
#: The manifest's format: a restore refuses one it does not know.
FORMAT = 1
#: A backup folder's name: when it was made (UTC) and a random suffix (two at the same second).
BACKUP_ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{6}$")
#: A folder without a manifest this old is a backup that died half-way: pruning removes it.
ABANDONED_AFTER = timedelta(days=1)
#: The start of an encrypted vault copy: what it is and its format, then the 12-byte nonce;
#: the GCM tag is the file's last 16 bytes.
SEALED_MAGIC = b"HUB-VAULT-BKP-1\n"
CHUNK = 1 << 20


class BackupError(HubError):
    """A backup could not be made, or a restore was refused or failed: the message says which
    file, database or setting, and what to do."""


class BackupStoreError(BackupError):
    """The backup location or a database did not answer as expected: a retry may help."""

    transient = True


# --- the manifest ---------------------------------------------------------------------------
class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FileEntry(_Model):
    sha256: str
    bytes: int


class AuditHead(_Model):
    """The audit chain as it stood in a copy: how many entries, and the newest one's hash."""

    entries: int
    head: str | None


class Pointer(_Model):
    """One row of pyiceberg's ``iceberg_tables``: a table and its current metadata file."""

    catalog: str
    namespace: str
    name: str
    metadata_location: str | None


class DatabaseCopy(_Model):
    """One database in a backup: how it was copied, into which file, and its rows per table."""

    dialect: str
    file: str
    tables: dict[str, int]
    #: the id of the key that encrypts the file (``HUB_BACKUP_KEY``); None when not encrypted
    key_id: str | None = None

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


class BackupManifest(_Model):
    """What ``manifest.json`` says: enough to check a backup before anything is replaced."""

    format: int = FORMAT
    id: str
    created_at: datetime
    hub_commit: str | None
    catalog: DatabaseCopy
    vault: DatabaseCopy
    audit: AuditHead
    iceberg_pointers: list[Pointer]
    files: dict[str, FileEntry]

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.files.values())


@dataclass(frozen=True)
class BackupDone:
    """A backup written: its manifest, where it lies, and the old backups pruning removed."""

    manifest: BackupManifest
    location: str
    removed: tuple[str, ...] = ()

    def summary(self) -> dict[str, Any]:
        """A small JSON-able account (the DAG task's return value)."""
        return {
            "backup": self.manifest.id,
            "location": self.location,
            "bytes": self.manifest.bytes,
            "catalog_rows": self.manifest.catalog.rows,
            "vault_rows": self.manifest.vault.rows,
            "iceberg_tables": len(self.manifest.iceberg_pointers),
            "removed": list(self.removed),
        }


@dataclass(frozen=True)
class Listed:
    """A backup folder at the location; ``manifest`` is None when it never finished."""

    id: str
    location: str
    manifest: BackupManifest | None


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class RestoreReport:
    """What a restore put back, what it replaced, and the checks it ran afterwards."""

    manifest: BackupManifest
    location: str
    replaced: AuditHead | None
    checks: list[Check] = field(default_factory=list)
    missing_metadata: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


# --- where backups lie ----------------------------------------------------------------------
class _Place(Protocol):
    """A backup location: folders of files, addressed by backup id and file name."""

    def url(self, backup_id: str, name: str = "") -> str: ...
    def put(self, backup_id: str, name: str, path: Path) -> None: ...
    def write(self, backup_id: str, name: str, data: bytes) -> None: ...
    def read(self, backup_id: str, name: str) -> bytes | None: ...
    def fetch(self, backup_id: str, name: str, dest: Path) -> bool: ...
    def folders(self) -> list[str]: ...
    def remove(self, backup_id: str) -> None: ...


class _Folder:
    """Backups in a local folder (only the hub's user may read it: it holds the catalog)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def url(self, backup_id: str, name: str = "") -> str:
        return str(self.root / backup_id / name) if name else str(self.root / backup_id)

    def _dir(self, backup_id: str) -> Path:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.root / backup_id
        path.mkdir(exist_ok=True, mode=0o700)
        return path

    def put(self, backup_id: str, name: str, path: Path) -> None:
        shutil.copyfile(path, self._dir(backup_id) / name)

    def write(self, backup_id: str, name: str, data: bytes) -> None:
        final = self._dir(backup_id) / name
        partial = final.with_name(f".{name}.partial")
        partial.write_bytes(data)
        os.replace(partial, final)  # the manifest appears whole, or not at all

    def read(self, backup_id: str, name: str) -> bytes | None:
        path = self.root / backup_id / name
        return path.read_bytes() if path.is_file() else None

    def fetch(self, backup_id: str, name: str, dest: Path) -> bool:
        path = self.root / backup_id / name
        if not path.is_file():
            return False
        shutil.copyfile(path, dest)
        return True

    def folders(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return [p.name for p in self.root.iterdir() if p.is_dir() and BACKUP_ID.match(p.name)]

    def remove(self, backup_id: str) -> None:
        shutil.rmtree(self.root / backup_id, ignore_errors=True)


class _Bucket:
    """Backups under ``s3://bucket/prefix/`` on the hub's S3 endpoint (not a zone's bucket)."""

    def __init__(self, client: Minio, bucket: str, prefix: str) -> None:
        self.client, self.bucket, self.prefix = client, bucket, prefix

    def _key(self, backup_id: str, name: str = "") -> str:
        return "/".join(p for p in (self.prefix, backup_id, name) if p)

    def url(self, backup_id: str, name: str = "") -> str:
        return f"s3://{self.bucket}/{self._key(backup_id, name)}"

    def put(self, backup_id: str, name: str, path: Path) -> None:
        with _s3("write", self.url(backup_id, name)):
            self.client.fput_object(
                self.bucket, self._key(backup_id, name), str(path), part_size=PART_SIZE
            )

    def write(self, backup_id: str, name: str, data: bytes) -> None:
        with _s3("write", self.url(backup_id, name)):
            self.client.put_object(
                self.bucket, self._key(backup_id, name), io.BytesIO(data), len(data)
            )

    def read(self, backup_id: str, name: str) -> bytes | None:
        with tempfile.TemporaryDirectory() as tmp:
            dest = Path(tmp) / name
            return dest.read_bytes() if self.fetch(backup_id, name, dest) else None

    def fetch(self, backup_id: str, name: str, dest: Path) -> bool:
        try:
            with _s3("read", self.url(backup_id, name)):
                self.client.fget_object(self.bucket, self._key(backup_id, name), str(dest))
        except BackupStoreError as exc:
            if isinstance(exc.__cause__, S3Error) and exc.__cause__.code == "NoSuchKey":
                return False
            raise
        return True

    def folders(self) -> list[str]:
        start = f"{self.prefix}/" if self.prefix else ""
        with _s3("list", f"s3://{self.bucket}/{start}"):
            names = [
                o.object_name[len(start) :].strip("/")
                for o in self.client.list_objects(self.bucket, prefix=start)
                if o.is_dir
            ]
        return [n for n in names if BACKUP_ID.match(n)]

    def remove(self, backup_id: str) -> None:
        prefix = self._key(backup_id) + "/"
        with _s3("delete", self.url(backup_id)):
            keys = [
                DeleteObject(o.object_name)
                for o in self.client.list_objects(self.bucket, prefix=prefix, recursive=True)
            ]
            errors = list(self.client.remove_objects(self.bucket, keys))
        if errors:
            raise BackupStoreError(f"cannot delete {self.url(backup_id)}: {errors[0]}")


@contextmanager
def _s3(verb: str, where: str) -> Iterator[None]:
    """An S3 failure as a ``BackupStoreError`` naming the call and the object."""
    try:
        yield
    except (S3Error, HTTPError) as exc:
        raise BackupStoreError(f"cannot {verb} {where}: {exc}") from exc


def _place(settings: HubSettings, target: str | None = None, *, create: bool = False) -> _Place:
    """The backup location of ``settings`` (or ``target``), refused inside the lake's buckets
    and, for a deployed hub, under its home (scratch that does not outlive a container); its
    bucket is made when ``create`` (a backup), never to read."""
    target = target or settings.backup_target
    if target.startswith("s3://"):
        bucket, _, prefix = target.removeprefix("s3://").partition("/")
        if bucket in settings.buckets.values():
            raise BackupError(
                f"HUB_BACKUP_LOCATION {target}: {bucket} is one of the lake's buckets; backups "
                "are kept apart from the lake: name a bucket of their own"
            )
        client = ObjectStore(settings).client
        with _s3("create the bucket", f"s3://{bucket}"):
            if create and not client.bucket_exists(bucket):
                client.make_bucket(bucket)
        return _Bucket(client, bucket, prefix.strip("/"))
    if "://" in target:
        raise BackupError(f"HUB_BACKUP_LOCATION {target}: give a folder or an s3://bucket/prefix")
    folder = Path(target).expanduser().resolve()
    if settings.production and folder.is_relative_to(settings.home_dir):
        raise BackupError(
            f"HUB_BACKUP_LOCATION {target}: a deployed hub keeps nothing under HUB_HOME (scratch "
            "that does not outlive a container); name an s3://bucket/prefix or a lasting volume"
        )
    return _Folder(folder)


# --- the backup key -------------------------------------------------------------------------
def backup_key(settings: HubSettings) -> bytes:
    """The key that encrypts the vault's copies: ``HUB_BACKUP_KEY``, or one made at run time
    under ``home/secrets`` for the embedded hub (keep a copy of it apart from the backups).

    Raises:
        BackupError: the key is not 32 bytes in base64, or the web app asks for it.
    """
    if settings.role == "web":
        raise BackupError("the web app (HUB_ROLE=web) holds neither the key vault nor its backups")
    encoded = (
        settings.backup_key
        or run_time_secret(
            settings, "backup", lambda: {"key": base64.b64encode(os.urandom(32)).decode()}
        )["key"]
    )
    try:
        key = base64.b64decode(encoded, validate=True)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise BackupError("HUB_BACKUP_KEY must be 32 random bytes, base64-encoded")
    return key


def key_id(key: bytes) -> str:
    """A short public name of a key, to tell which key a backup needs without revealing it."""
    return hashlib.sha256(b"city-data-hub backup key\0" + key).hexdigest()[:16]


def _seal(src: Path, dest: Path, key: bytes, aad: bytes) -> None:
    """AES-256-GCM of ``src`` into ``dest`` in chunks (a vault may not fit in memory)."""
    nonce = os.urandom(12)
    encryptor = Cipher(algorithms.AES(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    with src.open("rb") as plain, dest.open("wb") as out:
        out.write(SEALED_MAGIC + nonce)
        while chunk := plain.read(CHUNK):
            out.write(encryptor.update(chunk))
        out.write(encryptor.finalize() + encryptor.tag)


def _unseal(src: Path, dest: Path, key: bytes, aad: bytes) -> None:
    """Decrypt ``src`` into ``dest``; ``dest`` is removed unless the tag proves it whole."""
    size = src.stat().st_size
    with src.open("rb") as sealed:
        head = sealed.read(len(SEALED_MAGIC) + 12)
        if not head.startswith(SEALED_MAGIC) or size < len(head) + 16:
            raise BackupError(f"{src.name} is not an encrypted vault copy of the hub")
        sealed.seek(size - 16)
        tag = sealed.read(16)
        sealed.seek(len(head))
        decryptor = Cipher(algorithms.AES(key), modes.GCM(head[-12:], tag)).decryptor()
        decryptor.authenticate_additional_data(aad)
        left = size - len(head) - 16
        try:
            with dest.open("wb") as out:
                while left > 0:
                    chunk = sealed.read(min(CHUNK, left))
                    left -= len(chunk)
                    out.write(decryptor.update(chunk))
                decryptor.finalize()
        except InvalidTag:
            dest.unlink(missing_ok=True)
            raise BackupError(
                f"{src.name} does not decrypt under HUB_BACKUP_KEY: it was altered, or "
                "encrypted for another backup"
            ) from None


# --- copying a database ---------------------------------------------------------------------
def _dialect(url: str) -> str:
    return make_url(url).get_backend_name()


def _sqlite_path(url: str) -> Path:
    return Path(make_url(url).database or "")


def _inventory(conn: Connection) -> tuple[dict[str, int], AuditHead, list[Pointer]]:
    """Rows per table, the audit chain's head and the Iceberg pointers, as ``conn`` sees them."""
    names = sorted(inspect(conn).get_table_names())
    counts = {
        n: conn.execute(select(func.count()).select_from(table(n))).scalar_one() for n in names
    }
    head = _audit_head(conn) if "hub_audit_log" in names else AuditHead(entries=0, head=None)
    pointers: list[Pointer] = []
    if "iceberg_tables" in names:
        rows = conn.execute(
            text(
                "SELECT catalog_name, table_namespace, table_name, metadata_location"
                " FROM iceberg_tables ORDER BY catalog_name, table_namespace, table_name"
            )
        )
        pointers = [
            Pointer(catalog=r[0], namespace=r[1], name=r[2], metadata_location=r[3]) for r in rows
        ]
    return counts, head, pointers


def _audit_head(conn: Connection) -> AuditHead:
    entries = conn.execute(text("SELECT count(*) FROM hub_audit_log")).scalar_one()
    head = conn.execute(text("SELECT hash FROM hub_audit_log ORDER BY id DESC LIMIT 1")).scalar()
    return AuditHead(entries=entries, head=head)


def _copy(url: str, dest: Path, what: str) -> tuple[dict[str, int], AuditHead, list[Pointer]]:
    """A consistent copy of the database at ``url`` into ``dest``, and its inventory as of that
    copy (not of a later moment: writers keep running)."""
    if _dialect(url) == "sqlite":
        source = _sqlite_path(url)
        if not source.is_file():
            raise BackupError(f"{what}: no database at {source}")
        with (
            closing(sqlite3.connect(source, timeout=30)) as src,
            closing(sqlite3.connect(dest)) as copy,
        ):
            src.backup(copy)  # one step: a read snapshot of the whole file
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        engine = create_engine(f"sqlite:///{dest}", poolclass=NullPool)
        try:
            with engine.connect() as conn:
                return _inventory(conn)
        finally:
            engine.dispose()
    if _dialect(url) != "postgresql":
        raise BackupError(f"{what}: cannot back up a {_dialect(url)} database")
    # pg_dump reads the snapshot this transaction exports, so the counts are of the same moment
    with engine_for(url).connect() as conn:
        conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            found = _inventory(conn)
            _pg("pg_dump", url, what, "--format=custom", f"--snapshot={snapshot}", f"--file={dest}")
    return found


def _load(url: str, copy: Path, what: str) -> None:
    """Replace the database at ``url`` with ``copy``, in one go (nothing half-restored)."""
    if _dialect(url) == "sqlite":
        target = _sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():  # a log left from the destroyed file must not be replayed
            for suffix in ("-wal", "-shm", "-journal"):
                target.with_name(target.name + suffix).unlink(missing_ok=True)
        with (
            closing(sqlite3.connect(copy)) as src,
            closing(sqlite3.connect(target, timeout=30)) as dst,
        ):
            src.backup(dst)  # into the live file: other processes see the restored pages
        return
    _pg(
        "pg_restore",
        url,
        what,
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        "--exit-on-error",
        str(copy),
    )


def _pg_tool(name: str) -> str:
    """A PostgreSQL client tool: on the PATH, or the newest of the machine's server packages."""
    installed = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: [int(x) for x in re.findall(r"\d+", Path(p).parts[4])],
        reverse=True,
    )
    for candidate in [shutil.which(name), *installed]:
        if candidate:
            return candidate
    raise BackupError(
        f"{name} is not installed: install PostgreSQL's client tools (postgresql-client)"
    )


def _pg(tool: str, url: str, what: str, *args: str) -> None:
    """Run ``pg_dump``/``pg_restore`` on the database of ``url``; its password goes in the
    environment (PGPASSWORD), never on a command line another user could read."""
    parsed = make_url(url)
    query = dict(parsed.query)
    password = parsed.password or query.pop("password", None)
    params: dict[str, Any] = {
        "host": parsed.host,
        "port": parsed.port,
        "user": parsed.username,
        "dbname": parsed.database,
        **query,
    }
    conninfo = " ".join(f"{k}={_quoted(v)}" for k, v in params.items() if v is not None)
    env = {k: v for k, v in os.environ.items() if k != "PGPASSWORD"}
    if password:
        env["PGPASSWORD"] = str(password)
    done = subprocess.run(
        [_pg_tool(tool), "--no-password", f"--dbname={conninfo}", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        shown = parsed.render_as_string(hide_password=True)
        raise BackupStoreError(f"{what}: {tool} failed on {shown}: {done.stderr.strip()}")


def _quoted(value: object) -> str:
    """A libpq connection-string value: in single quotes, with ``\\`` and ``'`` escaped."""
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _digest(path: Path) -> FileEntry:
    sha = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            sha.update(chunk)
    return FileEntry(sha256=sha.hexdigest(), bytes=path.stat().st_size)


def _hub_commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def _apart(settings: HubSettings) -> None:
    if settings.vault_database_url == settings.catalog_url:
        raise BackupError(
            "HUB_VAULT_URL is the catalog's database: the vault must have a database of its "
            "own (its copy is encrypted apart from the catalog's)"
        )


def _file_name(dialect: str, what: str) -> str:
    return f"{what}.sqlite" if dialect == "sqlite" else f"{what}.pgdump"


def _aad(backup_id: str, name: str) -> bytes:
    return f"city-data-hub backup {backup_id} {name}".encode()


# --- backup ---------------------------------------------------------------------------------
def backup(
    settings: HubSettings,
    *,
    keep: int | None = None,
    purpose: str = "keep the catalog and the key vault recoverable",
) -> BackupDone:
    """Back up the catalog database and the key vault, then keep only the newest ``keep``.

    Args:
        settings: The hub whose databases are copied, and where backups go.
        keep: How many complete backups to keep, the new one included (``HUB_BACKUP_KEEP``
            if None).
        purpose: Said in the ``backup`` audit entry.

    Returns:
        The new backup's manifest, where it lies and the backups removed.

    Raises:
        BackupError: a setting or a database stands in the way (the message names it).
        BackupStoreError: the location or a database did not answer; nothing was kept.
    """
    keep = settings.backup_keep if keep is None else keep
    if keep < 1:
        raise BackupError(f"keep must be at least 1 (the backup just made), not {keep}")
    _apart(settings)
    key = backup_key(settings)
    place = _place(settings, create=True)
    created = datetime.now(UTC)
    backup_id = f"{created:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
    with tempfile.TemporaryDirectory(prefix="hub-backup-") as tmp:
        work = Path(tmp)
        catalog_dialect = _dialect(settings.catalog_url)
        catalog_file = _file_name(catalog_dialect, "catalog")
        tables, head, pointers = _copy(settings.catalog_url, work / catalog_file, "catalog")
        vault_dialect = _dialect(settings.vault_database_url)
        plain = _file_name(vault_dialect, "vault")
        vault_tables, _, _ = _copy(settings.vault_database_url, work / plain, "key vault")
        vault_file = f"{plain}.enc"
        _seal(work / plain, work / vault_file, key, _aad(backup_id, vault_file))
        (work / plain).unlink()
        files = {name: _digest(work / name) for name in (catalog_file, vault_file)}
        manifest = BackupManifest(
            id=backup_id,
            created_at=created,
            hub_commit=_hub_commit(),
            catalog=DatabaseCopy(dialect=catalog_dialect, file=catalog_file, tables=tables),
            vault=DatabaseCopy(
                dialect=vault_dialect, file=vault_file, tables=vault_tables, key_id=key_id(key)
            ),
            audit=head,
            iceberg_pointers=pointers,
            files=files,
        )
        try:
            for name in files:
                place.put(backup_id, name, work / name)
            place.write(backup_id, MANIFEST, manifest.model_dump_json(indent=2).encode())
        except BaseException:
            with suppress(Exception):  # the first failure is the one to report
                place.remove(backup_id)
            raise
    removed = _prune(place, keep, backup_id)
    audit.record(
        settings.catalog_url,
        "backup",
        backup_id,
        purpose=purpose,
        detail={
            "location": place.url(backup_id),
            "files": {n: f.bytes for n, f in files.items()},
            "catalog_rows": manifest.catalog.rows,
            "vault_rows": manifest.vault.rows,
            "iceberg_tables": len(pointers),
            "removed": list(removed),
        },
    )
    return BackupDone(manifest, place.url(backup_id), removed)


def _prune(place: _Place, keep: int, made: str) -> tuple[str, ...]:
    """Remove complete backups beyond the newest ``keep``, and folders of backups that died
    half-way long ago; never the one just ``made``."""
    listed = _listing(place)
    complete = [b.id for b in listed if b.manifest is not None]
    kept = [made, *[b for b in complete if b != made]][:keep]
    stale = datetime.now(UTC) - ABANDONED_AFTER
    removed = [b for b in complete if b not in kept] + [
        b.id for b in listed if b.manifest is None and _made_at(b.id) < stale
    ]
    for backup_id in removed:
        place.remove(backup_id)
    return tuple(removed)


def _made_at(backup_id: str) -> datetime:
    return datetime.strptime(backup_id.split("-")[0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def _listing(place: _Place) -> list[Listed]:
    """Every backup folder at ``place``, newest first (by the manifest's time to the
    microsecond: two backups can share an id's second)."""
    found = []
    for backup_id in place.folders():
        try:
            manifest: BackupManifest | None = _read_manifest(place, backup_id)
        except BackupError:  # unfinished, or unreadable: restore refuses it either way
            manifest = None
        found.append(Listed(backup_id, place.url(backup_id), manifest))
    return sorted(
        found, key=lambda b: b.manifest.created_at if b.manifest else _made_at(b.id), reverse=True
    )


def list_backups(settings: HubSettings) -> list[Listed]:
    """Every backup folder at the location, newest first; unfinished ones have no manifest."""
    return _listing(_place(settings))


# --- restore --------------------------------------------------------------------------------
def _locate(settings: HubSettings, backup_ref: str) -> tuple[_Place, str]:
    """A backup by id at the configured location, or by its folder (a path or an s3:// URI)."""
    if BACKUP_ID.match(backup_ref):
        return _place(settings), backup_ref
    parent, _, name = backup_ref.rstrip("/").rpartition("/")
    if BACKUP_ID.match(name) and (backup_ref.startswith("s3://") or Path(backup_ref).is_dir()):
        return _place(settings, parent), name
    raise BackupError(
        f"{backup_ref!r} is neither a backup id (`hub backup list`) nor a backup's folder"
    )


def _read_manifest(place: _Place, backup_id: str) -> BackupManifest:
    """The manifest of a finished backup, of a format this hub reads.

    Raises:
        BackupError: there is none (the backup did not finish), or it cannot be read.
    """
    data = place.read(backup_id, MANIFEST)
    if data is None:
        raise BackupError(
            f"backup {backup_id} at {place.url(backup_id)} has no {MANIFEST}: it did not finish "
            "(or is no backup); choose another with `hub backup list`"
        )
    try:
        manifest = BackupManifest.model_validate_json(data)
    except ValueError as exc:
        raise BackupError(f"backup {backup_id}: {MANIFEST} cannot be read: {exc}") from None
    if manifest.format != FORMAT:
        raise BackupError(
            f"backup {backup_id} is of format {manifest.format}; this hub reads format {FORMAT}"
        )
    return manifest


def _chain_head(url: str) -> AuditHead | None:
    """The audit chain the restore replaces, or None when the catalog is gone or unreadable."""
    if _dialect(url) == "sqlite" and not _sqlite_path(url).is_file():
        return None  # connecting would create an empty file
    try:
        with engine_for(url).connect() as conn:
            return _audit_head(conn) if inspect(conn).has_table("hub_audit_log") else None
    except Exception:  # a destroyed catalog is exactly what a restore is for
        return None


def _release(settings: HubSettings) -> None:
    """Close this process's pooled connections to both databases: a pool must not keep a
    connection to a destroyed SQLite file, or one PostgreSQL closed."""
    for url in (settings.catalog_url, settings.vault_database_url):
        engine_for(url).dispose()


def restore(settings: HubSettings, backup_ref: str) -> RestoreReport:
    """Replace the catalog database and the key vault with a backup, check what came back, and
    append a ``restore`` entry to the (restored) audit chain.

    Nothing is replaced unless every file matches the manifest, the vault's copy decrypts under
    ``HUB_BACKUP_KEY`` and the databases are of the dialects the backup was made on.

    Args:
        settings: The hub to restore.
        backup_ref: A backup id at the configured location, or a backup's folder.

    Returns:
        What was restored and replaced, and the checks made after (``ok`` when all passed).

    Raises:
        BackupError: the backup is refused (the message names the file and why), or a database
            could not be restored.
    """
    _apart(settings)
    key = backup_key(settings)
    place, backup_id = _locate(settings, backup_ref)
    manifest = _read_manifest(place, backup_id)
    for part, url in (
        (manifest.catalog, settings.catalog_url),
        (manifest.vault, settings.vault_database_url),
    ):
        if part.dialect != _dialect(url):
            raise BackupError(
                f"backup {backup_id} holds a {part.dialect} copy ({part.file}) but this hub's "
                f"database is {_dialect(url)}: restore it on a hub of the same kind"
            )
    if manifest.vault.key_id != key_id(key):
        raise BackupError(
            f"backup {backup_id}: {manifest.vault.file} was encrypted with the backup key "
            f"{manifest.vault.key_id}, but HUB_BACKUP_KEY is {key_id(key)}: set the key it was "
            "made with"
        )
    with tempfile.TemporaryDirectory(prefix="hub-restore-") as tmp:
        work = Path(tmp)
        for name, expected in manifest.files.items():
            if not place.fetch(backup_id, name, work / name):
                raise BackupError(
                    f"backup {backup_id}: {name} is missing at {place.url(backup_id)}"
                )
            found = _digest(work / name)
            if found != expected:
                raise BackupError(
                    f"backup {backup_id}: {name} does not match {MANIFEST} (sha256 "
                    f"{found.sha256[:12]}…, {found.bytes} bytes; expected "
                    f"{expected.sha256[:12]}…, {expected.bytes} bytes): the backup was damaged "
                    "or altered; nothing was restored"
                )
        plain = work / manifest.vault.file.removesuffix(".enc")
        _unseal(work / manifest.vault.file, plain, key, _aad(backup_id, manifest.vault.file))
        replaced = _chain_head(settings.catalog_url)
        _release(settings)
        _load(settings.catalog_url, work / manifest.catalog.file, "catalog")
        try:
            _load(settings.vault_database_url, plain, "key vault")
        except BackupError as exc:
            raise type(exc)(
                f"the catalog was restored from backup {backup_id} but the key vault was not "
                f"({exc}): fix that, then run the restore again"
            ) from exc
        _release(settings)
    report = RestoreReport(manifest, place.url(backup_id), replaced)
    _check(settings, manifest, report)
    migrate(settings.catalog_url)  # a backup made before a newer schema is brought to it
    audit.record(
        settings.catalog_url,
        "restore",
        backup_id,
        purpose="restore the catalog and the key vault from a backup",
        detail={
            "location": report.location,
            "backup_created_at": manifest.created_at.isoformat(),
            "replaced_audit_entries": replaced.entries if replaced else None,
            "replaced_audit_head": replaced.head if replaced else None,
            "checks": {c.name: c.ok for c in report.checks},
            "missing_metadata": report.missing_metadata,
        },
    )
    # pyiceberg's own pool on the catalog (opened only now: opening it creates its tables, which
    # the row check above must not find)
    table_catalog(settings).engine.dispose()
    return report


def _check(settings: HubSettings, manifest: BackupManifest, report: RestoreReport) -> None:
    """What a restore proves before anyone relies on it: the rows, the audit chain, the Iceberg
    pointers and their metadata files, the export files and the vault's keys."""
    add = report.checks.append
    add(Check("checksums", True, f"{len(manifest.files)} files match {MANIFEST}"))
    with engine_for(settings.catalog_url).connect() as conn:
        tables, head, pointers = _inventory(conn)
    add(_same_rows("catalog rows", manifest.catalog, tables))
    with engine_for(settings.vault_database_url).connect() as conn:
        add(_same_rows("vault rows", manifest.vault, _inventory(conn)[0]))
    count, broken = audit.verify(settings.catalog_url)
    if broken is not None:
        add(Check("audit chain", False, f"broken at entry {broken.entry_id}: {broken.reason}"))
    elif head != manifest.audit:
        add(Check("audit chain", False, f"ends at {head}, the backup's at {manifest.audit}"))
    else:
        add(Check("audit chain", True, f"intact, {count} entries, head {str(head.head)[:12]}…"))
    moved = [p for p in pointers if p not in manifest.iceberg_pointers]
    add(
        Check(
            "iceberg pointers",
            not moved and len(pointers) == len(manifest.iceberg_pointers),
            f"{len(pointers)} tables point where they did at the backup"
            if not moved
            else "not as in the backup: " + ", ".join(f"{p.namespace}.{p.name}" for p in moved),
        )
    )
    report.missing_metadata = _missing_metadata(settings, pointers)
    add(
        Check(
            "iceberg metadata",
            not report.missing_metadata,
            f"{len(pointers)} tables' metadata and current manifest lists present in S3"
            if not report.missing_metadata
            else f"{len(report.missing_metadata)} missing in S3 (those tables cannot be read): "
            + ", ".join(report.missing_metadata),
        )
    )
    add(_exports_present(settings))
    add(_vault_keys_open(settings))


def _same_rows(name: str, part: DatabaseCopy, tables: dict[str, int]) -> Check:
    """The restored tables hold the rows the backup counted, and no table it did not have."""
    differ = sorted(n for n in part.tables if tables.get(n) != part.tables[n])
    extra = sorted(set(tables) - set(part.tables))
    detail = f"{len(part.tables)} tables, {part.rows:,} rows as in the backup"
    if differ:
        detail = "differ: " + ", ".join(f"{n} {tables.get(n)} ≠ {part.tables[n]}" for n in differ)
    if extra:
        detail += "; tables not in the backup, left as they were: " + ", ".join(extra)
    return Check(name, not differ and not extra, detail)


def _missing_metadata(settings: HubSettings, pointers: list[Pointer]) -> list[str]:
    """The pointed metadata files S3 no longer has, then the current snapshot's manifest list
    of each table whose metadata is there: snapshot expiry and orphan removal after the backup
    may have taken it (the table would then load but not scan)."""
    missing = _missing_objects(
        settings, [p.metadata_location for p in pointers if p.metadata_location]
    )
    if not pointers:
        return missing
    lists = []
    tables = table_catalog(settings)
    tables.engine.dispose()  # no pooled connection to the database the restore replaced
    for p in pointers:
        if p.catalog != tables.name or not p.metadata_location or p.metadata_location in missing:
            continue
        try:
            snapshot = tables.load_table((p.namespace, p.name)).current_snapshot()
        except Exception as exc:  # reported with the others, not raised: the restore is done
            missing.append(f"{p.metadata_location} (unreadable: {exc})")
            continue
        if snapshot is not None:
            lists.append(snapshot.manifest_list)
    return missing + _missing_objects(settings, lists)


def _missing_objects(settings: HubSettings, locations: list[str]) -> list[str]:
    client = ObjectStore(settings).client
    missing = []
    for location in locations:
        bucket, _, key = location.removeprefix("s3://").partition("/")
        try:
            with _s3("stat", location):
                client.stat_object(bucket, key)
        except BackupStoreError as exc:
            if not isinstance(exc.__cause__, S3Error):
                raise
            missing.append(location)
    return missing


def _exports_present(settings: HubSettings) -> Check:
    """Every download the catalog offers (not deleted by retention) is in the open bucket."""
    with session_for(settings.catalog_url) as session:
        rows = session.execute(
            select(ExportFile.object_key).where(ExportFile.deleted_at.is_(None))
        ).all()
    open_bucket = settings.bucket("open")
    missing = _missing_objects(settings, [f"s3://{open_bucket}/{r.object_key}" for r in rows])
    if missing:
        return Check("export files", False, f"{len(missing)} missing: " + ", ".join(missing))
    return Check("export files", True, f"{len(rows)} download files present in S3")


def _vault_keys_open(settings: HubSettings) -> Check:
    """Every restored key opens under this hub's vault master key (a vault sealed under
    another key holds keys no one can use)."""
    try:
        vault = Vault.open(settings)
        with engine_for(settings.vault_database_url).connect() as conn:
            versions = conn.execute(select(keys_table.c.feed_id, keys_table.c.version)).all()
        for feed_id, version in versions:
            vault.key(feed_id, version)
    except InvalidTag:
        return Check(
            "vault keys",
            False,
            "they do not open under HUB_VAULT_MASTER_KEY: set the master key the vault was "
            "made with",
        )
    except Exception as exc:  # a check reports; the restore is done and must be audited
        return Check("vault keys", False, f"cannot be read: {exc}")
    return Check("vault keys", True, f"{len(versions)} key version(s) open under the master key")


__all__ = [
    "BackupDone",
    "BackupError",
    "BackupManifest",
    "BackupStoreError",
    "Check",
    "Listed",
    "RestoreReport",
    "backup",
    "backup_key",
    "key_id",
    "list_backups",
    "restore",
]
