"""The open data map pages (Korean and English): every dataset grouped by department and type,
and a page per dataset with its columns, quality and a drawn lineage graph. Plain HTML + SVG."""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from hub.core import html
from hub.core.downloads import CSV_FORMULA_NOTE
from hub.web.catalog_view import DatasetCard, Lineage
from hub.web.search import SearchQuery, SearchResult

WORDS = {
    "ko": {
        "title": "서울시 데이터 맵",
        "dataset": "데이터셋",
        "access": "공개 구분",
        "cycle": "갱신 주기",
        "fresh": "최신성",
        "quality": "품질 점수",
        "version": "최신 버전",
        "type": "유형",
        "columns": "컬럼",
        "lineage": "데이터 흐름(계보)",
        "yes": "최신",
        "no": "지연",
        "none": "—",
        "metadata_only": "메타데이터만 공개 (원자료는 승인된 기관만)",
        "classification": "개인정보 구분",
        "technique": "처리 기법",
        "other": "English",
        "public": "개방",
        "restricted": "제한",
        "non_public": "비공개",
        "rows": "행 수",
        "department": "부서",
        "downloads": "내려받기",
        "checksum": "SHA-256 체크섬",
        "csv_note": CSV_FORMULA_NOTE["ko"],
        "size": "크기",
        "request": "데이터 제공 신청",
        "request_intro": "찾는 데이터가 없나요? 신청하시면 담당 부서가 검토합니다.",
        "request_title": "필요한 데이터",
        "request_description": "용도와 내용",
        "request_contact": "연락처(선택)",
        "send": "신청",
        "received": "신청이 접수되었습니다. 접수 번호",
        "search": "검색",
        "search_label": "데이터셋 검색 (제목, 설명, 키워드, 컬럼)",
        "results": "검색 결과",
        "found": "건",
        "clear": "조건 지우기",
        "sort": "정렬",
        "relevance": "관련도",
        "name": "이름",
        "updated": "갱신 시각",
        "facets": "찾아보기",
        "licence": "이용 조건",
        "format": "파일 형식",
        "freshness": "최신성",
        "access_class": "공개 구분",
        "update_cycle": "갱신 주기",
        "unknown": "판정 전",
        "nothing": "찾는 데이터셋이 없습니다. 아래에서 제공을 신청할 수 있습니다.",
        "previous": "이전",
        "sensor": "센서 측정",
        "administrative": "행정 자료",
        "spatial": "공간 정보",
        "next": "다음",
    },
    "en": {
        "title": "Seoul data map",
        "dataset": "Dataset",
        "access": "Access",
        "cycle": "Update cycle",
        "fresh": "Freshness",
        "quality": "Quality score",
        "version": "Latest version",
        "type": "Type",
        "columns": "Columns",
        "lineage": "Lineage",
        "yes": "fresh",
        "no": "late",
        "none": "—",
        "metadata_only": "Metadata only (rows for granted agencies)",
        "classification": "PD class",
        "technique": "Technique",
        "other": "한국어",
        "public": "open",
        "restricted": "restricted",
        "non_public": "not public",
        "rows": "Rows",
        "department": "Department",
        "downloads": "Downloads",
        "checksum": "SHA-256 checksum",
        "csv_note": CSV_FORMULA_NOTE["en"],
        "size": "Size",
        "request": "Request data",
        "request_intro": "Missing a dataset? Ask for it and the department in charge reviews it.",
        "request_title": "Data you need",
        "request_description": "What for, and what it should hold",
        "request_contact": "Contact (optional)",
        "send": "Send",
        "received": "Your request was received. Request number",
        "search": "Search",
        "search_label": "Search datasets (titles, descriptions, keywords, columns)",
        "results": "Results",
        "found": "datasets",
        "clear": "Clear all",
        "sort": "Sort by",
        "relevance": "relevance",
        "name": "name",
        "updated": "last update",
        "facets": "Browse",
        "licence": "Licence",
        "format": "File format",
        "freshness": "Freshness",
        "access_class": "Access",
        "update_cycle": "Update cycle",
        "unknown": "not judged",
        "nothing": "No dataset matches. You can ask for one below.",
        "previous": "Previous",
        "sensor": "sensor readings",
        "administrative": "administrative records",
        "spatial": "spatial data",
        "next": "Next",
    },
}
CYCLES = {
    "PT10M": ("10분", "every 10 min"),
    "PT15M": ("15분", "every 15 min"),
    "PT1H": ("매시간", "hourly"),
    "P1D": ("매일", "daily"),
    "P7D": ("매주", "weekly"),
    "P30D": ("매월", "monthly"),
    "P31D": ("매월", "monthly"),
    "P90D": ("분기", "quarterly"),
    "P91D": ("분기", "quarterly"),
    "P92D": ("분기", "quarterly"),
    "P365D": ("매년", "yearly"),
}


