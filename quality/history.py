"""Reading a dataset's quality back from the catalog: latest score, its run's results, the trend."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from catalog import entries
from catalog.db import session_for
from catalog.models import DatasetVersion, QualityResult, QualityScore


@dataclass
class ScoredVersion:
    """One score row, with the published version it belongs to (if its run published)."""

    score: QualityScore
    snapshot_id: int | None

    @property
    def detail(self) -> dict[str, Any]:
        return json.loads(self.score.detail)


@dataclass
class QualityView:
    dataset_id: str
    history: list[ScoredVersion]  # oldest first
    results: list[QualityResult]  # of the latest delivery run
    freshness: list[QualityResult]  # of the latest freshness sweep, if any

    @property
    def latest(self) -> ScoredVersion | None:
        return self.history[-1] if self.history else None


def quality_view(catalog_url: str, dataset_id: str) -> QualityView:
    with session_for(catalog_url) as session:
        scores = list(
            session.scalars(
                select(QualityScore)
                .where(QualityScore.dataset_id == dataset_id)
                .order_by(QualityScore.id)
            )
        )
        snapshots = {
            v.run_id: v.snapshot_id
            for v in session.scalars(
                select(DatasetVersion).where(DatasetVersion.dataset_id == dataset_id)
            )
        }
        delivery = [s for s in scores if s.kind == "delivery"]
        sweep = [s for s in scores if s.kind == "freshness"]

        def results_of(run_id: str | None) -> list[QualityResult]:
            if run_id is None:
                return []
            return entries.listing(catalog_url, QualityResult, dataset_id, run_id)

        return QualityView(
            dataset_id=dataset_id,
            history=[ScoredVersion(s, snapshots.get(s.run_id)) for s in scores],
            results=results_of(delivery[-1].run_id if delivery else None),
            freshness=results_of(sweep[-1].run_id if sweep else None),
        )
