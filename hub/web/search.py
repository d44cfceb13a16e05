"""Finding datasets on the data map: text search in Korean and English over titles,
descriptions, keywords and column names, facets with counts, and a stable order.

Matching is by substring of NFKC-normalised, case-folded text, which is what n-gram matching
amounts to for Korean compounds: "미세먼지" finds "초미세먼지" and a dataset whose keywords say
미세먼지 (the 대기질 ones), and two-syllable words such as 교통 or 보육 match too, which a
trigram index (SQLite FTS5 ``trigram``) cannot find. Every term must match somewhere; a match
in the title or keywords counts more than one in a column or the description. The index is
the cards themselves: a city has hundreds to a few thousand datasets, searched in
milliseconds (``hub bench --only search``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hub.web.catalog_view import DatasetCard

Sort = Literal["relevance", "name", "updated", "quality"]

#: facet name -> the values a card has for it (a card may have several formats)
FACETS: dict[str, Callable[[DatasetCard], list[str]]] = {
    "department": lambda c: [c.department_ko],
    "type": lambda c: [c.type],
    "access_class": lambda c: [c.access_class],
    "update_cycle": lambda c: [
        "on publish" if c.update_cycle.startswith("on publish") else c.update_cycle
    ],
    "licence": lambda c: [c.licence],
    "format": lambda c: sorted({f["format"] for f in c.files}),
    "district": lambda c: c.districts or ["seoul"],  # "seoul": the whole city
    "freshness": lambda c: ["unknown" if c.fresh is None else "fresh" if c.fresh else "late"],
}

#: Words of a search that count; more are ignored.
MAX_TERMS = 8
#: How much a term found in each part of a card counts.
WEIGHTS = (("title", 4.0), ("keywords", 3.0), ("columns", 1.5), ("description", 1.0))


class SearchQuery(BaseModel):
    """A search as its URL says it: the text, one chosen value per facet, the order."""

    model_config = ConfigDict(extra="forbid")  # a misspelt facet is an error, not everything

    q: str | None = Field(default=None, max_length=200, description="Words, Korean or English.")
    department: str | None = None
    type: str | None = None
    access_class: str | None = None
    update_cycle: str | None = None
    licence: str | None = None
    format: str | None = None
    district: str | None = Field(
        default=None, description="A gu code, or 'seoul' for datasets of the whole city."
    )
    freshness: Literal["fresh", "late", "unknown"] | None = None
    sort: Sort | None = Field(default=None, description="Default: relevance with words, else name.")
    limit: int = Field(default=50, ge=1, le=500, description="Datasets per page.")
    offset: int = Field(default=0, ge=0, le=100_000)

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        """A form's empty field (no words, no order chosen) means nothing chosen."""
        return None if value == "" else value

    def chosen(self) -> dict[str, str]:
        return {name: value for name in FACETS if (value := getattr(self, name)) is not None}

    def terms(self) -> list[str]:
        """The distinct words, at most MAX_TERMS of them (each is a scan of every card)."""
        return list(dict.fromkeys(fold(self.q or "").split()))[:MAX_TERMS]


def fold(text: str) -> str:
    """Text as search compares it: NFKC (full-width forms, compatibility jamo) and case-folded."""
    return unicodedata.normalize("NFKC", text).casefold()


@dataclass
class Indexed:
    """A card with its searchable text, folded once."""

    card: DatasetCard
    parts: dict[str, str]
    values: dict[str, list[str]]

    @classmethod
    def of(cls, card: DatasetCard) -> Indexed:
        columns = " ".join(
            f"{c['name']} {c.get('description_ko') or ''} {c.get('description_en') or ''}"
            for c in card.columns
        )
        parts = {
            "title": f"{card.id} {card.title_ko} {card.title_en}",
            "keywords": " ".join(card.keywords),
            "columns": columns,
            "description": f"{card.description_ko} {card.description_en} {card.department_ko} "
            f"{card.department_en} {card.provider_ko}",
        }
        values = {name: get(card) for name, get in FACETS.items()}
        return cls(card, {k: fold(v) for k, v in parts.items()}, values)

    def score(self, terms: list[str]) -> float:
        """The weight of the parts each term is found in; 0 when a term is found nowhere."""
        total = 0.0
        for term in terms:
            found = sum(w for part, w in WEIGHTS if term in self.parts[part])
            if not found:
                return 0.0
            total += found + (2.0 if self.parts["title"].startswith(term) else 0.0)
        return total


@dataclass
class SearchResult:
    total: int
    cards: list[DatasetCard]
    #: facet -> [(value, datasets with it among those the other choices leave)]
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


def index(cards: Iterable[DatasetCard]) -> list[Indexed]:
    return [Indexed.of(c) for c in cards]


def search(indexed: list[Indexed], query: SearchQuery) -> SearchResult:
    """The datasets matching ``query`` in its order, and each facet's counts: a facet counts
    what the words and the *other* facets' choices leave, so choosing one value still shows
    how many the others would give."""
    terms, chosen = query.terms(), query.chosen()
    scored = [(d, d.score(terms) if terms else 0.0) for d in indexed]
    matching = [(d, s) for d, s in scored if s > 0 or not terms]

    def keeps(d: Indexed, skip: str | None = None) -> bool:
        return all(v in d.values[n] for n, v in chosen.items() if n != skip)

    facets = {}
    for name in FACETS:
        counts: dict[str, int] = {}
        for d, _ in matching:
            if keeps(d, name):
                for value in d.values[name]:
                    counts[value] = counts.get(value, 0) + 1
        facets[name] = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    kept = [(d, s) for d, s in matching if keeps(d)]
    order = query.sort or ("relevance" if terms else "name")
    key: Callable[[tuple[Indexed, float]], tuple] = {
        "relevance": lambda ds: (-ds[1], ds[0].card.id),
        "name": lambda ds: (ds[0].card.id,),
        "updated": lambda ds: (
            ds[0].card.latest_at is None,
            -_instant(ds[0].card.latest_at),
            ds[0].card.id,
        ),
        "quality": lambda ds: (
            ds[0].card.quality_score is None,
            -(ds[0].card.quality_score or 0),
            ds[0].card.id,
        ),
    }[order]
    kept.sort(key=key)
    page = kept[query.offset : query.offset + query.limit]
    return SearchResult(len(kept), [d.card for d, _ in page], facets)


def _instant(text: str | None) -> float:
    """An ISO time as seconds (0 when there is none), to sort newest first."""
    return datetime.fromisoformat(text).timestamp() if text else 0.0
