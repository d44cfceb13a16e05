"""The open data map's pages (Korean and English), rendered from the templates in
``hub/web/templates``: the map with its search and facets, a page per dataset (first rows,
chart, map, downloads, lineage, columns), the spatial map and the request form's answer.

What is here prepares what the templates show; the markup and the words are theirs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from markupsafe import Markup

from hub.core.downloads import CSV_FORMULA_NOTE
from hub.core.settings import CITY_TIMEZONE
from hub.registry.spec import DatasetSpec
from hub.web.catalog_view import DatasetCard, Lineage
from hub.web.districts import names
from hub.web.records import FirstRows
from hub.web.search import SearchQuery, SearchResult
from hub.web.templating import N_, gettext, render

#: Words for the catalog's codes, translated where shown.
ACCESS = {"public": N_("open"), "restricted": N_("restricted"), "non-public": N_("not public")}
TYPES = {
    "sensor": N_("sensor readings"),
    "administrative": N_("administrative records"),
    "spatial": N_("spatial data"),
}
FRESHNESS = {"fresh": N_("fresh"), "late": N_("late"), "unknown": N_("not judged")}
FACET_TITLES = {
    "department": N_("Department"),
    "type": N_("Type"),
    "access_class": N_("Access"),
    "update_cycle": N_("Update cycle"),
    "licence": N_("Licence"),
    "format": N_("File format"),
    "district": N_("District"),
    "freshness": N_("Freshness"),
}
ORDERS = [
    ("relevance", N_("relevance")),
    ("name", N_("name")),
    ("updated", N_("last update")),
    ("quality", N_("Quality score")),
]
CYCLES = {
    "PT10M": N_("every 10 min"),
    "PT15M": N_("every 15 min"),
    "PT1H": N_("hourly"),
    "P1D": N_("daily"),
    "P7D": N_("weekly"),
    "P30D": N_("monthly"),
    "P31D": N_("monthly"),
    "P90D": N_("quarterly"),
    "P91D": N_("quarterly"),
    "P92D": N_("quarterly"),
    "P365D": N_("yearly"),
}
KST = ZoneInfo(CITY_TIMEZONE)
#: Rows a dataset page previews; what the records API reads for its chart and map.
PREVIEW_ROWS = 10
DRAWN_ROWS = 10_000
#: How far back from the newest value the chart and the map read (timestamps, dates).
CHART_READINGS, CHART_DAYS = timedelta(days=7), timedelta(days=366)
MAP_READINGS, MAP_DAYS = timedelta(days=1), timedelta(days=62)


def cycle(value: str, lang: str) -> str:
    """An update cycle in words; products, rebuilt when an input publishes, say so."""
    if value in CYCLES:
        return gettext(lang, CYCLES[value])
    if value.startswith("on publish"):
        return gettext(lang, "when an input publishes")
    return value


def _common(lang: str, switch: str, title: str) -> dict[str, Any]:
    """What every portal page's layout needs."""
    return {
        "title": title,
        "switch": switch,
        "cycle": lambda value: cycle(value, lang),
        "ACCESS": ACCESS,
    }


def search_url(query: SearchQuery, lang: str, **change: str | None) -> str:
    """The stable URL of a search: its parameters in one order, the language last."""
    values = {**query.model_dump(exclude_defaults=True), "offset": None, **change}
    params = [(k, v) for k, v in values.items() if v not in (None, "")]
    return "/?" + urlencode([*params, ("lang", lang)])


def _facets(
    found: SearchResult, query: SearchQuery, cards: list[DatasetCard], lang: str
) -> list[dict[str, Any]]:
    """Each facet's values with their counts; a chosen value links back to the search without
    it, the others to the search narrowed to them."""
    departments = {c.department_ko: getattr(c, f"department_{lang}") for c in cards}
    words = {"access_class": ACCESS, "type": TYPES, "freshness": FRESHNESS}
    shown = {
        "department": lambda v: departments.get(v, v),
        "update_cycle": lambda v: cycle(v, lang),
        "format": str.upper,
        "district": lambda v: district_name(v, lang),
        **{
            name: (lambda v, table=table: gettext(lang, table.get(v, v)))
            for name, table in words.items()
        },
    }
    out = []
    for name, counts in found.facets.items():
        if not counts:
            continue
        chosen = getattr(query, name)
        values = [
            {
                "url": search_url(query, lang, **{name: None if v == chosen else v}),
                "label": shown.get(name, str)(v),
                "count": n,
                "chosen": v == chosen,
            }
            for v, n in counts
        ]
        out.append({"title": FACET_TITLES.get(name, name), "values": values})
    return out


