"""Options of an object-store delivery: the agency's bucket, and how to read its files."""

from __future__ import annotations

from pydantic import Field

from connectors.file_drop.config import FileDropConfig


class ObjectStoreConfig(FileDropConfig):
    """A file drop in someone else's bucket: the file options, plus where and as whom."""

    endpoint: str = Field(description="S3 endpoint URL; '${VAR}' is read at run time.")
    bucket: str
    access_key: str = Field(description="'${VAR}': never written in the feed file.")
    secret_key: str = Field(description="'${VAR}': never written in the feed file.")
    region: str = "us-east-1"


CONFIG = ObjectStoreConfig
