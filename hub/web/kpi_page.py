"""The KPI dashboard page (/kpi, Korean and English): each indicator's latest value against its
baseline and target, and its trend drawn as SVG with the target line, so the page needs no
script to show what it says."""

from __future__ import annotations

from html import escape

from hub.core import html
from hub.web.kpis import KpiView, period_label

WORDS = {
    "ko": {
        "title": "서울시 핵심성과지표",
        "intro": "허브의 신뢰 구역 데이터로 계산한 도시 지표입니다. 기준값 대비 목표를 함께 보여 줍니다.",
        "latest": "최근 값",
        "baseline": "기준값",
        "target": "목표",
        "by": "까지",
        "source": "원천 데이터",
        "lineage": "계산 과정(계보)",
        "on_track": "목표 달성",
        "off_track": "목표 미달",
        "no_data": "아직 계산된 값이 없습니다",
        "trend": "추이",
        "other": "English",
        "map": "데이터 맵",
    },
    "en": {
        "title": "Seoul key performance indicators",
        "intro": "City indicators computed from the hub's trusted data, each against its "
        "baseline and target.",
        "latest": "Latest",
        "baseline": "Baseline",
        "target": "Target",
        "by": "by",
        "source": "Source data",
        "lineage": "How it is computed (lineage)",
        "on_track": "on target",
        "off_track": "not yet on target",
        "no_data": "No value computed yet",
        "trend": "Trend",
        "other": "한국어",
        "map": "Data map",
    },
}


def kpi_page(views: list[KpiView], lang: str) -> str:
    w = WORDS[lang]
    other = "en" if lang == "ko" else "ko"
    cards = "".join(_card(v, lang) for v in views)
    body = (
        f'<p style="float:right"><a href="/kpi?lang={other}">{w["other"]}</a> · '
        f'<a href="/?lang={lang}">{w["map"]}</a></p><h1>{w["title"]}</h1><p>{w["intro"]}</p>'
        f"{cards}"
    )
    return html.page(w["title"], body, lang=lang)


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    shown = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{shown} {escape(unit)}"


def _card(v: KpiView, lang: str) -> str:
    w = WORDS[lang]
    name, unit = (v.name_ko, v.unit_ko) if lang == "ko" else (v.name_en, v.unit_en)
    description = v.description_ko if lang == "ko" else v.description_en
    change = f"{v.target_change:+.0%}"
    status = (
        ""
        if v.on_track is None
        else f' <span class="{"fresh" if v.on_track else "late"}">'
        f"{w['on_track' if v.on_track else 'off_track']}</span>"
    )
    latest = (
        f"{_number(v.latest_value, unit)} <span class='muted'>"
        f"({period_label(v.latest_period, v.period)})</span>{status}"
        if v.latest_period
        else w["no_data"]
    )
    return (
        f'<section aria-labelledby="kpi-{v.id}" class="kpi"><h2 id="kpi-{v.id}">{escape(name)}'
        f"</h2><p>{escape(description)}</p><table>"
        f"<tr><th scope='row'>{w['latest']}</th><td class='kpi-value'>{latest}</td></tr>"
        f"<tr><th scope='row'>{w['baseline']}</th><td>{_number(v.baseline_value, unit)} "
        f"<span class='muted'>({period_label(v.baseline_period, v.period)})</span></td></tr>"
        f"<tr><th scope='row'>{w['target']}</th><td>{_number(v.target_value, unit)} "
        f"<span class='muted'>({change}, {escape(v.target_by)} {w['by']})</span></td></tr>"
        f"<tr><th scope='row'>{w['source']}</th><td><a href='/datasets/{v.source}?lang={lang}'>"
        f"{escape(v.source)}</a> · <a href='/datasets/city_kpis?lang={lang}'>{w['lineage']}</a>"
        f"</td></tr></table>{trend_svg(v, w['trend'] + ': ' + name)}</section>"
    )


def trend_svg(v: KpiView, label: str) -> str:
    """The series as a line, the target as a dashed line, each point with its value as a
    tooltip; a single point is a dot. Empty when nothing was computed yet."""
    shown = [p for p in v.series if p.value is not None]
    values = [p.value for p in shown]
    if not values:
        return ""
    width, height, pad = 480, 140, 24
    scale = [*values, *([v.target_value] if v.target_value is not None else [])]
    low, high = min(scale), max(scale)
    span = (high - low) or abs(high) or 1.0

    def y(value: float) -> float:
        return round(height - pad - (value - low) / span * (height - 2 * pad), 1)

    step = (width - 2 * pad) / max(1, len(values) - 1)
    points = [(round(pad + i * step, 1), y(value)) for i, value in enumerate(values)]
    line = " ".join(f"{x},{py}" for x, py in points)
    dots = "".join(  # a period still under way is a hollow dot
        f'<circle cx="{x}" cy="{py}" r="3" stroke="#1f5fbf" '
        f'fill="{"#fff" if p.partial else "#1f5fbf"}"><title>'
        f"{period_label(p.period, v.period)}: {p.value}{' …' if p.partial else ''}</title></circle>"
        for (x, py), p in zip(points, shown, strict=True)
    )
    target = (
        f'<line x1="{pad}" x2="{width - pad}" y1="{y(v.target_value)}" y2="{y(v.target_value)}" '
        'stroke="#b00020" stroke-dasharray="6 4"/>'
        if v.target_value is not None
        else ""
    )
    return (
        f'<svg class="trend" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(label)}">{target}'
        f'<polyline points="{line}" fill="none" stroke="#1f5fbf" stroke-width="2"/>{dots}</svg>'
    )
