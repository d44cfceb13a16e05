"""What the data map shows of each dataset, read from the registry and the catalog database.

Metadata only: the map lists every dataset, public or not (the DATA_MAP idea), and never reads
a row of one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from catalog import store
from catalog.models import QualityScore


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

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _iso_duration(cycle) -> str:
    """ISO 8601, as catalogs write an update cycle (PT10M, PT1H, P1D, P30D)."""
    seconds = int(cycle.total_seconds())
    if seconds % 86400 == 0:
        return f"P{seconds // 86400}D"
    if seconds % 3600 == 0:
        return f"PT{seconds // 3600}H"
    return f"PT{seconds // 60}M"


def _columns(spec: Any) -> list[dict[str, Any]]:
    policy = getattr(spec, "privacy", None)
    out = []
    for f in spec.published_fields:
        rule = policy.rule(f.name) if policy is not None else None
        out.append({
            "name": f.name, "type": str(getattr(f.type, "value", f.type)),
            "description_ko": f.description.ko if f.description else None,
            "description_en": f.description.en if f.description else None,
            "classification": rule.class_.value if rule is not None else "not_personal",
            "technique": rule.technique if rule is not None else "keep",
        })  # fmt: skip
    return out


def files_of(catalog_url: str, spec: Any, version: int | None = None) -> list[dict[str, Any]]:
    """The download files of a public dataset version (default: the newest), with checksums."""
    from catalog.store import exports_of

    if not spec.is_public:
        return []
    return [
        {"format": e.format, "version": e.snapshot_id, "rows": e.rows, "bytes": e.bytes,
         "sha256": e.sha256, "media_type": e.media_type,
         "url": f"/api/v1/datasets/{spec.id}/files/{e.format}?version={e.snapshot_id}",
         "created_at": e.created_at.isoformat()}
        for e in exports_of(catalog_url, spec.id, version)
    ]  # fmt: skip


def card(catalog_url: str, spec: Any, kind: str, now: datetime | None = None) -> DatasetCard:
    from quality.freshness import allowance

    versions = store.versions(catalog_url, spec.id)
    scores = store.listing(catalog_url, QualityScore, spec.id)
    last = versions[-1] if versions else None
    fresh = None
    cycle = getattr(spec.schedule, "provision_cycle", None)
    if last is not None and kind == "feed":
        end = last.window_end if last.window_end.tzinfo else last.window_end.replace(tzinfo=UTC)
        fresh = (now or datetime.now(UTC)) - end <= allowance(spec)
    score = scores[-1] if scores else None
    return DatasetCard(
        id=spec.id, kind=kind, title_ko=spec.title.ko, title_en=spec.title.en,
        description_ko=spec.description.ko, description_en=spec.description.en,
        department_ko=spec.department.name.ko, department_en=spec.department.name.en,
        provider_ko=spec.provider.name.ko, type=spec.type.value,
        access_class=spec.access_class.value, licence=spec.licence.title,
        update_cycle=_iso_duration(cycle) if cycle is not None else spec.schedule.cron,
        latest_version=last.snapshot_id if last else None,
        latest_at=last.created_at.isoformat() if last else None,
        rows=last.total_rows if last else None, fresh=fresh,
        quality_score=score.score if score else None,
        quality_parts={"content": score.content, "timeliness": score.timeliness,
                       "metadata": score.metadata_} if score else {},
        columns=_columns(spec), files=files_of(catalog_url, spec),
    )  # fmt: skip


def all_cards(
    catalog_url: str, feeds: dict[str, Any], products: dict[str, Any]
) -> list[DatasetCard]:
    now = datetime.now(UTC)
    cards = [card(catalog_url, s, "feed", now) for s in feeds.values()]
    cards += [card(catalog_url, s, "product", now) for s in products.values()]
    return sorted(cards, key=lambda c: (c.department_ko, c.type, c.id))
