"""The quality score of a dataset version, explained part by part.

Three parts, each 0-1, in the spirit of the national public-data quality evaluation (error
rate) and data.gouv.fr's metadata score:

- content: the delivery's error rate, completeness (non-null share of declared cells) and
  validity (share of checks that passed), averaged;
- timeliness: how old the newest data was against the feed's allowance (its freshness check,
  or its provision cycle): 1 within it, falling to 0 at twice it;
- metadata: the share of the catalog entry a reuser needs that the feed's YAML fills in.

The score is 100 × (0.5 content + 0.25 timeliness + 0.25 metadata).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from hub.registry.spec import FeedSpec
    from quality.gate import Outcome

WEIGHTS = {"content": 0.5, "timeliness": 0.25, "metadata": 0.25}
SPATIAL_COLUMNS = {"gu_code", "dong_code", "lat", "lon", "segment_id", "address", "location"}


@dataclass
class Score:
    content: float
    timeliness: float
    metadata: float
    error_rate: float
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def score(self) -> float:
        parts = asdict(self)
        return round(100 * sum(w * parts[name] for name, w in WEIGHTS.items()), 1)


def metadata_part(feed: FeedSpec) -> tuple[float, list[str]]:
    """Share of the catalog fields present, and the names of those missing."""
    described = sum(1 for f in feed.schema_ if f.description is not None)
    items = {
        "title (ko, en)": bool(feed.title.ko and feed.title.en),
        "description (ko, en)": bool(feed.description.ko and feed.description.en),
        "owner department": bool(feed.department.name.ko),
        "contact point": bool(feed.department.contact or feed.provider.contact),
        "licence with URL": bool(feed.licence.url),
        "update cycle": feed.schedule.provision_cycle.total_seconds() > 0,
        "spatial coverage": any(f.name in SPATIAL_COLUMNS for f in feed.schema_),
        "temporal coverage": True,  # every feed is partitioned by a required time column
        "keywords": bool(feed.keywords),
        "column descriptions": described == len(feed.schema_),
    }
    missing = [name for name, ok in items.items() if not ok]
    return (len(items) - len(missing)) / len(items), missing


def timeliness_part(age: timedelta | None, allowance: timedelta) -> float:
    if age is None:
        return 0.0
    # total_seconds on both: Airflow hands pendulum times, whose intervals cannot divide timedelta
    ratio = age.total_seconds() / allowance.total_seconds() if allowance.total_seconds() else 0.0
    return 1.0 if ratio <= 1 else max(0.0, 2.0 - ratio)


def timeliness_text(t: dict[str, Any]) -> str:
    """The why of a timeliness part, as the CLI and the report show it: a sweep's windows
    against the schedule, or a delivery's newest row against its allowance."""
    if "covered_until" in t:
        return (
            f"windows delivered until {t['covered_until']}, due {t['due']} (grace {t['grace']}), "
            f"{t['windows_missing']} missing, judged at {t['reference']}"
        )
    return (
        f"newest {t.get('newest')}, judged at {t.get('reference')}, age {t.get('age')}, "
        f"allowed {t.get('allowance')}"
    )


def newest(table: pa.Table, column: str) -> datetime | None:
    if not table.num_rows:
        return None
    value = pc.max(table.column(column)).as_py()
    if value is not None and not isinstance(value, datetime):  # a date column
        value = datetime.combine(value, datetime.min.time()).astimezone()
    return value


def delivery_score(
    feed: FeedSpec, valid: pa.Table, outcome: Outcome, rows_delivered: int, reference: datetime
) -> Score:
    """The score of one delivery, from the rows that passed and GX's results."""
    rejected = rows_delivered - valid.num_rows
    error_rate = rejected / rows_delivered if rows_delivered else 0.0
    cells = valid.num_rows * len(feed.schema_)
    nulls = sum(valid.column(f.name).null_count for f in feed.schema_)
    completeness = 1 - nulls / cells if cells else 1.0  # no rows: nothing is incomplete
    checks = outcome.results
    validity = sum(r.success for r in checks) / len(checks) if checks else 1.0
    content = (1 - error_rate + completeness + validity) / 3
    fresh = [r for r in checks if r.expectation == "expect_column_max_to_be_between"]
    allowance = feed.schedule.provision_cycle
    latest = newest(valid, feed.partition.column)
    # plain seconds: Airflow hands pendulum times, whose intervals print as ranges
    age = timedelta(seconds=(reference - latest).total_seconds()) if latest else None
    timeliness = timeliness_part(age, allowance)
    reference_data = feed.upserts and not fresh
    no_change = latest is None and feed.allow_empty
    if reference_data or no_change:
        # rows carry their own validity dates, or the window had nothing new: a delivery that
        # covers its window is on time (the freshness sweep judges whether windows arrive)
        timeliness = 1.0
    if fresh and not all(r.success for r in fresh):
        timeliness = min(timeliness, 0.5)
    metadata, missing = metadata_part(feed)
    return Score(
        content=round(content, 4),
        timeliness=round(timeliness, 4),
        metadata=round(metadata, 4),
        error_rate=round(error_rate, 6),
        detail={
            "content": {
                "rows_delivered": rows_delivered,
                "rows_rejected": rejected,
                "error_rate": round(error_rate, 6),
                "completeness": round(completeness, 4),
                "validity": round(validity, 4),
                "checks_failed": [r.label for r in checks if not r.success],
            },
            "timeliness": {
                "newest": latest.isoformat() if latest else None,
                "reference": reference.isoformat(),
                "allowance": str(allowance),
                "age": str(age) if age is not None else None,
                "fresh_checks_failed": [r.label for r in fresh if not r.success],
                **(
                    {"judged_by": "the delivery's arrival (reference data merged by key)"}
                    if reference_data
                    else {"judged_by": "a delivery of its window with no change"}
                    if no_change
                    else {}
                ),
            },
            "metadata": {"missing": missing},
        },
    )
