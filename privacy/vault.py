"""The key vault: per-feed HMAC keys with versions, and the encrypted token tables behind them.

It lives in its own database (``HUB_VAULT_URL``), never in the lake or the catalog, and every
secret in it is sealed with AES-256-GCM under a master key kept outside it. Keys are created at
first use and rotated on request; old versions stay so that old tokens remain resolvable.
Re-identifying a token is a separate, logged operation with an actor and a purpose.
"""

from __future__ import annotations

import base64
import io
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    insert,
    select,
    update,
)

from hub.core.database import engine_for, serialized
from hub.core.settings import HubSettings, run_time_secret
from privacy.errors import VaultError

metadata = MetaData()
keys_table = Table(
    "vault_keys",
    metadata,
    Column("feed_id", String(63), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("sealed_key", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("retired_at", DateTime(timezone=True)),
)
mappings_table = Table(
    "vault_token_tables",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("feed_id", String(63), nullable=False, index=True),
    Column("column_name", String(63), nullable=False),
    Column("key_version", Integer, nullable=False),
    Column("delivery_id", String(100), nullable=False),
    Column("sealed_table", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("feed_id", "column_name", "key_version", "delivery_id"),
)
operations_table = Table(
    "vault_operations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("operation", String(30), nullable=False),
    Column("feed_id", String(63), nullable=False),
    Column("key_version", Integer),
    Column("actor", String(200), nullable=False),
    Column("purpose", Text, nullable=False),
    Column("detail", Text),
)

TOKEN_BYTES = 16  # 128-bit tokens: collisions are out of reach at any city's scale


@dataclass(frozen=True)
class FeedKey:
    feed_id: str
    version: int
    secret: bytes

    def token_prefix(self) -> str:
        return f"v{self.version}_"


class Vault:
    """Keys and token tables of every feed, sealed under one master key."""

    def __init__(self, url: str, master_key: bytes) -> None:

        self.engine = engine_for(url)
        self._aead = AESGCM(master_key)
        with serialized(url, "vault-tables") as connection:  # the first protect tasks race here
            metadata.create_all(connection)

    @classmethod
    def open(cls, settings: HubSettings) -> Vault:
        """The vault of ``settings``; refused to the web app, which serves pseudonymized data
        only (a compromised web server must not reach the keys)."""
        if settings.role == "web":
            raise VaultError("the web app (HUB_ROLE=web) never opens the key vault")
        url = settings.vault_database_url
        if url.startswith("sqlite:///"):  # only the hub's own user may read the vault's folder
            folder = Path(url.removeprefix("sqlite:///")).parent
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(0o700)
        return _open(url, _master_key(settings))

    # --- sealing ------------------------------------------------------------------------
    def _seal(self, data: bytes, context: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, data, context.encode())

    def _open_sealed(self, sealed: bytes, context: str) -> bytes:
        return self._aead.decrypt(sealed[:12], sealed[12:], context.encode())

    # --- keys ---------------------------------------------------------------------------
    def current_key(self, feed_id: str, *, actor: str = "protect") -> FeedKey:
        """The feed's newest key version, created (and logged) at first use."""
        with self.engine.begin() as conn:
            row = conn.execute(
                select(keys_table.c.version, keys_table.c.sealed_key)
                .where(keys_table.c.feed_id == feed_id, keys_table.c.retired_at.is_(None))
                .order_by(keys_table.c.version.desc())
                .limit(1)
            ).first()
        if row is None:
            return self._new_key(feed_id, 1, actor=actor, purpose="first use by the protect step")
        return FeedKey(
            feed_id, row.version, self._open_sealed(row.sealed_key, f"{feed_id}:{row.version}")
        )

    def key(self, feed_id: str, version: int) -> FeedKey:
        with self.engine.begin() as conn:
            row = conn.execute(
                select(keys_table.c.sealed_key).where(
                    keys_table.c.feed_id == feed_id, keys_table.c.version == version
                )
            ).first()
        if row is None:
            raise VaultError(f"feed {feed_id}: the vault holds no key version {version}")
        return FeedKey(feed_id, version, self._open_sealed(row.sealed_key, f"{feed_id}:{version}"))

    def rotate(self, feed_id: str, *, actor: str, purpose: str) -> FeedKey:
        """Start a new key version; the old one is retired for new tokens but kept to resolve."""
        with self.engine.begin() as conn:
            newest = conn.execute(
                select(keys_table.c.version)
                .where(keys_table.c.feed_id == feed_id)
                .order_by(keys_table.c.version.desc())
                .limit(1)
            ).scalar()
            conn.execute(
                update(keys_table)
                .where(keys_table.c.feed_id == feed_id, keys_table.c.retired_at.is_(None))
                .values(retired_at=_now())
            )
        return self._new_key(feed_id, (newest or 0) + 1, actor=actor, purpose=purpose, op="rotate")

    def _new_key(
        self, feed_id: str, version: int, *, actor: str, purpose: str, op: str = "create_key"
    ) -> FeedKey:
        secret = secrets.token_bytes(32)
        with self.engine.begin() as conn:
            conn.execute(
                insert(keys_table).values(
                    feed_id=feed_id,
                    version=version,
                    created_at=_now(),
                    sealed_key=self._seal(secret, f"{feed_id}:{version}"),
                )
            )
            self._log(conn, op, feed_id, version, actor, purpose)
        return FeedKey(feed_id, version, secret)

    def versions(self, feed_id: str) -> list[dict]:
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(keys_table.c.version, keys_table.c.created_at, keys_table.c.retired_at)
                .where(keys_table.c.feed_id == feed_id)
                .order_by(keys_table.c.version)
            )
            return [dict(r._mapping) for r in rows]

    # --- token tables -------------------------------------------------------------------
    def keep_token_table(
        self, key: FeedKey, column: str, delivery_id: str, tokens: pa.Array, values: pa.Array
    ) -> None:
        """Seal one delivery's token-to-value pairs (distinct) so the tokens stay resolvable."""
        pairs = pa.table({"token": tokens, "value": pc.cast(values, pa.large_string())})
        sink = io.BytesIO()
        import pyarrow.feather as feather

        feather.write_feather(pairs, sink, compression="zstd")
        context = f"{key.feed_id}:{column}:{key.version}:{delivery_id}"
        sealed = self._seal(sink.getvalue(), context)
        where = (
            (mappings_table.c.feed_id == key.feed_id)
            & (mappings_table.c.column_name == column)
            & (mappings_table.c.key_version == key.version)
            & (mappings_table.c.delivery_id == delivery_id)
        )
        with self.engine.begin() as conn:
            conn.execute(delete(mappings_table).where(where))  # a rerun replaces its own table
            conn.execute(
                insert(mappings_table).values(
                    feed_id=key.feed_id,
                    column_name=column,
                    key_version=key.version,
                    delivery_id=delivery_id,
                    sealed_table=sealed,
                    created_at=_now(),
                )
            )

    def resolve(self, feed_id: str, token: str, *, actor: str, purpose: str) -> str | None:
        """Re-identify one token: the value it stands for, or None. Always logged."""
        if not actor.strip() or not purpose.strip():
            raise VaultError("re-identification needs an actor and a purpose; both are logged")
        version = _token_version(token)
        found: str | None = None
        column_found: str | None = None
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(mappings_table).where(
                    mappings_table.c.feed_id == feed_id, mappings_table.c.key_version == version
                )
            ).all()
            for row in rows:
                context = f"{feed_id}:{row.column_name}:{version}:{row.delivery_id}"
                pairs = _read_feather(self._open_sealed(row.sealed_table, context))
                hit = pc.index(pairs.column("token"), token).as_py()
                if hit >= 0:
                    found, column_found = pairs.column("value")[hit].as_py(), row.column_name
                    break
            self._log(
                conn,
                "resolve",
                feed_id,
                version,
                actor,
                purpose,
                f"token {token}: {'resolved (' + column_found + ')' if found else 'not found'}",
            )
        return found

    def destroy_token_tables(self, feed_id: str, *, actor: str, purpose: str) -> int:
        with self.engine.begin() as conn:
            gone = conn.execute(delete(mappings_table).where(mappings_table.c.feed_id == feed_id))
            self._log(
                conn, "destroy_tables", feed_id, None, actor, purpose, f"{gone.rowcount} tables"
            )
        return gone.rowcount

    # --- log ----------------------------------------------------------------------------
    def _log(self, conn, operation, feed_id, version, actor, purpose, detail=None) -> None:
        conn.execute(
            insert(operations_table).values(
                at=_now(),
                operation=operation,
                feed_id=feed_id,
                key_version=version,
                actor=actor,
                purpose=purpose,
                detail=detail,
            )
        )

    def operations(self, feed_id: str | None = None) -> list[dict]:
        query = select(operations_table).order_by(operations_table.c.id)
        if feed_id is not None:
            query = query.where(operations_table.c.feed_id == feed_id)
        with self.engine.begin() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]


def _token_version(token: str) -> int:
    head, _, rest = token.partition("_")
    if not head.startswith("v") or not head[1:].isdigit() or not rest:
        raise VaultError(f"{token!r} is not a hub token (v<key version>_<hex>)")
    return int(head[1:])


def _read_feather(data: bytes) -> pa.Table:
    import pyarrow.feather as feather

    return feather.read_table(io.BytesIO(data))


def _now() -> datetime:
    return datetime.now(UTC)


def _master_key(settings: HubSettings) -> bytes:
    encoded = (
        settings.vault_master_key
        or run_time_secret(
            settings, "vault-master", lambda: {"key": base64.b64encode(os.urandom(32)).decode()}
        )["key"]
    )
    key = base64.b64decode(encoded)
    if len(key) != 32:
        raise VaultError("the vault master key must be 32 bytes, base64-encoded")
    return key


@cache
def _open(url: str, master_key: bytes) -> Vault:
    return Vault(url, master_key)
