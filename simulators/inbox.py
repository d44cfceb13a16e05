"""Dropping files into the hub's inbox bucket, as an agency's upload job would."""

from __future__ import annotations

import io
import os

from minio import Minio


def inbox_client() -> tuple[Minio, str]:
    """An S3 client and the inbox bucket from the same HUB_* variables the hub reads."""
    endpoint = os.environ["HUB_S3_ENDPOINT"]
    client = Minio(
        endpoint.split("://", 1)[-1],
        access_key=os.environ.get("HUB_S3_ACCESS_KEY", "hub"),
        secret_key=os.environ["HUB_S3_SECRET_KEY"],
        secure=endpoint.startswith("https://"),
    )
    return client, f"{os.environ.get('HUB_BUCKET_PREFIX', '')}inbox"


def drop(files: dict[str, bytes]) -> list[str]:
    client, bucket = inbox_client()
    for key, data in files.items():
        client.put_object(bucket, key, io.BytesIO(data), len(data))
    return sorted(files)
