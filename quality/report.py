"""The quality report a department reads in a browser: static HTML, Korean and English.

Per dataset: the latest score and its parts, the failing checks of the latest delivery with
examples, and the error rate over its versions as a small chart. No script, no Python needed.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from hub.core import html
from quality.history import QualityView, quality_view
from quality.score import timeliness_text

if TYPE_CHECKING:
    from hub.registry.spec import FeedSpec


def _page(title: str, body: str) -> str:
    """A report page in the hub's shared HTML shell (narrow: it is read, not browsed)."""
    return html.page(title, body, lang="ko", layout=html.NARROW)


def trend_svg(rates: list[float], width: int = 480, height: int = 120) -> str:
    """The error rate per version as a polyline (0 at the bottom, the worst rate at the top)."""
    if not rates:
        return '<p class="muted">no versions yet / 버전 없음</p>'
    top = max(max(rates), 0.01)
    step = width / max(len(rates) - 1, 1)
    points = " ".join(
        f"{i * step:.1f},{height - r / top * (height - 10):.1f}" for i, r in enumerate(rates)
    )
    return (
        f'<svg width="{width}" height="{height}" role="img" aria-label="error rate trend">'
        f'<rect width="{width}" height="{height}" fill="#fafafa" stroke="#ddd"/>'
        f'<polyline fill="none" stroke="#b00020" stroke-width="2" points="{points}"/>'
        f'<text x="4" y="12" font-size="11">{top:.1%}</text>'
        f'<text x="4" y="{height - 4}" font-size="11">0%</text></svg>'
    )


def dataset_page(spec: FeedSpec, view: QualityView) -> str:
    head = (
        f"<h1>{escape(spec.title.ko)}</h1><p>{escape(spec.title.en)} · "
        f"{escape(spec.department.name.ko)} · <code>{spec.id}</code></p>"
    )
    latest = view.latest
    if latest is None:
        return _page(spec.title.ko, head + "<p>아직 검증 결과가 없습니다 / no results yet</p>")
    s, d = latest.score, latest.detail
    content, timeliness = d.get("content", {}), d.get("timeliness", {})
    missing = d.get("metadata", {}).get("missing") or []
    parts = (
        f'<p class="score">{s.score:.1f} / 100</p><table>'
        "<tr><th>부문 / part</th><th>점수 / score</th><th>근거 / why</th></tr>"
        f"<tr><td>내용 / content</td><td>{s.content:.2f}</td><td>오류율 / error rate "
        f"{content.get('error_rate', 0):.2%} ({content.get('rows_rejected', 0)} of "
        f"{content.get('rows_delivered', 0)} rows), 완전성 / completeness "
        f"{content.get('completeness', 0):.1%}, 유효성 / validity "
        f"{content.get('validity', 0):.1%}</td></tr>"
        f"<tr><td>적시성 / timeliness</td><td>{s.timeliness:.2f}</td><td>"
        f"{escape(timeliness_text(timeliness))}</td></tr>"
        f"<tr><td>메타데이터 / metadata</td><td>{s.metadata_:.2f}</td><td>"
        f"{'complete' if not missing else 'missing: ' + escape(', '.join(missing))}</td></tr>"
        "</table>"
    )
    rows = "".join(
        f'<tr><td class="{"ok" if r.success else "fail"}">{"통과 ok" if r.success else "실패 FAIL"}'
        f"</td><td>{escape(r.check_label)}{' (hard)' if r.hard else ''}</td>"
        f"<td><code>{escape(r.expectation)}</code></td>"
        f"<td>{'' if r.unexpected_count is None else r.unexpected_count}</td>"
        f"<td>{escape(', '.join(map(str, json.loads(r.examples)[:5])))}"
        f"{escape(str(r.observed_value or '')) if r.unexpected_count is None else ''}</td></tr>"
        for r in sorted(view.results + view.freshness, key=lambda r: r.success)
    )
    checks = (
        f"<h2>최근 검증 / latest checks</h2><p class='muted'>{escape(view.results[0].run_id if view.results else '')}</p>"
        "<table><tr><th></th><th>check</th><th>expectation</th><th>rows</th>"
        f"<th>예시 / examples</th></tr>{rows}</table>"
    )
    versions = [v for v in view.history if v.score.kind == "delivery"]
    history = "".join(
        f"<tr><td>{escape(v.score.run_id)}</td><td>{v.snapshot_id or '—'}</td>"
        f"<td>{v.score.score:.1f}</td><td>{v.score.error_rate:.2%}</td></tr>"
        for v in reversed(view.history[-30:])
    )
    trend = (
        "<h2>오류율 추이 / error rate over versions</h2>"
        + trend_svg([v.score.error_rate for v in versions])
        + "<table><tr><th>run</th><th>version</th><th>score</th><th>error rate</th></tr>"
        + history
        + "</table>"
    )
    return _page(spec.title.ko, head + parts + checks + trend)


def write_report(catalog_url: str, specs: list[FeedSpec], out: Path) -> Path:
    """One page per dataset and an index grouped by department; returns the index path."""
    out.mkdir(parents=True, exist_ok=True)
    by_department: dict[str, list[str]] = {}
    for spec in sorted(specs, key=lambda s: (s.department.name.ko, s.id)):
        view = quality_view(catalog_url, spec.id)
        (out / f"{spec.id}.html").write_text(dataset_page(spec, view), encoding="utf-8")
        latest = view.latest
        score = f"{latest.score.score:.1f}" if latest else "—"
        failed = sum(not r.success for r in view.results + view.freshness)
        by_department.setdefault(spec.department.name.ko, []).append(
            f'<tr><td><a href="{spec.id}.html">{escape(spec.title.ko)}</a><br>'
            f'<span class="muted">{escape(spec.title.en)}</span></td><td>{score}</td>'
            f'<td class="{"fail" if failed else "ok"}">{failed}</td></tr>'
        )
    sections = "".join(
        f"<h2>{escape(dept)}</h2><table><tr><th>데이터셋 / dataset</th><th>점수 / score</th>"
        f"<th>실패한 검사 / failed checks</th></tr>{''.join(rows)}</table>"
        for dept, rows in by_department.items()
    )
    index = out / "index.html"
    index.write_text(
        _page("데이터 품질 보고서", "<h1>데이터 품질 보고서 / Data quality report</h1>" + sections),
        encoding="utf-8",
    )
    return index
