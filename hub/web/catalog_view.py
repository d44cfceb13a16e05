"""What the data map shows of each dataset, read from the registry and the catalog database:
its card (metadata, quality, download files) and its lineage.

Metadata only: the map lists every dataset, public or not (the DATA_MAP idea), and never reads
a row of one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from catalog import entries
from catalog import lineage as ol
from catalog.entries import exports_of
from catalog.models import QualityScore
from hub.core.settings import HubSettings
from hub.core.time import utc_now
from hub.registry.schedule import iso_duration
from hub.registry.spec import DatasetSpec
from quality.freshness import NeverPublished, judge


# One dataset as the map and /api/v1/datasets show it. (No docstring: it would become the
# schema's description in /openapi.json.)
@dataclass
class DatasetCard:
    id: str
    kind: str  # feed | product
    title_ko: str
    title_en: str
    description_ko: str
    description_en: str
    department_ko: str
    department_en: str
    provider_ko: str
    type: str
    access_class: str
    licence: str
    update_cycle: str
    latest_version: int | None
    latest_at: str | None
    rows: int | None
    fresh: bool | None
    quality_score: float | None
    quality_parts: dict[str, float] = field(default_factory=dict)
    columns: list[dict[str, Any]] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)  # the citizen downloads
    keywords: list[str] = field(default_factory=list)
    districts: list[str] = field(default_factory=list)  # gu codes; none: the whole city

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _columns(spec: DatasetSpec) -> list[dict[str, Any]]:
    """The published columns, with their description and how personal data in them is kept."""
    policy = getattr(spec, "privacy", None)
    out = []
    for f in spec.published_fields:
        rule = policy.rule(f.name) if policy is not None else None
        out.append(
            {
                "name": f.name,
                "type": str(getattr(f.type, "value", f.type)),
                "description_ko": f.description.ko if f.description else None,
                "description_en": f.description.en if f.description else None,
                "unit": f.unit,
                "classification": rule.class_.value if rule is not None else "not_personal",
                "technique": rule.technique if rule is not None else "keep",
            }
        )
    return out


def files_of(
    catalog_url: str, spec: DatasetSpec, version: int | None = None
) -> list[dict[str, Any]]:
    """The download files of a public dataset version (default: the newest), with checksums."""
    if not spec.is_public:
        return []
    return [
        {
            "format": e.format,
            "version": e.snapshot_id,
            "rows": e.rows,
            "bytes": e.bytes,
            "sha256": e.sha256,
            "media_type": e.media_type,
            "url": f"/api/v1/datasets/{spec.id}/files/{e.format}?version={e.snapshot_id}",
            "created_at": e.created_at.isoformat(),
        }
        for e in exports_of(catalog_url, spec.id, version)
    ]


def card(catalog_url: str, spec: Any, kind: str, now: datetime | None = None) -> DatasetCard:
    """A dataset's card (a feed's or a product's spec: both have a schedule); a feed's
    freshness is judged at ``now`` (default: the current time).

    What it reads from the catalog, ``catalog.entries.change_marker`` must see change (the
    map rebuilds its cards only when that marker moves): keep the two in step."""
    versions = entries.versions(catalog_url, spec.id)
    scores = entries.listing(catalog_url, QualityScore, spec.id)
    last = versions[-1] if versions else None
    fresh = None
    cycle = getattr(spec.schedule, "provision_cycle", None)
    if kind == "feed":
        try:
            fresh = judge(catalog_url, spec.id, spec.schedule, now or utc_now()).fresh
        except NeverPublished:
            fresh = None
    score = scores[-1] if scores else None
    return DatasetCard(
        id=spec.id,
        kind=kind,
        title_ko=spec.title.ko,
        title_en=spec.title.en,
        description_ko=spec.description.ko,
        description_en=spec.description.en,
        department_ko=spec.department.name.ko,
        department_en=spec.department.name.en,
        provider_ko=spec.provider.name.ko,
        type=spec.type.value,
        access_class=spec.access_class.value,
        licence=spec.licence.title,
        update_cycle=iso_duration(cycle) if cycle is not None else spec.schedule.cron,
        latest_version=last.snapshot_id if last else None,
        latest_at=last.created_at.isoformat() if last else None,
        rows=last.total_rows if last else None,
        fresh=fresh,
        quality_score=score.score if score else None,
        quality_parts={
            "content": score.content,
            "timeliness": score.timeliness,
            "metadata": score.metadata_,
        }
        if score
        else {},
        columns=_columns(spec),
        files=files_of(catalog_url, spec),
        keywords=list(spec.keywords),
        districts=list(spec.display.districts),
    )


def all_cards(
    catalog_url: str, feeds: dict[str, Any], products: dict[str, Any]
) -> list[DatasetCard]:
    """Every dataset's card, by department, type and id (freshness judged at one instant)."""
    now = utc_now()
    cards = [card(catalog_url, s, "feed", now) for s in feeds.values()]
    cards += [card(catalog_url, s, "product", now) for s in products.values()]
    return sorted(cards, key=lambda c: (c.department_ko, c.type, c.id))


@dataclass
class Lineage:
    """The datasets a dataset is computed from and computed into, as names in the lake."""

    centre: str
    upstream: dict[str, int]  # name -> hops
    downstream: dict[str, int]
    edges: list[list[str]]  # [input, output]
    zones: dict[str, str]  # bucket URL -> zone, to label names

    def label(self, name: str) -> str:
        """``zone.dataset`` for a lake name (``s3://bucket/dataset``); others as they are."""
        base, _, dataset = name.rpartition("/")
        return f"{self.zones[base]}.{dataset}" if base in self.zones else name

    def as_dict(self) -> dict[str, Any]:
        """What ``/api/v1/datasets/{id}/lineage`` answers."""
        return {
            "centre": self.centre,
            "upstream": self.upstream,
            "downstream": self.downstream,
            "edges": self.edges,
        }


def lineage(settings: HubSettings, dataset_id: str) -> Lineage:
    """A dataset's lineage around its trusted table, from the OpenLineage events recorded."""
    url = settings.catalog_url
    centre = f"s3://{settings.bucket('trusted')}/{dataset_id}"
    up, down = ol.upstream(url, centre), ol.downstream(url, centre)
    edges = [list(e) for e in ol.edges_among(url, {centre, *up, *down})]
    zones = {f"s3://{bucket}": zone for zone, bucket in settings.buckets.items()}
    return Lineage(centre, up, down, edges, zones)
