"""Where backups are kept, apart from the lake: a local folder, or a bucket that is not a
zone's. Both hold folders of files addressed by backup id and file name (``Place``); ``place``
picks the configured one and refuses a location inside the lake or a container's scratch.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from minio import Minio
from minio.deleteobjects import DeleteObject
from minio.error import S3Error
from urllib3.exceptions import HTTPError

from hub.core.settings import HubSettings
from hub.lake.objectstore import PART_SIZE, ObjectStore
from hub.upkeep.backup_errors import BackupError, BackupStoreError

#: A backup folder's name: when it was made (UTC) and a random suffix (two at the same second).
BACKUP_ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{6}$")


class Place(Protocol):
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
        with s3("write", self.url(backup_id, name)):
            self.client.fput_object(
                self.bucket, self._key(backup_id, name), str(path), part_size=PART_SIZE
            )

    def write(self, backup_id: str, name: str, data: bytes) -> None:
        with s3("write", self.url(backup_id, name)):
            self.client.put_object(
                self.bucket, self._key(backup_id, name), io.BytesIO(data), len(data)
            )

    def read(self, backup_id: str, name: str) -> bytes | None:
        with tempfile.TemporaryDirectory() as tmp:
            dest = Path(tmp) / name
            return dest.read_bytes() if self.fetch(backup_id, name, dest) else None

    def fetch(self, backup_id: str, name: str, dest: Path) -> bool:
        try:
            with s3("read", self.url(backup_id, name)):
                self.client.fget_object(self.bucket, self._key(backup_id, name), str(dest))
        except BackupStoreError as exc:
            if isinstance(exc.__cause__, S3Error) and exc.__cause__.code == "NoSuchKey":
                return False
            raise
        return True

    def folders(self) -> list[str]:
        start = f"{self.prefix}/" if self.prefix else ""
        with s3("list", f"s3://{self.bucket}/{start}"):
            names = [
                o.object_name[len(start) :].strip("/")
                for o in self.client.list_objects(self.bucket, prefix=start)
                if o.is_dir
            ]
        return [n for n in names if BACKUP_ID.match(n)]

    def remove(self, backup_id: str) -> None:
        prefix = self._key(backup_id) + "/"
        with s3("delete", self.url(backup_id)):
            keys = [
                DeleteObject(o.object_name)
                for o in self.client.list_objects(self.bucket, prefix=prefix, recursive=True)
            ]
            errors = list(self.client.remove_objects(self.bucket, keys))
        if errors:
            raise BackupStoreError(f"cannot delete {self.url(backup_id)}: {errors[0]}")


@contextmanager
def s3(verb: str, where: str) -> Iterator[None]:
    """An S3 failure as a ``BackupStoreError`` naming the call and the object."""
    try:
        yield
    except (S3Error, HTTPError) as exc:
        raise BackupStoreError(f"cannot {verb} {where}: {exc}") from exc


def place(settings: HubSettings, target: str | None = None, *, create: bool = False) -> Place:
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
        with s3("create the bucket", f"s3://{bucket}"):
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


__all__ = ["BACKUP_ID", "Place", "place", "s3"]
