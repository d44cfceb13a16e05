"""Running a connector's fetch against the simulated city, with quick retries for tests."""

from __future__ import annotations

from datetime import datetime

from connectors.base import FetchContext
from hub.core.delivery import RawPart, Window
from hub.core.settings import PROJECT_ROOT
from hub.registry import FeedSpec, load_feed


def feed_and_context(feed_id: str, start: str, end: str) -> tuple[FeedSpec, FetchContext]:
    feed = load_feed(PROJECT_ROOT / "feeds" / f"{feed_id}.yaml")
    window = Window(datetime.fromisoformat(start), datetime.fromisoformat(end))
    return feed, FetchContext(feed_id=feed.id, window=window, timezone=feed.schedule.timezone)


def quick(feed: FeedSpec, **changes):
    """The feed's delivery options with short back-off and time-outs, plus ``changes``."""
    base = {"backoff_max_s": 0.05, "timeout_s": 2.0, "max_attempts": 3, **changes}
    return feed.delivery.config.model_copy(update=base)


def fetch_all(fetch, config, ctx: FetchContext) -> list[RawPart]:
    parts: list[RawPart] = []
    fetch(config, ctx, parts.append)
    return parts