def map_page(found: SearchResult, query: SearchQuery, cards: list[DatasetCard], lang: str) -> str:
    """The data map: the search form and facets, then every dataset grouped by department and
    type, or the datasets a search found in its order; then the request form."""
    searched = query != SearchQuery()
    pages = []
    if searched and query.offset > 0:
        back = str(max(0, query.offset - query.limit))
        pages.append((N_("Previous"), search_url(query, lang, offset=back)))
    if searched and query.offset + query.limit < found.total:
        pages.append((N_("Next"), search_url(query, lang, offset=str(query.offset + query.limit))))
    groups: dict[tuple[str, str], list[DatasetCard]] = {}
    for c in cards:
        department = getattr(c, f"department_{lang}")
        groups.setdefault((department, gettext(lang, TYPES.get(c.type, c.type))), []).append(c)
    return render(
        "map.html",
        lang,
        **_common(
            lang, search_url(query, "en" if lang == "ko" else "ko"), gettext(lang, "Seoul data map")
        ),
        query=query,
        found=found,
        searched=searched,
        pages=pages,
        groups=sorted(groups.items()),
        facets=_facets(found, query, cards, lang),
        orders=ORDERS,
    )


def request_received(lang: str, number: int) -> str:
    """The answer to the map's request form: the request's number."""
    other = "en" if lang == "ko" else "ko"
    return render(
        "request_received.html",
        lang,
        **_common(lang, f"/?lang={other}", gettext(lang, "Request data")),
        number=number,
    )


@dataclass
class Filters:
    """The preview's filters: one column equal to a value, and days of the city's calendar on
    the time column (both days included)."""

    column: str | None = None
    value: str | None = None
    start: date | None = None
    end: date | None = None

    @property
    def active(self) -> bool:
        return bool(self.equals() or self.start or self.end)

    def equals(self) -> dict[str, str]:
        return {self.column: self.value} if self.column and self.value else {}

    def instants(self) -> tuple[datetime | None, datetime | None]:
        """The days as the records API's range: from the first day's start to the start of
        the day after the last (its end is exclusive), in KST."""
        start = None if self.start is None else datetime.combine(self.start, time(), KST)
        end = None
        if self.end is not None:
            end = datetime.combine(self.end + timedelta(days=1), time(), KST)
        return start, end

    def api_params(self) -> dict[str, str]:
        """The records API's query parameters that ask for the same rows."""
        start, end = self.instants()
        bounds = {
            name: moment.isoformat() for name, moment in (("from", start), ("to", end)) if moment
        }
        return {**self.equals(), **bounds}

    def page_params(self) -> dict[str, str]:
        """The page's own query parameters for these filters."""
        named = {
            "filter_column": self.column if self.value else None,
            "filter_value": self.value if self.column else None,
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
        }
        return {k: v for k, v in named.items() if v}


@dataclass
class Preview:
    """A dataset's first rows as its page shows them (values as text), the filters that chose
    them, or why there are none."""

    version: int | None
    columns: list[dict[str, str | None]]
    rows: list[list[str]] = field(default_factory=list)
    filters: Filters = field(default_factory=Filters)
    filterable: list[str] = field(default_factory=list)
    time: str | None = None
    problem: str | None = None


def preview_of(spec: DatasetSpec, read: FirstRows, filters: Filters, lang: str) -> Preview:
    """Rows as the page's table shows them, each column with its description and unit."""
    fields = spec.published_fields
    preview = Preview(
        read.version,
        [],
        filters=filters,
        filterable=read.columns,  # what is served: the open release may withhold some
        time=spec.partition.column,
        problem=read.problem,
    )
    if read.data is None:
        return preview
    named = {f.name: f for f in fields}
    for name in read.data.column_names:
        f = named.get(name)
        described = getattr(f.description, lang) if f is not None and f.description else None
        preview.columns.append(
            {"name": name, "description": described, "unit": f.unit if f else None}
        )
    preview.rows = [
        ["" if v is None else str(v) for v in row.values()] for row in read.data.to_pylist()
    ]
    return preview


def _label(spec: DatasetSpec, column: str, lang: str) -> str:
    """A column's description (or name) in ``lang``, with its unit."""
    f = next(f for f in spec.published_fields if f.name == column)
    text = getattr(f.description, lang) if f.description else column
    return f"{text} ({f.unit})" if f.unit else text


def records_path(dataset_id: str, **params: Any) -> str:
    """The records API's URL for ``params`` (the page's developer link, the chart, the map)."""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"/api/v1/datasets/{dataset_id}/records" + (f"?{query}" if query else "")


def since(newest: datetime | date | None, readings: timedelta, days: timedelta) -> str | None:
    """Where a drawing starts: this long before the newest value of the time column
    (``readings`` for a timestamp column, ``days`` for a date one), as the records API's
    ``from``; None when nothing is published."""
    if newest is None:
        return None
    if isinstance(newest, datetime):
        return (newest - readings).isoformat()
    return datetime.combine(newest - days, time(), KST).isoformat()


def chart_of(
    spec: DatasetSpec, lang: str, newest: datetime | date | None = None
) -> dict[str, Any] | None:
    """What the chart script draws: the declared columns over the time column, for the last
    week of readings (the last year of days) before the newest."""
    display = spec.display
    if not display.chart or not spec.is_public:
        return None
    column = spec.partition.column
    start = since(newest, CHART_READINGS, CHART_DAYS)
    return {
        "src": records_path(
            spec.id, columns=",".join([column, *display.chart]), limit=DRAWN_ROWS, **{"from": start}
        ),
        "since": (start or "")[:10],
        "time": column,
        "values": display.chart,
        "labels": [_label(spec, c, lang) for c in display.chart],
        "by": display.chart_by,
    }


