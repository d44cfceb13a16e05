"""Source databases the agencies keep, by feed: the environment variable naming each one's
URL, and how to bring it to its state at an instant."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from simulators import startups

#: feed -> (URL variable, write the source's state at an instant)
SOURCES: dict[str, tuple[str, Callable[[str, datetime], int]]] = {
    "startup_tenants": ("STARTUP_DB_URL", lambda url, at: startups.write_state(url, at)),
}


def default_urls(home: str) -> dict[str, str]:
    """Where the embedded demo keeps each source database: SQLite files under the hub's home."""
    return {
        variable: f"sqlite:///{home}/sources/{feed}.db" for feed, (variable, _) in SOURCES.items()
    }
