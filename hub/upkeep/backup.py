"""Backups of what the lake cannot rebuild, and restoring them: the catalog database (which also
holds the Iceberg tables' pointers) and the key vault.

The lake's data and metadata files live on S3 and are never rewritten, so a copy of the two
databases is enough to bring the hub back: the catalog says which metadata file is each table's
current version, and the vault holds the keys without which no token can be made the same again
or resolved. Each database is copied consistently while writers run (``database_copy``), the
vault's copy is encrypted under a key of its own (``backup_seal``), and backups are kept apart
from the lake (``backup_places``).

A backup is a folder ``<UTC time>-<short id>/`` whose ``manifest.json`` (written last: a folder
without one is a backup that did not finish) lists every file's SHA-256 and size, the rows of
every table and the Iceberg pointers. A restore refuses a backup that does not match its
manifest, naming the file; after restoring, it checks the rows, the audit chain, the pointers'
metadata files and the vault's keys, and appends a ``restore`` entry to the audit chain.
"""

from __future__ import annotations

import hashlib
import secrets
import subprocess
import tempfile
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from minio.error import S3Error
from pydantic import BaseModel, ConfigDict
from sqlalchemy import inspect, select

from catalog import audit
from catalog.db import migrate, session_for
from catalog.models import ExportFile
from hub.core.database import engine_for
from hub.core.settings import PROJECT_ROOT, HubSettings
from hub.lake.iceberg import table_catalog
from hub.lake.objectstore import ObjectStore
from hub.upkeep import backup_places, database_copy
from hub.upkeep.backup_errors import BackupError, BackupStoreError
from hub.upkeep.backup_places import BACKUP_ID, Place
from hub.upkeep.backup_seal import CHUNK, backup_key, key_id, seal, unseal
from hub.upkeep.database_copy import AuditHead, Pointer
from privacy.vault import Vault, keys_table

MANIFEST = "manifest.json"
#: The manifest's format: a restore refuses one it does not know.
FORMAT = 1
#: A folder without a manifest this old is a backup that died half-way: pruning removes it.
ABANDONED_AFTER = timedelta(days=1)


# --- the manifest ---------------------------------------------------------------------------
class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FileEntry(_Model):
    sha256: str
    bytes: int


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
    place = backup_places.place(settings, create=True)
    created = datetime.now(UTC)
    backup_id = f"{created:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
    with tempfile.TemporaryDirectory(prefix="hub-backup-") as tmp:
        work = Path(tmp)
        catalog_dialect = database_copy.dialect(settings.catalog_url)
        catalog_file = _file_name(catalog_dialect, "catalog")
        tables, head, pointers = database_copy.copy(
            settings.catalog_url, work / catalog_file, "catalog"
        )
        vault_dialect = database_copy.dialect(settings.vault_database_url)
        plain = _file_name(vault_dialect, "vault")
        vault_tables, _, _ = database_copy.copy(
            settings.vault_database_url, work / plain, "key vault"
        )
        vault_file = f"{plain}.enc"
        seal(work / plain, work / vault_file, key, _aad(backup_id, vault_file))
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


def _prune(place: Place, keep: int, made: str) -> tuple[str, ...]:
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


def _listing(place: Place) -> list[Listed]:
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
    return _listing(backup_places.place(settings))


# --- restore --------------------------------------------------------------------------------
def _locate(settings: HubSettings, backup_ref: str) -> tuple[Place, str]:
    """A backup by id at the configured location, or by its folder (a path or an s3:// URI)."""
    if BACKUP_ID.match(backup_ref):
        return backup_places.place(settings), backup_ref
    parent, _, name = backup_ref.rstrip("/").rpartition("/")
    if BACKUP_ID.match(name) and (backup_ref.startswith("s3://") or Path(backup_ref).is_dir()):
        return backup_places.place(settings, parent), name
    raise BackupError(
        f"{backup_ref!r} is neither a backup id (`hub backup list`) nor a backup's folder"
    )


def _read_manifest(place: Place, backup_id: str) -> BackupManifest:
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
    if database_copy.dialect(url) == "sqlite" and not database_copy.sqlite_path(url).is_file():
        return None  # connecting would create an empty file
    try:
        with engine_for(url).connect() as conn:
            return (
                database_copy.audit_head(conn) if inspect(conn).has_table("hub_audit_log") else None
            )
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
        if part.dialect != database_copy.dialect(url):
            raise BackupError(
                f"backup {backup_id} holds a {part.dialect} copy ({part.file}) but this hub's "
                f"database is {database_copy.dialect(url)}: restore it on a hub of the same kind"
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
        unseal(work / manifest.vault.file, plain, key, _aad(backup_id, manifest.vault.file))
        replaced = _chain_head(settings.catalog_url)
        _release(settings)
        database_copy.load(settings.catalog_url, work / manifest.catalog.file, "catalog")
        try:
            database_copy.load(settings.vault_database_url, plain, "key vault")
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
        tables, head, pointers = database_copy.inventory(conn)
    add(_same_rows("catalog rows", manifest.catalog, tables))
    with engine_for(settings.vault_database_url).connect() as conn:
        add(_same_rows("vault rows", manifest.vault, database_copy.inventory(conn)[0]))
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
            with backup_places.s3("stat", location):
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
