"""The restore drill (issue 17): the catalog database and the key vault are destroyed, a backup
brings them back, and what users rely on is as it was: the rows of every Iceberg table, the
downloads and their checksums, the same tokens for the same people, and one audit chain, which
now says it was restored. A damaged backup is refused before anything is replaced.

On SQLite the backups go to a local folder; on PostgreSQL, as a deployed hub would keep them,
to a bucket of their own on the same S3 server as the lake.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import create_engine, make_url, select, text
from typer.testing import CliRunner

from catalog import audit
from catalog.db import migrate, session_for
from catalog.models import AuditEntry, ExportFile
from hub.cli import app
from hub.core.settings import HubSettings, get_settings
from hub.lake import iceberg
from hub.lake.objectstore import ObjectStore
from hub.steps.context import RunContext
from hub.steps.pipeline import run_pipeline
from hub.upkeep.backup import BackupError, backup, list_backups, restore
from privacy.techniques import tokenize
from privacy.vault import Vault
from tests.privacy.test_protect_pipeline import DAY1, _applications, _drop_childcare
from tests.support.staff import CLI_ENV, acting_as

#: One monthly workbook feeds both: its facilities sheet is public (an open release and
#: downloads), its applications sheet holds children's names (tokens, resolvable in the vault).
PUBLIC, PERSONAL = "childcare_capacity", "childcare_applications"
START, END = DAY1 - timedelta(days=31), DAY1


@dataclass(frozen=True)
class Seen:
    """What users rely on, as the hub shows it at one moment."""

    rows: dict[str, int]  # rows of every Iceberg table, by zone.table
    exports: dict[str, str]  # download key -> SHA-256 the catalog offers
    export_objects: dict[str, str]  # download key -> SHA-256 of the object read back from S3
    tokens: dict[str, str]  # child's name -> token under the feed's current key
    chain: list[str]  # the audit log's hashes, oldest first


def run_feeds(settings: HubSettings, run_id: str) -> list[str]:
    """Deliver the month's workbook and run both feeds; the children's names it holds."""
    files = _drop_childcare(settings)
    for feed in (PUBLIC, PERSONAL):
        run_pipeline(RunContext.create(feed, START, END, run_id, settings=settings))
    return sorted(_applications(files)[0])


def seen(settings: HubSettings, names: list[str]) -> Seen:
    tables = iceberg.table_catalog(settings)
    rows = {
        ".".join(ident): tables.load_table(ident).scan().to_arrow().num_rows
        for namespace in tables.list_namespaces()
        for ident in tables.list_tables(namespace)
    }
    with session_for(settings.catalog_url) as session:
        offered = {e.object_key: e.sha256 for e in session.scalars(select(ExportFile))}
        chain = list(session.scalars(select(AuditEntry.hash).order_by(AuditEntry.id)))
    store = ObjectStore(settings)
    objects = {key: hashlib.sha256(store.get("open", key)).hexdigest() for key in offered}
    key = Vault.open(settings).current_key(PERSONAL)
    tokens, _, _ = tokenize(pa.array(names, pa.large_string()), key)
    return Seen(rows, offered, objects, dict(zip(names, tokens.to_pylist(), strict=True)), chain)


def tokens_by_application(settings: HubSettings) -> dict[str, str]:
    """The child's token on each published application (application ids are not personal)."""
    trusted = iceberg.table_catalog(settings).load_table(("trusted", PERSONAL)).scan().to_arrow()
    return dict(
        zip(trusted["application_id"].to_pylist(), trusted["child_name"].to_pylist(), strict=True)
    )


