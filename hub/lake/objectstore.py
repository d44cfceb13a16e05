"""The object store behind the zones, through the MinIO client (any S3 server works)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from minio import Minio
from minio.commonconfig import CopySource
from minio.deleteobjects import DeleteObject
from minio.error import S3Error
from urllib3 import PoolManager, Retry, Timeout
from urllib3.exceptions import HTTPError

from hub.core.errors import LakeError
from hub.core.settings import HubSettings

#: Multipart part size: the client's 5 MiB default makes a 60 MB delivery take 3.5x longer.
PART_SIZE = 64 * 1024 * 1024


@contextmanager
def _s3(verb: str, where: str) -> Iterator[None]:
    """Any failure of an S3 call (an error answer, a time-out, a dropped connection) as a
    ``LakeError`` that names the call and the object."""
    try:
        yield
    except S3Error as exc:
        raise LakeError(f"cannot {verb} {where}: {exc}") from exc
    except HTTPError as exc:  # urllib3: time-outs and connections, after the client's retries
        raise LakeError(f"cannot {verb} {where}: S3 did not answer ({exc})") from exc


@dataclass(frozen=True)
class Stored:
    """One object as a listing shows it."""

    key: str
    size: int
    last_modified: datetime | None


class ObjectStore:
    """Zone-addressed access to the lake's buckets."""

    def __init__(self, settings: HubSettings) -> None:
        self.settings = settings
        s3 = settings.s3()
        self.client = Minio(
            s3.host_port,
            access_key=s3.access_key,
            secret_key=s3.secret_key,
            secure=s3.secure,
            region=s3.region,
            http_client=PoolManager(
                maxsize=16,
                # a hung S3 server must fail the call, not the task's hour: no call waits forever
                timeout=Timeout(
                    connect=settings.s3_connect_timeout, read=settings.s3_request_timeout
                ),
                retries=Retry(total=3, backoff_factor=0.2, status_forcelist=(500, 502, 503)),
            ),
        )

    def ensure_buckets(self) -> dict[str, str]:
        """Create any missing zone bucket, and the backups' bucket if they go to S3; returns
        zone -> bucket."""
        backups = [self.settings.backup_bucket] if self.settings.backup_bucket else []
        for bucket in [*self.settings.buckets.values(), *backups]:
            try:
                if not self.client.bucket_exists(bucket):
                    self.client.make_bucket(bucket)
            except S3Error as exc:
                if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise LakeError(f"cannot create bucket {bucket!r}: {exc}") from exc
        return self.settings.buckets

    def put(
        self,
        zone: str,
        key: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        metadata: dict[str, str] | None = None,
    ) -> None:
        with _s3("write", self.url(zone, key)):
            self.client.put_object(
                self.settings.bucket(zone),
                key,
                io.BytesIO(data),
                len(data),
                content_type=content_type,
                metadata=metadata,
                part_size=PART_SIZE,
            )

    def put_file(
        self,
        zone: str,
        key: str,
        path: str,
        *,
        content_type: str,
        metadata: dict[str, str] | None = None,
    ) -> None:
        """Upload a file from disk in parts, so a large export never sits in memory."""
        with _s3("write", self.url(zone, key)):
            self.client.fput_object(
                self.settings.bucket(zone),
                key,
                path,
                content_type=content_type,
                metadata=metadata,
                part_size=PART_SIZE,
            )

    def stream(self, zone: str, key: str, chunk: int = 1024 * 1024) -> Iterator[bytes]:
        """The object's bytes in chunks, for a download that does not hold the whole file.

        The object is opened now (a missing one raises here), its bytes read as iterated."""
        with _s3("read", self.url(zone, key)):
            response = self.client.get_object(self.settings.bucket(zone), key)

        def chunks() -> Iterator[bytes]:
            try:
                with _s3("read", self.url(zone, key)):
                    yield from response.stream(chunk)
            finally:
                response.close()
                response.release_conn()

        return chunks()

    def get(self, zone: str, key: str) -> bytes:
        with _s3("read", self.url(zone, key)):
            response = self.client.get_object(self.settings.bucket(zone), key)
        try:
            with _s3("read", self.url(zone, key)):
                return response.read()
        finally:
            response.close()
            response.release_conn()

    def get_versioned(self, zone: str, key: str) -> tuple[bytes, str]:
        """The object's bytes and its ETag, to copy exactly this version later."""
        with _s3("read", self.url(zone, key)):
            response = self.client.get_object(self.settings.bucket(zone), key)
        try:
            with _s3("read", self.url(zone, key)):
                return response.read(), response.headers.get("ETag", "").strip('"')
        finally:
            response.close()
            response.release_conn()

    def copy(self, source: tuple[str, str, str], zone: str, key: str) -> None:
        """Server-side copy of (zone, key, etag) to ``zone/key``; refused if the source changed."""
        src_zone, src_key, etag = source
        with _s3("copy", f"{self.url(src_zone, src_key)} to {self.url(zone, key)}"):
            self.client.copy_object(
                self.settings.bucket(zone),
                key,
                CopySource(self.settings.bucket(src_zone), src_key, match_etag=etag or None),
            )

    def exists(self, zone: str, key: str) -> bool:
        try:
            with _s3("stat", self.url(zone, key)):
                self.client.stat_object(self.settings.bucket(zone), key)
        except LakeError as exc:
            cause = exc.__cause__
            if isinstance(cause, S3Error) and cause.code in (
                "NoSuchKey",
                "NoSuchObject",
                "ResourceNotFound",
            ):
                return False
            raise
        return True

    def list(self, zone: str, prefix: str, *, recursive: bool = True) -> Iterator[str]:
        for obj in self.listing(zone, prefix, recursive=recursive):
            yield obj.key

    def listing(self, zone: str, prefix: str, *, recursive: bool = True) -> Iterator[Stored]:
        """The objects under ``prefix`` with their size and time of writing."""
        with _s3("list", self.url(zone, prefix)):
            for obj in self.client.list_objects(
                self.settings.bucket(zone), prefix=prefix, recursive=recursive
            ):
                yield Stored(obj.object_name, obj.size or 0, obj.last_modified)

    def delete(self, zone: str, keys: list[str]) -> None:
        with _s3("delete from", self.url(zone)):
            errors = list(
                self.client.remove_objects(
                    self.settings.bucket(zone), [DeleteObject(k) for k in keys]
                )
            )
        if errors:
            raise LakeError(f"cannot delete from {zone}: {errors[0]}")

    def url(self, zone: str, key: str = "") -> str:
        return f"s3://{self.settings.bucket(zone)}/{key}"
