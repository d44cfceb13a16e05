"""Pulling a window's files from an agency's own bucket and landing them byte for byte.

The files are read with the file-drop reader (same formats and defects); only where they come
from differs: another S3 server, with credentials the feed names by environment variable.
"""

from __future__ import annotations

import fnmatch

import urllib3
from minio import Minio
from minio.error import S3Error

from connectors.base import FetchContext, FetchResult, Sink, expand_env
from connectors.file_drop.connector import CONTENT_TYPES, window_prefix
from connectors.file_drop.connector import read as read_file
from connectors.object_store.config import ObjectStoreConfig
from hub.core.delivery import RawPart
from hub.core.errors import DeliveryError, TransientDeliveryError

CONFIG = ObjectStoreConfig
read = read_file


def fetch(config: ObjectStoreConfig, ctx: FetchContext, sink: Sink) -> FetchResult:
    """Land each file of the window's prefix in the agency's bucket, in name order.

    Raises:
        TransientDeliveryError: the agency's server cannot be reached, or too few files yet.
        DeliveryError: access is refused, or a file is empty.
    """
    env = {
        name: expand_env(
            getattr(config, name), feed_id=ctx.feed_id, what=f"delivery.options.{name}"
        )
        for name in ("endpoint", "access_key", "secret_key")
    }
    endpoint = env["endpoint"]
    client = Minio(
        endpoint.split("://", 1)[-1],
        access_key=env["access_key"],
        secret_key=env["secret_key"],
        secure=endpoint.startswith("https://"),
        region=config.region,
        http_client=urllib3.PoolManager(  # fail fast: Airflow's retries come back later
            timeout=urllib3.Timeout(connect=5, read=60),
            retries=urllib3.Retry(total=2, backoff_factor=0.2),
        ),
    )
    prefix = window_prefix(config, ctx)
    where = f"feed {ctx.feed_id}: {endpoint}/{config.bucket}/{prefix}{config.pattern}"
    try:
        names = sorted(
            o.object_name
            for o in client.list_objects(config.bucket, prefix=prefix, recursive=True)
            if fnmatch.fnmatch(o.object_name.rsplit("/", 1)[-1], config.pattern)
        )
        if len(names) < config.min_files:
            raise TransientDeliveryError(
                f"{where}: {len(names)} file(s) published, {config.min_files} expected; "
                "the agency has not delivered this window yet"
            )
        result = FetchResult()
        for key in names:
            response = client.get_object(config.bucket, key)
            try:
                data = response.read()
            finally:
                response.close()
                response.release_conn()
            if not data:
                raise DeliveryError(
                    f"feed {ctx.feed_id}: {endpoint}/{config.bucket}/{key} is empty (0 bytes)"
                )
            sink(
                RawPart(
                    name=key[len(prefix) :] if key.startswith(prefix) else key,
                    data=data,
                    content_type=CONTENT_TYPES[config.format],
                    source=f"{endpoint}/{config.bucket}/{key}",
                )
            )
            result.parts += 1
        return result
    except S3Error as exc:
        transient = exc.code in ("SlowDown", "InternalError", "ServiceUnavailable")
        error = TransientDeliveryError if transient else DeliveryError
        raise error(f"{where}: the agency's server refused: {exc.code} {exc.message}") from exc
    except (OSError, urllib3.exceptions.HTTPError) as exc:  # refused, DNS, TLS: down or unreachable
        raise TransientDeliveryError(f"{where}: cannot reach the agency's server: {exc}") from exc
