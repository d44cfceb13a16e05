"""A feed's schedule as windows: each run covers one cron interval in the feed's time zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hub.registry.spec import Schedule


def last_window(schedule: Schedule, at: datetime | None = None) -> tuple[datetime, datetime]:
    """The latest complete interval [start, end) with end <= ``at`` (default: now).

    This is the interval Airflow's ``CronDataIntervalTimetable`` gives a run triggered at ``at``.
    """
    from croniter import croniter

    tz = ZoneInfo(schedule.timezone)
    now = (at or datetime.now(tz)).astimezone(tz)
    itr = croniter(schedule.cron, now + timedelta(microseconds=1))
    end = itr.get_prev(datetime)
    start = itr.get_prev(datetime)
    return start, end
