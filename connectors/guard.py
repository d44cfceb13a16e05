"""The one place a reader's failures become hub errors shaped ``feed X: file Y: reason``.

Light to import (no Arrow at import time): ``connectors`` wraps every kind's reader with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from hub.core.errors import DeliveryError, HubError

if TYPE_CHECKING:
    import pyarrow as pa

    from connectors.base import FetchContext, Fetcher, FetchResult, Reader, Sink


class GuardedReader(Protocol):
    def __call__(
        self, config: Any, data: bytes, *, name: str, feed_id: str | None = None
    ) -> pa.Table: ...


def read_failure(feed_id: str | None, name: str, kind: str, exc: BaseException) -> HubError:
    """Any failure of a reader as one hub error shaped ``feed X: file Y: reason``.

    Readers raise their own ``DeliveryError`` for defects they recognise (their message may
    start with the file's name); anything else a parsing library throws (a corrupt workbook,
    RecursionError on deeply nested JSON, an Arrow error) is wrapped here, so no bare library
    exception reaches a task log or ``hub run``.
    """
    where = f"feed {feed_id}: file {name}" if feed_id else f"file {name}"
    if isinstance(exc, HubError):
        reason = exc.message.removeprefix(f"{name}: ").removeprefix(f"file {name}: ")
        error = type(exc)(f"{where}: {reason}")
        return error
    if isinstance(exc, RecursionError):
        reason = "the document is nested too deeply to read"
    else:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        reason = f"{type(exc).__name__}" + (f": {detail[:300]}" if detail else "")
    return DeliveryError(f"{where}: cannot be read as a {kind} delivery ({reason})")


def guarded(read: Reader, kind: str) -> GuardedReader:
    """``read`` with every failure turned into a clear hub error (see ``read_failure``)."""

    def reader(config: Any, data: bytes, *, name: str, feed_id: str | None = None) -> pa.Table:
        try:
            return read(config, data, name=name)
        except Exception as exc:  # the one place reader failures are wrapped
            raise read_failure(feed_id, name, kind, exc) from None

    return reader


def guarded_fetch(fetch: Fetcher, kind: str) -> Fetcher:
    """``fetch`` with any exception a library lets through turned into a ``DeliveryError``
    naming the feed; each connector names the URL or file itself where it can."""

    def fetcher(config: Any, ctx: FetchContext, sink: Sink) -> FetchResult:
        try:
            return fetch(config, ctx, sink)
        except HubError:
            raise
        except Exception as exc:  # the one place fetch failures a connector missed are wrapped
            detail = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
            raise DeliveryError(
                f"feed {ctx.feed_id}: the {kind} delivery failed unexpectedly "
                f"({type(exc).__name__}{': ' + detail if detail else ''})"
            ) from None

    return fetcher
