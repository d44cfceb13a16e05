"""The KPI dashboard page (/kpi, Korean and English): each indicator's latest value against its
baseline and target, and its trend drawn as SVG with the target line, so the page needs no
script to show what it says. The markup is ``templates/kpi.html``."""

from __future__ import annotations

from typing import Any

from hub.web.kpis import KpiView, period_label
from hub.web.templating import gettext, render


def kpi_page(views: list[KpiView], lang: str) -> str:
    other = "en" if lang == "ko" else "ko"
    return render(
        "kpi.html",
        lang,
        title=gettext(lang, "Seoul key performance indicators"),
        switch=f"/kpi?lang={other}",
        views=views,
        number=number,
        period=period_label,
        trend=trend,
    )


def number(value: float | None, unit: str) -> str:
    """A value as the dashboard shows it: whole numbers from 100, else up to two decimals."""
    if value is None:
        return "—"
    shown = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{shown} {unit}"


def trend(v: KpiView) -> dict[str, Any] | None:
    """Where the trend's points and target line fall in its box (None: nothing computed)."""
    shown = [p for p in v.series if p.value is not None]
    values = [p.value for p in shown if p.value is not None]
    if not values:
        return None
    width, height, pad = 480, 140, 24
    scale = [*values, *([v.target_value] if v.target_value is not None else [])]
    low, high = min(scale), max(scale)
    span = (high - low) or abs(high) or 1.0

    def y(value: float) -> float:
        return round(height - pad - (value - low) / span * (height - 2 * pad), 1)

    step = (width - 2 * pad) / max(1, len(values) - 1)
    points = [
        (round(pad + i * step, 1), y(value), p)
        for i, (value, p) in enumerate(zip(values, shown, strict=True))
    ]
    return {
        "width": width,
        "height": height,
        "pad": pad,
        "line": " ".join(f"{x},{py}" for x, py, _ in points),
        "points": points,
        "target": None if v.target_value is None else y(v.target_value),
    }
