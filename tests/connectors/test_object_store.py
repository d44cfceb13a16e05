"""The object-store connector: an agency's own bucket on another S3 server (here a bucket of
the test SeaweedFS the hub has no other business with), read with the agency's credentials."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from minio import Minio

from connectors.base import FetchContext
from connectors.object_store.config import ObjectStoreConfig
from connectors.object_store.connector import fetch, read
from hub.core.delivery import Window
from hub.core.errors import DeliveryError, TransientDeliveryError
from hub.services.process import free_port
from simulators import drops
from tests.support.fetching import fetch_all

DAY = datetime(2026, 10, 1, tzinfo=ZoneInfo("Asia/Seoul"))
CTX = FetchContext(
    feed_id="pm_composition", window=Window(DAY, DAY + timedelta(days=1)), timezone="Asia/Seoul"
)


@pytest.fixture
def agency_bucket(hub_settings, monkeypatch) -> ObjectStoreConfig:
    s3 = hub_settings.s3()
    bucket = f"{hub_settings.bucket_prefix}institute-outbox"
    client = Minio(s3.host_port, access_key=s3.access_key, secret_key=s3.secret_key, secure=False)
    client.make_bucket(bucket)
    for institute in drops.INSTITUTES:
        data = drops.pm_csv(institute, date(2026, 10, 1))
        client.put_object(bucket, f"pm/20261001/{institute}.csv", io.BytesIO(data), len(data))
    monkeypatch.setenv("AGENCY_S3_URL", s3.endpoint)
    monkeypatch.setenv("AGENCY_S3_KEY", s3.access_key)
    monkeypatch.setenv("AGENCY_S3_SECRET", s3.secret_key)
    return ObjectStoreConfig(
        prefix="pm/{start:%Y%m%d}/",
        pattern="*.csv",
        format="csv",
        encoding="auto",
        min_files=3,
        endpoint="${AGENCY_S3_URL}",
        bucket=bucket,
        access_key="${AGENCY_S3_KEY}",
        secret_key="${AGENCY_S3_SECRET}",
    )


@pytest.mark.parametrize("backend", ["sqlite"])
def test_pulls_every_file_of_the_window_from_the_agency_bucket(agency_bucket):
    parts = fetch_all(fetch, agency_bucket, CTX)
    assert [p.name for p in parts] == ["gyeonggi.csv", "incheon.csv", "seoul.csv"]
    assert parts[0].data == drops.pm_csv("gyeonggi", date(2026, 10, 1))  # byte for byte
    assert sum(read(agency_bucket, p.data, name=p.name).num_rows for p in parts) == 18


@pytest.mark.parametrize("backend", ["sqlite"])
def test_wrong_credentials_and_a_server_that_is_down_are_told_apart(agency_bucket, monkeypatch):
    monkeypatch.setenv("AGENCY_S3_SECRET", "not-the-secret")
    with pytest.raises(DeliveryError, match=r"feed pm_composition: .*institute-outbox.*refused"):
        fetch_all(fetch, agency_bucket, CTX)
    monkeypatch.setenv("AGENCY_S3_URL", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(TransientDeliveryError, match="cannot reach the agency's server"):
        fetch_all(fetch, agency_bucket, CTX)
