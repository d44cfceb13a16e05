"""Time helpers: every instant the hub stores or compares is time-zone aware, in UTC."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

#: Where ``utc_now`` reads the time: the system clock, or a simulation's (see ``simulated``).
_clock: list[Callable[[], datetime]] = []


def utc_now() -> datetime:
    return _clock[-1]() if _clock else datetime.now(UTC)


@contextmanager
def simulated(clock: Callable[[], datetime]) -> Iterator[None]:
    """Let the hub's own records (runs, versions, deliveries, audit) read ``clock``'s time.

    For simulating months of service in minutes (``hub bench --only year``): retention and
    snapshot expiry then judge ages in simulated time. Timeouts, request signing and the
    object store's own timestamps keep the system clock.
    """
    _clock.append(clock)
    try:
        yield
    finally:
        _clock.remove(clock)


def as_utc(value: datetime) -> datetime:
    """The same instant in UTC; a naive value is read as UTC (SQLite and some clients drop zones)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
