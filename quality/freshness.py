"""Freshness sweeps: is a feed's published data as recent as its provision cycle promises?

A delivery's own checks cannot see a feed that stopped delivering; this sweep can. GX checks
the newest value of the published table's time column against the allowance; the result and
a re-scored version go to the catalog, so a stale feed shows up and its score drops.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from catalog import entries
from catalog.db import session_for
from catalog.models import QualityScore
from hub.core.delivery import Window
from hub.lake.iceberg import feed_table
from hub.registry.spec import FieldSpec
from quality import results
from quality.checks import Fresh
from quality.gate import run_checks
from quality.score import Score, timeliness_part

if TYPE_CHECKING:
    from hub.core.settings import HubSettings
    from hub.registry.spec import FeedSpec
    from quality.gate import CheckResult
    from quality.score import Score


class NeverPublished(LookupError):
    """The feed has no published version to judge."""


def allowance(feed: FeedSpec) -> timedelta:
    """How old the newest data may be: the feed's own ``fresh`` check, else two provision
    cycles (one for the window the data covers, one for the delivery to arrive)."""
    declared = [c.within for c in feed.checks if isinstance(c, Fresh)]
    return max(declared) if declared else 2 * feed.schedule.provision_cycle


def sweep(settings: HubSettings, feed: FeedSpec, at: datetime) -> tuple[CheckResult, Score]:
    """Check and record the feed's freshness at ``at``."""
    from sqlalchemy import select

    versions = entries.versions(settings.catalog_url, feed.id)
    if not versions:
        raise NeverPublished(f"feed {feed.id}: nothing published yet")
    column = feed.partition.column
    within = allowance(feed)
    if feed.upserts and not any(isinstance(c, Fresh) for c in feed.checks):
        # reference data: rows carry their own validity dates; judge when deliveries arrived
        import pyarrow as pa

        column = "delivered_at"
        table = pa.table(
            {column: pa.array([v.created_at for v in versions], pa.timestamp("us", tz="UTC"))}
        )
        feed = feed.model_copy(update={"schema_": [FieldSpec(name=column, type="timestamp")]})
    else:
        table = feed_table(settings, feed).scan(selected_fields=(column,)).to_arrow()
    probe = feed.model_copy(
        update={"checks": [Fresh(expect="fresh", column=column, within=within)]}
    )
    outcome = run_checks(probe, table, Window(at - within, at))
    result = outcome.results[0]
    newest = result.observed_value
    age = None
    if newest is not None:
        newest_at = newest.to_pydatetime() if hasattr(newest, "to_pydatetime") else newest
        if isinstance(newest_at, str):
            newest_at = datetime.fromisoformat(newest_at)
        age = at - newest_at
    with session_for(settings.catalog_url) as session:
        last = session.scalars(
            select(QualityScore)
            .where(QualityScore.dataset_id == feed.id, QualityScore.kind == "delivery")
            .order_by(QualityScore.id.desc())
        ).first()
    content = last.content if last else 0.0
    metadata = last.metadata_ if last else 0.0
    score = Score(
        content=content,
        metadata=metadata,
        error_rate=last.error_rate if last else 0.0,
        timeliness=round(timeliness_part(age, within), 4),
        detail={
            **(json.loads(last.detail) if last else {}),
            "timeliness": {
                "newest": str(newest) if newest is not None else None,
                "reference": at.isoformat(),
                "allowance": str(within),
                "age": str(age) if age is not None else None,
                "fresh_checks_failed": [] if result.success else [result.label],
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
