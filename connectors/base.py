"""The small protocol every connector kind implements."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import pyarrow as pa

from hub.core.delivery import RawPart, Window
from hub.core.errors import ConfigError


@dataclass(frozen=True)
class FetchContext:
    feed_id: str
    window: Window
    timezone: str
    inbox: Any = None  # the hub's object store, for kinds that read its inbox bucket
    #: incremental kinds: the cursor already published (ISO text), None for a first snapshot
    watermark: str | None = None
    #: incremental kinds: the columns that identify a row, and how many rows are published
    key: tuple[str, ...] = ()
    published_rows: int | None = None


@dataclass
class FetchResult:
    parts: int = 0
    rows_reported: int | None = None
    notes: list[str] = field(default_factory=list)
    #: incremental kinds: the newest cursor in this delivery (ISO text, UTC)
    watermark: str | None = None


Sink = Callable[[RawPart], None]


def keep_evidence(sink: Sink, name: str, data: bytes, content_type: str, source: str) -> None:
    """Land an answer the delivery cannot use, byte for byte, before failing on it: the
    delivery stays incomplete (never read), but an engineer can see what the source sent."""
    sink(RawPart(name=name, data=data, content_type=content_type, source=source, evidence=True))


class Fetcher(Protocol):
    def __call__(self, config: Any, ctx: FetchContext, sink: Sink) -> FetchResult: ...


class Reader(Protocol):
    def __call__(self, config: Any, data: bytes, *, name: str) -> pa.Table: ...


#: ``${VAR}`` or ``${VAR:-default}`` in a feed option.
ENV_REFERENCE = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}")


def expand_env(value: str, *, feed_id: str, what: str) -> str:
    """Resolve ``${VAR}`` and ``${VAR:-default}`` at run time, so feed files hold no secrets.

    Raises:
        ConfigError: a variable without default is not set.
    """

    def sub(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        found = os.environ.get(name)
        if found is not None and found != "":
            return found
        if default is not None:
            return default
        raise ConfigError(
            f"feed {feed_id}: {what} needs the environment variable {name}, which is not set"
        )

    return ENV_REFERENCE.sub(sub, value)