def cycle(value: str, lang: str) -> str:
    """An update cycle in words; products, rebuilt when an input publishes, say so."""
    if value in CYCLES:
        return CYCLES[value][0 if lang == "ko" else 1]
    if value.startswith("on publish"):
        return "입력 갱신 시" if lang == "ko" else "when an input publishes"
    return value


def _page(lang: str, title: str, body: str, switch: str) -> str:
    """A page in the hub's HTML shell, with a link to the same page in the other language."""
    other = f'<p style="float:right"><a href="{escape(switch)}">{WORDS[lang]["other"]}</a></p>'
    return html.page(title, other + body, lang=lang)


def _t(card: DatasetCard, lang: str, name: str) -> str:
    """A card's text in the page's language."""
    return getattr(card, f"{name}_{lang}")


def _row(c: DatasetCard, lang: str) -> str:
    w = WORDS[lang]
    return (
        f'<tr><td><a href="/datasets/{c.id}?lang={lang}">{escape(_t(c, lang, "title"))}</a>'
        f'<br><span class="muted">{escape(c.id)}</span></td>'
        f'<td><span class="badge">{w.get(c.access_class, c.access_class)}</span></td>'
        f"<td>{escape(cycle(c.update_cycle, lang))}</td>"
        f"<td>{_fresh(c, w)}</td>"
        f"<td>{'' if c.quality_score is None else f'{c.quality_score:.1f}'}</td>"
        f"<td>{c.latest_version or w['none']}</td><td>{_links(c)}</td></tr>"
    )


def _table(cards: list[DatasetCard], lang: str, caption: str) -> str:
    w = WORDS[lang]
    return (
        f"<table><caption>{escape(caption)}</caption><tr><th scope='col'>{w['dataset']}</th>"
        f"<th scope='col'>{w['access']}</th><th scope='col'>{w['cycle']}</th>"
        f"<th scope='col'>{w['fresh']}</th><th scope='col'>{w['quality']}</th>"
        f"<th scope='col'>{w['version']}</th><th scope='col'>{w['downloads']}</th></tr>"
        + "".join(_row(c, lang) for c in cards)
        + "</table>"
    )


def map_page(found: SearchResult, query: SearchQuery, cards: list[DatasetCard], lang: str) -> str:
    """The data map: the search form and facets, then every dataset grouped by department and
    type, or the datasets a search found in its order; then the request form."""
    w = WORDS[lang]
    searched = query != SearchQuery()
    if searched:
        listing = f"<h2>{w['results']}: {found.total} {w['found']}</h2>" + (
            _table(found.cards, lang, w["results"]) if found.cards else f"<p>{w['nothing']}</p>"
        )
        pages = [
            (w["previous"], query.offset - query.limit) if query.offset > 0 else None,
            (w["next"], query.offset + query.limit)
            if query.offset + query.limit < found.total
            else None,
        ]
        listing += "".join(
            f'<a href="{escape(search_url(query, lang, offset=str(max(0, at))))}">{label}</a> '
            for label, at in filter(None, pages)
        )
    else:
        groups: dict[tuple[str, str], list[DatasetCard]] = {}
        for c in cards:
            groups.setdefault((_t(c, lang, "department"), c.type), []).append(c)
        listing = "".join(
            f"<h2>{escape(department)} · {escape(kind)}</h2>"
            + _table(members, lang, f"{department} · {kind}")
            for (department, kind), members in sorted(groups.items())
        )
    body = (
        f"<h1>{w['title']}</h1>{_search_form(query, lang)}"
        f'<div class="cols"><nav aria-label="{w["facets"]}">{_facets(found, query, cards, lang)}'
        f"</nav><main>{listing}</main></div>" + request_form(lang)
    )
    switch = search_url(query, "en" if lang == "ko" else "ko")
    return _page(lang, w["title"], body, switch)


def search_url(query: SearchQuery, lang: str, **change: str | None) -> str:
    """The stable URL of a search: its parameters in one order, the language last."""
    values = {**query.model_dump(exclude_defaults=True), "offset": None, **change}
    params = [(k, v) for k, v in values.items() if v not in (None, "")]
    return "/?" + urlencode([*params, ("lang", lang)])


