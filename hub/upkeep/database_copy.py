"""Consistent copies of the catalog and the key vault databases while writers run, with what
they held (rows per table, the audit chain's head, the Iceberg pointers), and loading a copy
back in one go: SQLite's backup API, or ``pg_dump`` of one exported snapshot and ``pg_restore``.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, create_engine, func, inspect, make_url, select, table, text
from sqlalchemy.pool import NullPool

from hub.core.database import engine_for
from hub.upkeep.backup_errors import BackupError, BackupStoreError


class AuditHead(BaseModel):
    """The audit chain as it stood in a copy: how many entries, and the newest one's hash."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    entries: int
    head: str | None


class Pointer(BaseModel):
    """One row of pyiceberg's ``iceberg_tables``: a table and its current metadata file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    catalog: str
    namespace: str
    name: str
    metadata_location: str | None


def dialect(url: str) -> str:
    """The database's kind: ``sqlite`` or ``postgresql``."""
    return make_url(url).get_backend_name()


def sqlite_path(url: str) -> Path:
    """The file of a SQLite database URL."""
    return Path(make_url(url).database or "")


def inventory(conn: Connection) -> tuple[dict[str, int], AuditHead, list[Pointer]]:
    """Rows per table, the audit chain's head and the Iceberg pointers, as ``conn`` sees them."""
    names = sorted(inspect(conn).get_table_names())
    counts = {
        n: conn.execute(select(func.count()).select_from(table(n))).scalar_one() for n in names
    }
    head = audit_head(conn) if "hub_audit_log" in names else AuditHead(entries=0, head=None)
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


def audit_head(conn: Connection) -> AuditHead:
    """How many entries the audit chain holds, and the newest one's hash."""
    entries = conn.execute(text("SELECT count(*) FROM hub_audit_log")).scalar_one()
    head = conn.execute(text("SELECT hash FROM hub_audit_log ORDER BY id DESC LIMIT 1")).scalar()
    return AuditHead(entries=entries, head=head)


def copy(url: str, dest: Path, what: str) -> tuple[dict[str, int], AuditHead, list[Pointer]]:
    """A consistent copy of the database at ``url`` into ``dest``, and its inventory as of that
    copy (not of a later moment: writers keep running)."""
    if dialect(url) == "sqlite":
        source = sqlite_path(url)
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
                return inventory(conn)
        finally:
            engine.dispose()
    if dialect(url) != "postgresql":
        raise BackupError(f"{what}: cannot back up a {dialect(url)} database")
    # pg_dump reads the snapshot this transaction exports, so the counts are of the same moment
    with engine_for(url).connect() as conn:
        conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            found = inventory(conn)
            _pg("pg_dump", url, what, "--format=custom", f"--snapshot={snapshot}", f"--file={dest}")
    return found


def load(url: str, copy: Path, what: str) -> None:
    """Replace the database at ``url`` with ``copy``, in one go (nothing half-restored)."""
    if dialect(url) == "sqlite":
        target = sqlite_path(url)
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


__all__ = [
    "AuditHead",
    "Pointer",
    "audit_head",
    "copy",
    "dialect",
    "inventory",
    "load",
    "sqlite_path",
]
