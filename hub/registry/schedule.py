"""A feed's schedule as windows: each run covers one cron interval in the feed's time zone;
and its provision cycle in the terms catalogs use (ISO 8601 durations, EU frequencies)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hub.registry.spec import Schedule

#: The EU Publications Office's frequency vocabulary (DCAT-AP ``dct:accrualPeriodicity``).
FREQUENCY = "http://publications.europa.eu/resource/authority/frequency/"
#: The frequency term of each cycle, by its longest length in minutes (shortest first).
FREQUENCIES = (
    (1, "1MIN"),
    (10, "10MIN"),
    (15, "15MIN"),
    (30, "30MIN"),
    (60, "HOURLY"),
    (1440, "DAILY"),
    (10080, "WEEKLY"),
    (44640, "MONTHLY"),
    (133920, "QUARTERLY"),
    (527040, "ANNUAL"),
)


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


def iso_duration(cycle: timedelta) -> str:
    """A provision cycle in ISO 8601, as catalogs write an update cycle (PT10M, PT1H, P1D)."""
    seconds = int(cycle.total_seconds())
    if seconds % 86400 == 0:
        return f"P{seconds // 86400}D"
    if seconds % 3600 == 0:
        return f"PT{seconds // 3600}H"
    return f"PT{seconds // 60}M"


def frequency(cycle: timedelta | None) -> str:
    """A provision cycle as the EU frequency vocabulary's term (IRREG: none, or over a year)."""
    if cycle is None:
        return FREQUENCY + "IRREG"
    minutes = cycle.total_seconds() / 60
    for limit, term in FREQUENCIES:
        if minutes <= limit:
            return FREQUENCY + term
    return FREQUENCY + "IRREG"