def _search_form(query: SearchQuery, lang: str) -> str:
    w = WORDS[lang]
    kept = "".join(
        f'<input type="hidden" name="{name}" value="{escape(value)}">'
        for name, value in query.chosen().items()
    )
    orders = "".join(
        f'<option value="{o}"{" selected" if query.sort == o else ""}>{w[o]}</option>'
        for o in ("relevance", "name", "updated", "quality")
    )
    return (
        f'<form role="search" method="get" action="/"><label for="q">{w["search_label"]}</label>'
        f'<br><input id="q" name="q" type="search" value="{escape(query.q or "")}" size="40" '
        f'maxlength="200"> <label for="sort">{w["sort"]}</label> <select id="sort" name="sort">'
        f'<option value="">—</option>{orders}</select>{kept}'
        f'<input type="hidden" name="lang" value="{lang}"> <button type="submit">{w["search"]}'
        f'</button> <a href="/?lang={lang}">{w["clear"]}</a></form>'
    )


def _facets(found: SearchResult, query: SearchQuery, cards: list[DatasetCard], lang: str) -> str:
    """Each facet's values with their counts; a chosen value links back to the search without
    it, the others to the search narrowed to them."""
    w = WORDS[lang]
    departments = {c.department_ko: _t(c, lang, "department") for c in cards}
    shown = {
        "department": lambda v: departments.get(v, v),
        "access_class": lambda v: w.get(v, v),
        "type": lambda v: w.get(v, v),
        "update_cycle": lambda v: cycle(v, lang),
        "format": str.upper,
        "freshness": lambda v: w.get({"fresh": "yes", "late": "no"}.get(v, v), v),
    }
    out = []
    for name, counts in found.facets.items():
        if not counts:
            continue
        chosen = getattr(query, name)
        current = ' aria-current="true"'
        items = "".join(
            f'<li><a href="{escape(search_url(query, lang, **{name: None if v == chosen else v}))}"'
            f"{current if v == chosen else ''}>"
            f"{'✓ ' if v == chosen else ''}{escape(shown.get(name, str)(v))}</a> "
            f'<span class="muted">({n})</span></li>'
            for v, n in counts
        )
        out.append(f"<h3>{w.get(name, name)}</h3><ul>{items}</ul>")
    return "".join(out)


def _links(c: DatasetCard) -> str:
    """The download links of a map row, each with its checksum as a tooltip."""
    return " ".join(
        f'<a href="{escape(f["url"])}" title="SHA-256 {f["sha256"]}">{f["format"].upper()}</a>'
        for f in c.files
    )


def _files_table(c: DatasetCard, w: dict[str, str]) -> str:
    """A dataset page's downloads: file, size and SHA-256 (nothing without files)."""
    if not c.files:
        return ""
    rows = "".join(
        f'<tr><td><a href="{escape(f["url"])}">{escape(c.id)}.{f["format"]}</a></td>'
        f"<td>{f['bytes']:,} B</td><td><code>{f['sha256']}</code></td></tr>"
        for f in c.files
    )
    note = f"<p>{escape(w['csv_note'])}</p>" if any(f["format"] == "csv" for f in c.files) else ""
    return (
        f"<h2>{w['downloads']}</h2><table><tr><th></th><th>{w['size']}</th>"
        f"<th>{w['checksum']}</th></tr>{rows}</table>{note}"
    )


def request_form(lang: str, dataset_id: str = "") -> str:
    """The citizen data-request form; requests land in the catalog."""
    w = WORDS[lang]
    return (
        f"<h2>{w['request']}</h2><p>{w['request_intro']}</p>"
        f'<form method="post" action="/requests?lang={lang}">'
        f'<input type="hidden" name="dataset_id" value="{escape(dataset_id)}">'
        f'<p><label>{w["request_title"]}<br><input name="title" required maxlength="200" '
        f'size="60"></label></p><p><label>{w["request_description"]}<br>'
        f'<textarea name="description" required maxlength="4000" rows="4" cols="60"></textarea>'
        f'</label></p><p><label>{w["request_contact"]}<br><input name="contact" '
        f'maxlength="200" size="40"></label></p><p><button type="submit">{w["send"]}</button>'
        f"</p></form>"
    )


def request_received(lang: str, number: int) -> str:
    """The answer to the map's request form: the request's number."""
    w = WORDS[lang]
    body = f"<h1>{w['request']}</h1><p>{w['received']}: <b>{number}</b></p>"
    return _page(
        lang,
        w["request"],
        body + f'<p><a href="/?lang={lang}">{w["title"]}</a></p>',
        f"/?lang={'en' if lang == 'ko' else 'ko'}",
    )


def _fresh(c: DatasetCard, w: dict[str, str]) -> str:
    """Fresh or late, coloured; a dash when not judged (products, feeds without a version)."""
    if c.fresh is None:
        return w["none"]
    return f'<span class="{"fresh" if c.fresh else "late"}">{w["yes" if c.fresh else "no"]}</span>'


