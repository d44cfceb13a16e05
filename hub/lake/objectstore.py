"""The object store behind the zones, through the MinIO client (any S3 server works)."""

from __future__ import annotations

import io
from collections.abc import Iterator

from minio import Minio
from minio.error import S3Error
from urllib3 import PoolManager, Retry

from hub.core.errors import LakeError
from hub.core.settings import BUCKETS, HubSettings

#: Multipart part size: the client's 5 MiB default makes a 60 MB delivery take 3.5x longer.
PART_SIZE = 64 * 1024 * 1024


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
                retries=Retry(total=3, backoff_factor=0.2, status_forcelist=(500, 502, 503)),
            ),
        )

    def ensure_buckets(self) -> dict[str, str]:
        """Create any missing zone bucket; returns zone -> bucket."""
        for zone in BUCKETS:
            bucket = self.settings.bucket(zone)
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
        try:
            self.client.put_object(
                self.settings.bucket(zone),
                key,
                io.BytesIO(data),
                len(data),
                content_type=content_type,
                metadata=metadata,
                part_size=PART_SIZE,
            )
        except S3Error as exc:
            raise LakeError(f"cannot write s3://{self.settings.bucket(zone)}/{key}: {exc}") from exc

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
        try:
            self.client.fput_object(
                self.settings.bucket(zone),
                key,
                path,
                content_type=content_type,
                metadata=metadata,
                part_size=PART_SIZE,
            )
        except S3Error as exc:
            raise LakeError(f"cannot write s3://{self.settings.bucket(zone)}/{key}: {exc}") from exc

    def stream(self, zone: str, key: str, chunk: int = 1024 * 1024) -> Iterator[bytes]:
        """The object's bytes in chunks, for a download that does not hold the whole file.

        The object is opened now (a missing one raises here), its bytes read as iterated."""
        try:
            response = self.client.get_object(self.settings.bucket(zone), key)
        except S3Error as exc:
            raise LakeError(f"cannot read s3://{self.settings.bucket(zone)}/{key}: {exc}") from exc

        def chunks() -> Iterator[bytes]:
            try:
                yield from response.stream(chunk)
            finally:
                response.close()
                response.release_conn()

        return chunks()

    def get(self, zone: str, key: str) -> bytes:
        try:
            response = self.client.get_object(self.settings.bucket(zone), key)
        except S3Error as exc:
            raise LakeError(f"cannot read s3://{self.settings.bucket(zone)}/{key}: {exc}") from exc
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    def get_versioned(self, zone: str, key: str) -> tuple[bytes, str]:
        """The object's bytes and its ETag, to copy exactly this version later."""
        try:
            response = self.client.get_object(self.settings.bucket(zone), key)
        except S3Error as exc:
            raise LakeError(f"cannot read s3://{self.settings.bucket(zone)}/{key}: {exc}") from exc
        try:
            return response.read(), response.headers.get("ETag", "").strip('"')
        finally:
            response.close()
            response.release_conn()

    def copy(self, source: tuple[str, str, str], zone: str, key: str) -> None:
        """Server-side copy of (zone, key, etag) to ``zone/key``; refused if the source changed."""
        from minio.commonconfig import CopySource

        src_zone, src_key, etag = source
        try:
            self.client.copy_object(
                self.settings.bucket(zone),
                key,
                CopySource(self.settings.bucket(src_zone), src_key, match_etag=etag or None),
            )
        except S3Error as exc:
            raise LakeError(
                f"cannot copy s3://{self.settings.bucket(src_zone)}/{src_key} to "
                f"s3://{self.settings.bucket(zone)}/{key}: {exc}"
            ) from exc

    def exists(self, zone: str, key: str) -> bool:
        try:
            self.client.stat_object(self.settings.bucket(zone), key)
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject", "ResourceNotFound"):
                return False
            raise LakeError(f"cannot stat s3://{self.settings.bucket(zone)}/{key}: {exc}") from exc
        return True

    def list(self, zone: str, prefix: str, *, recursive: bool = True) -> Iterator[str]:
        for obj in self.client.list_objects(
            self.settings.bucket(zone), prefix=prefix, recursive=recursive
        ):
            yield obj.object_name

    def delete(self, zone: str, keys: list[str]) -> None:
        from minio.deleteobjects import DeleteObject

        errors = list(
            self.client.remove_objects(self.settings.bucket(zone), [DeleteObject(k) for k in keys])
        )
        if errors:
            raise LakeError(f"cannot delete from {zone}: {errors[0]}")

    def url(self, zone: str, key: str = "") -> str:
        return f"s3://{self.settings.bucket(zone)}/{key}"