def destroy(settings: HubSettings) -> None:
    """Lose the catalog database and the key vault: their SQLite files deleted, or their
    PostgreSQL databases dropped (every connection cut) and created again empty, as a DBA
    would before restoring."""
    for url in (settings.catalog_url, settings.vault_database_url):
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            path = Path(parsed.database or "")
            for suffix in ("", "-wal", "-shm"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
            assert not path.exists()
            continue
        server = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{parsed.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
        server.dispose()


def audit_verify() -> tuple[int, str]:
    """The chain walked as ``hub audit verify`` walks it (the command itself asks for an
    auditor's account: tests/catalog/test_audit.py runs it)."""
    count, broken = audit.verify(get_settings().catalog_url)
    return (0, f"intact: {count} entries") if broken is None else (1, str(broken))


@pytest.fixture
def drill_settings(hub_settings: HubSettings, backend: str) -> HubSettings:
    if backend == "sqlite":
        return hub_settings
    location = f"s3://{hub_settings.bucket_prefix}backups/city-hub"
    return hub_settings.model_copy(update={"backup_location": location})


def test_after_losing_the_catalog_and_vault_a_restore_gives_back_what_users_saw(drill_settings):
    settings = drill_settings
    names = run_feeds(settings, "run-1")
    before = seen(settings, names)
    published = tokens_by_application(settings)
    assert before.rows[f"open.{PUBLIC}"] > 0 and before.rows[f"trusted.{PERSONAL}"] == 150
    assert before.exports and before.export_objects == before.exports
    assert set(before.tokens.values()) == set(published.values())  # the names' tokens, published

    done = backup(settings)
    assert done.location.startswith(
        "s3://" if settings.backup_location else str(settings.home_dir / "backups")
    )
    assert done.manifest.audit.head == before.chain[-1]
    assert {p.name for p in done.manifest.iceberg_pointers} == {PUBLIC, PERSONAL}

    destroy(settings)
    report = restore(settings, done.manifest.id)

    assert report.ok, report.checks
    assert {c.name for c in report.checks} >= {
        "checksums",
        "catalog rows",
        "vault rows",
        "audit chain",
        "iceberg pointers",
        "iceberg metadata",
        "export files",
        "vault keys",
    }
    assert report.missing_metadata == []
    assert report.replaced is None  # there was nothing left to replace
    after = seen(settings, names)
    assert after.rows == before.rows
    assert after.exports == before.exports and after.export_objects == before.exports
    assert after.tokens == before.tokens
    # the chain is the backup's, then the restore (the backup's own entry came after the copy)
    assert after.chain[:-1] == before.chain
    with session_for(settings.catalog_url) as session:
        last = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (last.action, last.target) == ("restore", done.manifest.id)
    code, out = audit_verify()
    assert code == 0 and f"intact: {len(before.chain) + 1} entries" in out
    vault = Vault.open(settings)
    token = before.tokens[names[0]]
    assert vault.resolve(PERSONAL, token, actor="drill", purpose="restore drill") == names[0]

    run_feeds(settings, "run-2")  # the hub carries on: same people, same tokens
    assert tokens_by_application(settings) == published
    assert audit_verify()[0] == 0


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_damaged_or_unfinished_backup_is_refused_naming_the_file(hub_settings):
    settings = hub_settings
    migrate(settings.catalog_url)
    Vault.open(settings).current_key(PERSONAL)
    done = backup(settings)
    folder = Path(done.location)
    with session_for(settings.catalog_url) as session:
        chain = list(session.scalars(select(AuditEntry.hash).order_by(AuditEntry.id)))

    sealed = folder / done.manifest.vault.file
    data = bytearray(sealed.read_bytes())
    data[len(data) // 2] ^= 0x01
    sealed.write_bytes(bytes(data))
    with pytest.raises(BackupError, match=r"vault\.sqlite\.enc does not match manifest\.json"):
        restore(settings, done.manifest.id)

    manifest = json.loads((folder / "manifest.json").read_text())  # ... even if the manifest
    manifest["files"][sealed.name] = {
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))  # is made to match it
    with pytest.raises(BackupError, match=r"vault\.sqlite\.enc does not decrypt under HUB_BACKUP"):
        restore(settings, done.manifest.id)

    other_key = base64.b64encode(os.urandom(32)).decode()
    with pytest.raises(BackupError, match=r"encrypted with the backup key \w+, but HUB_BACKUP_KEY"):
        restore(settings.model_copy(update={"backup_key": other_key}), done.manifest.id)

    (folder / "manifest.json").unlink()
    with pytest.raises(BackupError, match=r"has no manifest\.json: it did not finish"):
        restore(settings, str(folder))
    with session_for(settings.catalog_url) as session:  # nothing was replaced
        assert list(session.scalars(select(AuditEntry.hash).order_by(AuditEntry.id))) == chain


def test_the_cli_backs_up_keeps_the_newest_and_restores_only_when_told(hub_settings):
    migrate(hub_settings.catalog_url)
    Vault.open(hub_settings).current_key(PERSONAL)
    runner, operator = CliRunner(env=CLI_ENV), acting_as("operator")
    made = []
    for _ in range(3):
        out = runner.invoke(app, ["backup", "--keep", "2", *operator])
        assert out.exit_code == 0, out.output
        assert "catalog." in out.output and "vault." in out.output and ".enc" in out.output
        made.append(out.output.split()[1])
    assert f"removed {made[0]}" in out.output
    assert [b.id for b in list_backups(hub_settings)] == made[:0:-1]
    from catalog import audit as audit_log

    (last,) = audit_log.entries(hub_settings.catalog_url, action="backup", limit=1)
    assert last.actor == operator[1]  # recorded as the person --as named, not the shell user
    listed = runner.invoke(app, ["backup", "list", *operator])
    assert listed.exit_code == 0 and made[2] in listed.output and made[0] not in listed.output

    refused = runner.invoke(app, ["restore", made[1]])
    assert refused.exit_code == 1 and "rerun with --yes" in refused.output
    restored = runner.invoke(app, ["restore", made[1], "--yes"])
    assert restored.exit_code == 0, restored.output
    assert f"restored backup {made[1]}" in restored.output
    assert "ok     audit chain: intact" in restored.output
    assert audit_verify()[0] == 0


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_restore_names_the_table_metadata_the_lake_no_longer_has(hub_settings):
    """The catalog comes back pointing at files S3 lost after the backup (a metadata file, the
    manifest list of a snapshot expired since): the restore names them and exits 1, instead of
    leaving tables that cannot be read."""
    migrate(hub_settings.catalog_url)
    Vault.open(hub_settings).current_key(PERSONAL)
    tables = iceberg.table_catalog(hub_settings)
    tables.create_namespace_if_not_exists("trusted")
    kept = tables.create_table(("trusted", "expired_since"), schema=pa.schema([("x", pa.int64())]))
    kept.append(pa.table({"x": [1, 2, 3]}))
    manifest_list = kept.current_snapshot().manifest_list
    lost = f"s3://{hub_settings.bucket('trusted')}/{PUBLIC}/metadata/00001-lost.metadata.json"
    with session_for(hub_settings.catalog_url) as session:
        session.execute(
            text(
                "INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name,"
                " metadata_location) VALUES (:c, 'trusted', :t, :m)"
            ),
            {"c": hub_settings.catalog_name, "t": PUBLIC, "m": lost},
        )
        session.commit()
    done = backup(hub_settings)
    assert lost in {p.metadata_location for p in done.manifest.iceberg_pointers}
    prefix = f"s3://{hub_settings.bucket('trusted')}/"
    ObjectStore(hub_settings).delete("trusted", [manifest_list.removeprefix(prefix)])

    out = CliRunner().invoke(app, ["restore", done.manifest.id, "--yes"])

    assert out.exit_code == 1
    assert (
        "FAILED iceberg metadata: 2 missing in S3 (those tables cannot be read): "
        f"{lost}, {manifest_list}"
    ) in out.output
    with session_for(hub_settings.catalog_url) as session:
        last = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert last.action == "restore" and lost in last.detail  # on record, too
    assert audit_verify()[0] == 0


def test_backups_are_kept_apart_from_the_lake_and_never_in_a_containers_scratch(tmp_path):
    key = base64.b64encode(os.urandom(32)).decode()
    deployed = HubSettings(
        home=tmp_path / "home",
        production=True,
        database_url=f"sqlite:///{tmp_path}/catalog.db",
        vault_url=f"sqlite:///{tmp_path}/vault/vault.db",
        vault_master_key=key,
        backup_key=base64.b64encode(os.urandom(32)).decode(),
        s3_endpoint="http://s3.city.example:9000",
        s3_secret_key="given",
    )
    assert deployed.backup_target == "s3://backups/hub"  # its own bucket, which init creates
    scratch = deployed.model_copy(update={"backup_location": str(tmp_path / "home" / "bak")})
    with pytest.raises(BackupError, match="keeps nothing under HUB_HOME"):
        list_backups(scratch)
    in_the_lake = deployed.model_copy(update={"backup_location": "s3://trusted/backups"})
    with pytest.raises(BackupError, match="trusted is one of the lake's buckets"):
        backup(in_the_lake)
    shared = deployed.model_copy(update={"vault_url": deployed.catalog_url})
    with pytest.raises(BackupError, match="the vault must have a database of its own"):
        backup(shared)


def test_a_backup_taken_while_writers_run_is_of_one_moment(hub_settings):
    """Audit entries and vault keys keep being written during the copy: the backup's row counts
    and chain head are those of the copy itself, so the restored hub checks out exactly."""
    migrate(hub_settings.catalog_url)
    vault = Vault.open(hub_settings)
    stop = threading.Event()
    written = [0]

    def write() -> None:
        while not stop.is_set():
            n = written[0] = written[0] + 1
            audit.record(hub_settings.catalog_url, "test", f"entry-{n}", purpose="a busy hub")
            vault.current_key(f"feed_{n}")

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while written[0] < 20:
            time.sleep(0.01)
        done = backup(hub_settings)
    finally:
        stop.set()
        writer.join()
    assert 0 < done.manifest.vault.tables["vault_keys"] < written[0]  # it ran mid-way
    report = restore(hub_settings, done.manifest.id)
    assert report.ok, report.checks
    assert audit_verify()[0] == 0
