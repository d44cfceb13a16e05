"""What a derived product is: its identity and owners (as a feed has), the feeds it reads, the
columns it publishes, and the function that builds it from their trusted tables."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import ConfigDict, Field, model_validator

from hub.core.text import Text
from hub.registry.city import CITY_DATA_TEAM, OPEN_LICENCE
from hub.registry.retention import HOUSE_RETENTION, Retention
from hub.registry.spec import (
    AccessClass,
    Display,
    FeedType,
    FieldSpec,
    Licence,
    Partition,
    Party,
    PublishedDataset,
    Spec,
    fields_schema,
)

if TYPE_CHECKING:
    import pyarrow as pa


class ProductSchedule(Spec):
    """Products have no clock of their own: they rebuild when an input publishes."""

    cron: str


class Product(Spec, PublishedDataset):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    id: str
    title: Text
    description: Text
    inputs: list[str] = Field(min_length=1, description="Feeds whose trusted tables it reads.")
    schema_: list[FieldSpec] = Field(alias="schema", min_length=1)
    partition: Partition
    key: list[str]
    type: FeedType = FeedType.administrative
    access_class: AccessClass = AccessClass.public
    provider: Party = CITY_DATA_TEAM
    department: Party = CITY_DATA_TEAM
    licence: Licence = OPEN_LICENCE
    keywords: list[str] = Field(default_factory=list)
    derived_from: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Column lineage: each product column -> the input columns it is computed "
        "from, as 'feed.column' (reported as OpenLineage column lineage).",
    )
    retention: Retention = HOUSE_RETENTION
    display: Display = Field(default_factory=Display)
    build: Callable[[dict[str, Any]], Any] = Field(exclude=True)

    @model_validator(mode="after")
    def _lineage_names_inputs(self) -> Product:
        names = {f.name for f in self.schema_}
        missing = [n for n in names if n not in self.derived_from]
        if self.derived_from and missing:
            raise ValueError(f"derived_from: no lineage for {', '.join(sorted(missing))}")
        for column, sources in self.derived_from.items():
            if column not in names:
                raise ValueError(f"derived_from: {column!r} is not a column of the product")
            for source in sources:
                feed, _, field = source.partition(".")
                if feed not in self.inputs or not field:
                    raise ValueError(f"derived_from.{column}: {source!r} is not 'input.column'")
        self.display.check(self.schema_)
        return self

    @property
    def schedule(self) -> ProductSchedule:
        return ProductSchedule(cron="on publish of " + ", ".join(self.inputs))

    @property
    def published_fields(self) -> list[FieldSpec]:
        return list(self.schema_)

    @property
    def arrow_schema(self) -> pa.Schema:
        return fields_schema(self.schema_)

    @property
    def tags(self) -> list[str]:
        return ["product", f"department:{self.department.id}", f"access:{self.access_class.value}"]


def field(
    name: str, type_: str, ko: str, en: str, *, required: bool = False, unit: str | None = None
) -> FieldSpec:
    return FieldSpec(
        name=name, type=type_, required=required, unit=unit, description=Text(ko=ko, en=en)
    )
