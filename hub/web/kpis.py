"""The KPI dashboard's figures: each declared indicator (products/kpis.yaml) with its series
from the open ``city_kpis`` table, its baseline, target and latest value. Read per request from
the table's current snapshot (the pointer is checked at most every few seconds)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hub.core.settings import HubSettings
from hub.lake import iceberg
from products.city_kpis import PRODUCT, Indicator, load_indicators

KST = ZoneInfo("Asia/Seoul")
#: Seconds a web worker serves a KPI snapshot before asking the catalog whether it moved.
SNAPSHOT_CHECK_S = 5.0


@dataclass
class KpiPoint:
    period: str  # the period's first day (ISO date)
    value: float | None
    observations: int
    partial: bool = False  # the period has not ended yet: shown, never judged


# One indicator of products/kpis.yaml with its figures, as /api/v1/kpis answers. (No
# docstring: it would become the schema's description in /openapi.json.)
@dataclass
class KpiView:
    id: str
    name_ko: str
    name_en: str
    description_ko: str
    description_en: str
    unit_ko: str
    unit_en: str
    source: str
    period: str
    better: str  # down | up
    baseline_period: str
    baseline_value: float | None
    target_change: float
    target_by: str
    target_value: float | None
    latest_period: str | None
    latest_value: float | None
    series: list[KpiPoint]  # oldest first

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def on_track(self) -> bool | None:
        """Whether the latest value has reached the target (None before there are both)."""
        if self.latest_value is None or self.target_value is None:
            return None
        if self.better == "down":
            return self.latest_value <= self.target_value
        return self.latest_value >= self.target_value


def kpis(settings: HubSettings, today: date | None = None) -> list[KpiView]:
    """Every declared indicator, in the order of the file; without a built table, no values.
    The latest value is the latest *ended* period's (``today`` in Seoul by default): a month
    a week old has few accidents and few rentals yet, and would look on or off target."""
    today = today or datetime.now(KST).date()
    table = iceberg.current_table(settings, "open", PRODUCT.id, max_age_s=SNAPSHOT_CHECK_S)
    rows = table.scan().to_arrow().to_pylist() if table is not None else []
    series: dict[str, list[KpiPoint]] = {}
    for row in sorted(rows, key=lambda r: (r["kpi_id"], r["period"])):
        series.setdefault(row["kpi_id"], []).append(row)
    return [view_of(i, series.get(i.id, []), today) for i in load_indicators()]


def view_of(i: Indicator, rows: list[dict[str, Any]], today: date) -> KpiView:
    """One indicator's figures from its rows of the city_kpis table (oldest first)."""
    points = [
        KpiPoint(
            r["period"].isoformat(),
            r["value"],
            r["observations"],
            partial=period_end(r["period"], i.period) + i.settles > today,
        )
        for r in rows
    ]
    start = i.baseline_start.isoformat()
    baseline = next((p.value for p in points if p.period == start and not p.partial), None)
    ended = [p for p in points if not p.partial]
    latest = ended[-1] if ended else None
    return KpiView(
        id=i.id,
        name_ko=i.name.ko,
        name_en=i.name.en,
        description_ko=i.description.ko,
        description_en=i.description.en,
        unit_ko=i.unit.ko,
        unit_en=i.unit.en,
        source=i.source,
        period=i.period,
        better=i.better,
        baseline_period=start,
        baseline_value=baseline,
        target_change=i.target.change,
        target_by=i.target.by,
        target_value=None if baseline is None else round(i.target_value(baseline) or 0, 4),
        latest_period=latest.period if latest else None,
        latest_value=latest.value if latest else None,
        series=points,
    )


def period_end(start: date, kind: str) -> date:
    """The day after a period's last day."""
    if kind == "day":
        return start + timedelta(days=1)
    if kind == "month":
        return date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return date(start.year + 1, 1, 1)


def period_label(period: str, kind: str) -> str:
    """A period start as people write the period: 2026-11, 2026-10-31, 2026."""
    day = date.fromisoformat(period)
    return {"year": f"{day:%Y}", "month": f"{day:%Y-%m}"}.get(kind, period)
