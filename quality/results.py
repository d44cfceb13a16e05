"""Keeping GX results and scores in the catalog, capped so no result holds a 40,000-item list."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from catalog import entries
from catalog.models import QualityResult, QualityScore
from hub.core.time import utc_now

if TYPE_CHECKING:
    from quality.gate import CheckResult
    from quality.score import Score

#: Longest JSON text kept for an observed value or an expectation's arguments.
MAX_JSON = 2_000


def capped_json(value: Any, limit: int = MAX_JSON) -> str:
    if isinstance(value, list) and len(value) > 20:
        value = [*value[:20], f"... {len(value) - 20} more"]
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def record(
    catalog_url: str,
    dataset_id: str,
    run_id: str,
    results: list[CheckResult],
    score: Score,
    kind: str = "delivery",
) -> None:
    """Store a run's expectation results and its score in one transaction."""

    when = utc_now()
    rows: list[Any] = [
        QualityResult(
            dataset_id=dataset_id,
            run_id=run_id,
            check_label=r.label,
            expectation=r.expectation,
            hard=r.hard,
            success=r.success,
            unexpected_count=r.unexpected_count,
            unexpected_percent=r.unexpected_percent,
            observed_value=None if r.observed_value is None else capped_json(r.observed_value),
            examples=capped_json(r.examples),
            kwargs=capped_json(r.kwargs),
            error=r.error,
            recorded_at=when,
        )
        for r in results
    ]
    rows.append(
        QualityScore(
            dataset_id=dataset_id,
            run_id=run_id,
            kind=kind,
            score=score.score,
            content=score.content,
            timeliness=score.timeliness,
            metadata_=score.metadata,
            error_rate=score.error_rate,
            detail=capped_json(score.detail, 20_000),
            computed_at=when,
        )
    )
    entries.add(catalog_url, *rows)