def dataset_page(c: DatasetCard, lineage_svg: str, lang: str, *, public: bool) -> str:
    """A dataset's page: its metadata, downloads, lineage graph and columns (a non-public one
    says its rows go to granted agencies only)."""
    w = WORDS[lang]
    columns = "".join(
        f"<tr><td><code>{escape(col['name'])}</code></td><td>{escape(col['type'])}</td>"
        f"<td>{escape(col[f'description_{lang}'] or '')}</td>"
        f"<td>{escape(col['classification'])}</td><td>{escape(col['technique'])}</td></tr>"
        for col in c.columns
    )
    parts = ", ".join(f"{k} {v:.2f}" for k, v in c.quality_parts.items())
    restricted = "" if public else f"<p><b>{w['metadata_only']}</b></p>"
    body = (
        f"<h1>{escape(_t(c, lang, 'title'))}</h1><p>{escape(_t(c, lang, 'description'))}</p>"
        f"{restricted}<table>"
        f"<tr><th>{w['department']}</th><td>{escape(_t(c, lang, 'department'))}</td></tr>"
        f"<tr><th>{w['access']}</th><td>{w.get(c.access_class, c.access_class)}</td></tr>"
        f"<tr><th>{w['cycle']}</th><td>{escape(cycle(c.update_cycle, lang))} "
        f"<span class='muted'>{escape(c.update_cycle)}</span></td></tr>"
        f"<tr><th>{w['fresh']}</th><td>{_fresh(c, w)}</td></tr>"
        f"<tr><th>{w['quality']}</th><td>{'' if c.quality_score is None else c.quality_score}"
        f" <span class='muted'>{escape(parts)}</span></td></tr>"
        f"<tr><th>{w['version']}</th><td>{c.latest_version or w['none']} "
        f"<span class='muted'>{escape(c.latest_at or '')}</span></td></tr>"
        f"<tr><th>{w['rows']}</th><td>{c.rows if c.rows is not None else w['none']}</td></tr>"
        f"</table>{_files_table(c, w)}<h2>{w['lineage']}</h2>{lineage_svg}"
        f"<h2>{w['columns']}</h2><table><tr><th></th><th>{w['type']}</th><th></th>"
        f"<th>{w['classification']}</th><th>{w['technique']}</th></tr>{columns}</table>"
    )
    return _page(
        lang, _t(c, lang, "title"), body, f"/datasets/{c.id}?lang={'en' if lang == 'ko' else 'ko'}"
    )


def lineage_svg(lineage: Lineage) -> str:
    """Datasets in columns by distance (sources left, the dataset in the middle, what is
    computed from it right), with an arrow for each input -> output edge."""
    center = lineage.centre
    layers: dict[int, list[str]] = {0: [center]}
    for name, depth in lineage.upstream.items():
        layers.setdefault(-depth, []).append(name)
    for name, depth in lineage.downstream.items():
        layers.setdefault(depth, []).append(name)
    order = sorted(layers)
    box_w, box_h, gap_x, gap_y = 220, 34, 70, 14
    pos: dict[str, tuple[int, int]] = {}
    for col, layer in enumerate(order):
        for row, name in enumerate(sorted(layers[layer])):
            pos[name] = (10 + col * (box_w + gap_x), 10 + row * (box_h + gap_y))
    width = 20 + len(order) * (box_w + gap_x)
    height = 20 + max(len(v) for v in layers.values()) * (box_h + gap_y)
    lines = []
    for src, dst in lineage.edges:
        if src in pos and dst in pos:
            (x1, y1), (x2, y2) = pos[src], pos[dst]
            lines.append(
                f'<line x1="{x1 + box_w}" y1="{y1 + box_h // 2}" x2="{x2}" y2="{y2 + box_h // 2}" '
                'stroke="#888" marker-end="url(#arrow)"/>'
            )
    boxes = []
    for name, (x, y) in pos.items():
        fill = "#ffe9a8" if name == center else "#eef3ff"
        boxes.append(
            f'<g><title>{escape(name)}</title><rect x="{x}" y="{y}" width="{box_w}" '
            f'height="{box_h}" rx="6" fill="{fill}" stroke="#567"/><text x="{x + 8}" '
            f'y="{y + 21}" font-size="12">{escape(lineage.label(name))[:34]}</text></g>'
        )
    return (
        f'<svg width="{width}" height="{height}" role="img" aria-label="lineage graph">'
        '<defs><marker id="arrow" markerWidth="8" markerHeight="8" refX="8" refY="4" '
        'orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#888"/></marker></defs>'
        + "".join(lines)
        + "".join(boxes)
        + "</svg>"
    )
