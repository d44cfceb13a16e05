"""The backup key and the sealing of the vault's copies: AES-256-GCM under a key of its own
(``HUB_BACKUP_KEY``), so a stolen backup gives no pseudonymization key away.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from hub.core.settings import HubSettings, run_time_secret
from hub.upkeep.backup_errors import BackupError

#: The start of an encrypted vault copy: what it is and its format, then the 12-byte nonce;
#: the GCM tag is the file's last 16 bytes.
SEALED_MAGIC = b"HUB-VAULT-BKP-1\n"
#: Files are sealed, unsealed and hashed this many bytes at a time.
CHUNK = 1 << 20


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


def seal(src: Path, dest: Path, key: bytes, aad: bytes) -> None:
    """AES-256-GCM of ``src`` into ``dest`` in chunks (a vault may not fit in memory)."""
    nonce = os.urandom(12)
    encryptor = Cipher(algorithms.AES(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    with src.open("rb") as plain, dest.open("wb") as out:
        out.write(SEALED_MAGIC + nonce)
        while chunk := plain.read(CHUNK):
            out.write(encryptor.update(chunk))
        out.write(encryptor.finalize() + encryptor.tag)


def unseal(src: Path, dest: Path, key: bytes, aad: bytes) -> None:
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


__all__ = ["CHUNK", "backup_key", "key_id", "seal", "unseal"]
