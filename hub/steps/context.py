"""What one run of one feed is about: the feed, the window it covers, and its run id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from catalog import audit, entries
from hub.core.delivery import Window
from hub.core.settings import HubSettings, get_settings
from hub.core.time import utc_now
from hub.lake.objectstore import ObjectStore
from hub.registry import FeedSpec, load_feed


@dataclass(frozen=True)
class RunContext:
    settings: HubSettings
    feed: FeedSpec
    window: Window
    run_id: str

    @classmethod
    def create(
        cls,
        feed_id: str,
        start: datetime | str,
        end: datetime | str,
        run_id: str,
        settings: HubSettings | None = None,
    ) -> RunContext:
        settings = settings or get_settings()
        feed = load_feed(settings.feeds_dir / f"{feed_id}.yaml")
        window = Window(_instant(start), _instant(end))
        return cls(settings=settings, feed=feed, window=window, run_id=run_id)

    def store(self) -> ObjectStore:
        return ObjectStore(self.settings)

    def record(self, **fields) -> None:
        """Update this run's row in the catalog."""

        entries.update_run(
            self.settings.catalog_url, self.feed.id, self.run_id, self.window, **fields
        )

    def fail(self, error: Exception, **fields) -> None:
        """Mark this run failed in the catalog, with the error a person will read."""

        self.record(status="failed", error=str(error), finished_at=utc_now(), **fields)

    def audit(self, action: str, target: str, **detail) -> None:
        """Append this run's action to the audit log, under the feed's purpose of processing."""

        feed = self.feed
        purpose = (
            feed.privacy.purpose.en
            if feed.privacy is not None
            else f"scheduled {feed.schedule.cron} delivery of {feed.provider.name.en}"
        )
        audit.record(
            self.settings.catalog_url,
            action,
            target,
            purpose=purpose,
            detail={
                "run_id": self.run_id,
                "window_start": self.window.start,
                "window_end": self.window.end,
                **detail,
            },
        )

    @property
    def where(self) -> str:
        return f"feed {self.feed.id} [{self.window.start.isoformat()} .. {self.window.end.isoformat()})"


def _instant(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)