def layer_of(
    spec: DatasetSpec, lang: str, tiles: str | None, newest: datetime | date | None = None
) -> dict[str, Any] | None:
    """What the map script draws: the dataset's places coloured by their newest value, read
    from the last day of readings (the last two months of days) before the newest."""
    layer = spec.display.map
    if layer is None or not spec.is_public:
        return None
    column = spec.partition.column
    columns = list(dict.fromkeys([*layer.where, layer.value, column]))
    start = since(newest, MAP_READINGS, MAP_DAYS)
    return {
        "src": records_path(
            spec.id, columns=",".join(columns), limit=DRAWN_ROWS, **{"from": start}
        ),
        "kind": "gu" if layer.gu else "points",
        "value": layer.value,
        "where": layer.where,
        "time": column,
        "label": _label(spec, layer.value, lang),
        "tiles": tiles,
    }


def api_examples(base: str, spec: DatasetSpec, filters: Filters) -> dict[str, Any]:
    """The records API link and copy-ready calls of it (curl, Python, R), with the preview's
    filters."""
    path = records_path(spec.id, **filters.api_params(), limit=100)
    url = base.rstrip("/") + path
    if spec.is_public:
        curl = f"curl '{url}'"
        python = f'import httpx\n\nrows = httpx.get("{url}").json()["items"]'
        r = f'library(jsonlite)\n\nrows <- fromJSON("{url}")$items'
    else:
        url += "&purpose=YOUR_PURPOSE"
        curl = f"curl -H 'X-API-Key: $HUB_API_KEY' '{url}'"
        python = (
            "import os\nimport httpx\n\n"
            f'rows = httpx.get("{url}",\n'
            '                 headers={"X-API-Key": os.environ["HUB_API_KEY"]}).json()["items"]'
        )
        r = (
            "library(httr2)\n\n"
            f'rows <- request("{url}") |>\n'
            '  req_headers("X-API-Key" = Sys.getenv("HUB_API_KEY")) |>\n'
            "  req_perform() |> resp_body_json(simplifyVector = TRUE)\nrows <- rows$items"
        )
    return {"path": path, "examples": [("curl", curl), ("Python", python), ("R", r)]}


def dataset_page(
    c: DatasetCard,
    spec: DatasetSpec,
    lineage: Markup,
    lang: str,
    *,
    base: str,
    preview: Preview | None,
    filters: Filters,
    tiles: str | None = None,
    newest: datetime | date | None = None,
) -> str:
    """A dataset's page: its metadata, first rows, chart and map (public ones), downloads, the
    records API for developers, its lineage graph and columns."""
    other = "en" if lang == "ko" else "ko"
    switch = f"/datasets/{c.id}?" + urlencode({**filters.page_params(), "lang": other})
    return render(
        "dataset.html",
        lang,
        **_common(lang, switch, getattr(c, f"title_{lang}")),
        c=c,
        public=spec.is_public,
        lineage=lineage,
        preview=preview,
        chart=chart_of(spec, lang, newest),
        layer=layer_of(spec, lang, tiles, newest),
        api=api_examples(base, spec, filters),
        csv_note=CSV_FORMULA_NOTE[lang],
        drawn=DRAWN_ROWS,
    )


def spatial_map_page(
    specs: list[DatasetSpec],
    chosen: DatasetSpec | None,
    lang: str,
    tiles: str | None,
    newest: datetime | date | None = None,
) -> str:
    """The map of the open datasets with places: a list to choose from and the chosen one."""
    other = "en" if lang == "ko" else "ko"
    at = f"&dataset={chosen.id}" if chosen else ""
    return render(
        "spatial_map.html",
        lang,
        **_common(lang, f"/map?lang={other}{at}", gettext(lang, "Spatial data map")),
        layers=[(s.id, getattr(s.title, lang)) for s in specs],
        chosen=chosen.id if chosen else None,
        layer=layer_of(chosen, lang, tiles, newest) if chosen else None,
    )


def district_name(code: str, lang: str) -> str:
    """A gu's name from the bundled boundaries; 'all of Seoul' for the city-wide value."""
    if code == "seoul":
        return gettext(lang, "All of Seoul")
    return names(lang).get(code, code)


def lineage_svg(lineage: Lineage, lang: str) -> Markup:
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
    lines = [
        (pos[s][0] + box_w, pos[s][1] + box_h // 2, pos[d][0], pos[d][1] + box_h // 2)
        for s, d in lineage.edges
        if s in pos and d in pos
    ]
    graph = {
        "width": 20 + len(order) * (box_w + gap_x),
        "height": 20 + max(len(v) for v in layers.values()) * (box_h + gap_y),
        "box_w": box_w,
        "box_h": box_h,
        "lines": lines,
        "boxes": [(n, lineage.label(n), x, y, n == center) for n, (x, y) in pos.items()],
    }
    return Markup(render("_lineage.html", lang, g=graph))
