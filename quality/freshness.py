"""Freshness: has a feed delivered the windows its schedule has closed?

A delivery's own checks cannot see a feed that stopped delivering; this judgement can. A feed
is fresh when its newest successful run covers the latest window its schedule closed, allowing
the schedule's grace for the delivery to arrive (one window unless the feed declares one). The
age of the newest timestamp in its rows plays no part: a quarterly register whose rows changed
long ago, or an incremental delivery with no changes, is fresh when its windows are delivered.
A sweep records the judgement and a re-scored version in the catalog, so a stale feed shows up
and its score drops.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from catalog import entries
from catalog.db import session_for
from catalog.models import QualityScore
from hub.core.time import as_utc
from hub.registry.schedule import last_window
from quality import results
from quality.gate import CheckResult
from quality.score import Score

if TYPE_CHECKING:
    from hub.core.settings import HubSettings
    from hub.registry.spec import Schedule

#: The label of the sweep's result in the catalog and in ``hub quality show``.
LABEL = "fresh(schedule)"
#: Closed windows missing past their grace at which timeliness reaches 0.
MISSING_AT_ZERO = 2


class NeverPublished(LookupError):
    """The feed has no successful run to judge."""


@dataclass(frozen=True)
class Freshness:
    """A feed's deliveries against its schedule at one moment."""

    at: datetime
    covered_until: datetime  # the end of the newest window a successful run covered
    due: datetime  # the end of the newest window that should be delivered by ``at``
    grace: timedelta
    missing: int  # windows closed (with their grace) and not delivered

    @property
    def fresh(self) -> bool:
        return self.covered_until >= self.due

    @property
    def timeliness(self) -> float:
        """1 when fresh, falling to 0 at ``MISSING_AT_ZERO`` windows missing."""
        return max(0.0, 1.0 - self.missing / MISSING_AT_ZERO)


def windows_between(schedule: Schedule, after: datetime, until: datetime, cap: int = 100) -> int:
    """How many of the schedule's windows end in (``after``, ``until``] (at most ``cap``)."""
    count, end = 0, until
    while count < cap:
        _, end_of = last_window(schedule, end)
        if end_of <= after:
            return count
        count += 1
        end = end_of - timedelta(microseconds=1)
    return count


def judge(catalog_url: str, feed_id: str, schedule: Schedule, at: datetime) -> Freshness:
    """The feed's freshness at ``at`` from its successful runs.

    Raises:
        NeverPublished: no run of the feed has succeeded yet.
    """
    newest = entries.covered_until(catalog_url, feed_id)
    if newest is None:
        raise NeverPublished(f"feed {feed_id}: nothing published yet")
    covered = as_utc(newest)
    grace = schedule.grace_period()
    _, due = last_window(schedule, at - grace)
    missing = windows_between(schedule, covered, due) if covered < due else 0
    return Freshness(at, covered, as_utc(due), grace, missing)


def sweep(settings: HubSettings, feed, at: datetime) -> tuple[CheckResult, Score]:
    """Judge and record the feed's freshness at ``at``: its result, and its score re-weighed
    with that timeliness (content and metadata from its last delivery)."""
    from sqlalchemy import select

    found = judge(settings.catalog_url, feed.id, feed.schedule, at)
    result = CheckResult(
        check=0,
        label=LABEL,
        columns=[],
        expectation="delivery_covers_latest_closed_window",
        hard=False,
        row_level=False,
        success=found.fresh,
        unexpected_count=None,
        unexpected_percent=None,
        observed_value=found.covered_until.isoformat(),
        examples=[],
        kwargs={"due": found.due.isoformat(), "grace": str(found.grace)},
    )
    with session_for(settings.catalog_url) as session:
        last = session.scalars(
            select(QualityScore)
            .where(QualityScore.dataset_id == feed.id, QualityScore.kind == "delivery")
            .order_by(QualityScore.id.desc())
        ).first()
    score = Score(
        content=last.content if last else 0.0,
        metadata=last.metadata_ if last else 0.0,
        error_rate=last.error_rate if last else 0.0,
        timeliness=round(found.timeliness, 4),
        detail={
            **(json.loads(last.detail) if last else {}),
            "timeliness": {
                "covered_until": found.covered_until.isoformat(),
                "due": found.due.isoformat(),
                "grace": str(found.grace),
                "windows_missing": found.missing,
                "reference": at.isoformat(),
                "fresh_checks_failed": [] if found.fresh else [LABEL],
                "from": "freshness sweep",
            },
        },
    )
    results.record(
        settings.catalog_url,
        feed.id,
        f"freshness/{at.isoformat()}",
        [result],
        score,
        kind="freshness",
    )
    return result, score
