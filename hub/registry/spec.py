"""Typed feed specifications: what a feed is, who owns it, how it arrives and what it holds.

A ``FeedSpec`` is immutable and validated when its YAML loads; pipeline steps receive a spec
and never read YAML themselves.
"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from functools import cache
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from connectors.kinds import config_model
from hub.core.settings import CITY_TIMEZONE
from hub.core.text import Text
from hub.core.types import ColumnType, arrow_type
from hub.registry.retention import HOUSE_RETENTION, Retention
from privacy.policy import Drop, PrivacyPolicy
from quality.checks import Check, Gate
from quality.standards import load_standard

if TYPE_CHECKING:
    import pyarrow as pa

_ID = re.compile(r"^[a-z][a-z0-9_]{1,62}$")


class Spec(BaseModel):
    """Base of every registry model: immutable, and unknown keys are an error, not a silent drop."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Party(Spec):
    """An agency or department, with a stable id for the catalog."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: Text
    contact: str | None = None


class FeedType(StrEnum):
    administrative = "administrative"
    spatial = "spatial"
    sensor = "sensor"


class AccessClass(StrEnum):
    public = "public"
    restricted = "restricted"
    non_public = "non-public"


class Licence(Spec):
    id: str
    title: str
    url: str


class Schedule(Spec):
    """When a feed runs, in the city's time zone; each run covers one cron interval."""

    cron: str
    timezone: str = CITY_TIMEZONE
    provision_cycle: timedelta = Field(description="How often the provider publishes new data.")
    grace: timedelta | None = Field(
        default=None,
        description="How long after a window closes its delivery may still arrive before the "
        "feed counts as stale; one window (the schedule's shortest interval) if unset.",
    )

    def grace_period(self) -> timedelta:
        """The declared grace, else one window."""
        return self.grace if self.grace is not None else self.shortest_window()

    def shortest_window(self) -> timedelta:
        """The shortest interval between two runs over a year of the schedule."""
        from datetime import datetime
        from zoneinfo import ZoneInfo

        from croniter import croniter

        runs = croniter(self.cron, datetime(2026, 1, 1, tzinfo=ZoneInfo(self.timezone)))
        times: list[datetime] = [runs.get_next(datetime) for _ in range(13)]
        return min(b - a for a, b in pairwise(times))

    @field_validator("cron")
    @classmethod
    def _five_fields(cls, value: str) -> str:
        if len(value.split()) != 5:
            raise ValueError(f"a cron expression has 5 fields, got {value!r}")
        return value


#: The length of each truncation unit, at its shortest.
TRUNCATE_SECONDS = {"hour": 3600, "day": 86_400, "month": 28 * 86_400}


class FieldSpec(Spec):
    """One column of the feed's declared schema."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    type: ColumnType
    required: bool = False
    source: str | None = Field(
        default=None, description="Field name in the delivery, if different."
    )
    aliases: list[str] = Field(
        default_factory=list,
        description="Other names the provider has used for this field (e.g. after a renaming); "
        "a delivery may carry any one of them instead of the source name.",
    )
    format: str | None = Field(default=None, description="strptime format for date/timestamp text.")
    unit: str | None = None
    description: Text | None = None

    @property
    def source_name(self) -> str:
        return self.source or self.name

    @property
    def source_names(self) -> list[str]:
        """Every name the field may arrive under: the source name first, then its aliases."""
        return list(dict.fromkeys([self.source_name, *self.aliases]))

    @property
    def arrow_type(self) -> pa.DataType:
        return arrow_type(self.type)


class Partition(Spec):
    """How the published table is partitioned; each run replaces its own window in it."""

    column: str
    transform: Literal["identity", "hour", "day", "month", "year"] = "day"


class Delivery(Spec):
    """How the bytes arrive: a connector kind and its options, checked by that kind's model."""

    connector: str
    options: dict[str, Any] = Field(default_factory=dict)
    _config: BaseModel | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _check_options(self) -> Delivery:
        self._config = config_model(self.connector).model_validate(self.options)
        return self

    @property
    def config(self) -> Any:
        return self._config


NUMERIC = {ColumnType.int32, ColumnType.int64, ColumnType.float32, ColumnType.float64}


class MapLayer(Spec):
    """The dataset's places on the portal's map: districts by their gu code, or points by
    longitude and latitude, coloured by one numeric column."""

    value: str = Field(description="Numeric column that colours each place (its newest value).")
    gu: str | None = Field(default=None, description="Column holding the 5-digit gu code.")
    points: tuple[str, str] | None = Field(
        default=None, description="Longitude and latitude columns (WGS84)."
    )

    @model_validator(mode="after")
    def _one_kind(self) -> MapLayer:
        if (self.gu is None) == (self.points is None):
            raise ValueError("display.map: give either gu or points")
        return self

    @property
    def where(self) -> list[str]:
        """The columns that place a row."""
        return [self.gu] if self.gu else list(self.points or ())


@cache
def gu_codes() -> set[str]:
    """Seoul's gu codes, as the seoul-gu-code data standard lists them (one list for both)."""
    standard = load_standard("seoul-gu-code")
    return {str(v) for c in standard["checks"] if c.get("expect") == "in_set" for v in c["values"]}


class Display(Spec):
    """How the portal draws a dataset beside its first rows (both read the public records API,
    so they show exactly what a download holds)."""

    chart: list[str] = Field(
        default_factory=list,
        description="Numeric columns charted over the partition's time column (the mean of "
        "each time's rows).",
    )
    chart_by: Literal["mean", "sum"] = Field(
        default="mean", description="How one time's rows make a point: their mean or sum."
    )
    map: MapLayer | None = None
    districts: list[str] = Field(
        default_factory=list,
        description="The gu codes the dataset covers (the portal's district facet); empty: the "
        "whole city.",
    )

    def check(self, fields: list[FieldSpec]) -> None:
        """Every named column exists and the charted and mapped values are numbers."""
        types = {f.name: f.type for f in fields}
        named = [*self.chart, *([self.map.value, *self.map.where] if self.map else [])]
        for column in named:
            if column not in types:
                raise ValueError(f"display: no column {column!r} in the schema")
        numeric = [*self.chart, *([self.map.value, *(self.map.points or ())] if self.map else [])]
        for column in numeric:
            if types[column] not in NUMERIC:
                raise ValueError(f"display: {column!r} is {types[column]}, not a number")
        unknown = sorted(set(self.districts) - gu_codes())
        if unknown:
            raise ValueError(f"display.districts: {', '.join(unknown)} is not a Seoul gu code")


#: Names an NGSI-LD entity keeps for itself, so no Property or Relationship may take them.
NGSI_LD_RESERVED = {
    "id",
    "type",
    "@context",
    "location",
    "observationSpace",
    "operationSpace",
    "createdAt",
    "modifiedAt",
    "deletedAt",
    "observedAt",
    "scope",
}
_NGSI_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class NgsiLd(Spec):
    """The feed's rows as NGSI-LD entities (ETSI GS CIM 009), served at ``/ngsi-ld/v1``: the
    newest row of each entity is its current state, its rows the temporal evolution."""

    type: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", description="Entity type.")
    id: str = Field(description="Column holding the entity id (a URI).")
    observed_at: str = Field(description="Timestamp column: every attribute's observedAt.")
    location: tuple[str, str] | None = Field(
        default=None, description="Longitude and latitude columns: the location GeoProperty."
    )
    relationships: dict[str, str] = Field(
        default_factory=dict, description="Relationship name -> column holding the target's id."
    )
    properties: dict[str, str] | None = Field(
        default=None,
        description="Property name -> column; by default every other column, named as its "
        "source field (the smart-data-model name the broker sent).",
    )
    current_within: timedelta | None = Field(
        default=None,
        description="Only rows this close to the newest count as current state (bounds the "
        "scan; an entity silent for longer drops out); None reads every row.",
    )

    def property_columns(self, fields: list[FieldSpec]) -> dict[str, str]:
        """Property name -> column, for the feed's ``fields``."""
        if self.properties is not None:
            return dict(self.properties)
        taken = {self.id, *(self.location or ()), *self.relationships.values()}
        return {f.source_name: f.name for f in fields if f.name not in taken}

    def columns(self, fields: list[FieldSpec]) -> list[str]:
        """Every column the entities are made of."""
        used = [
            self.id,
            self.observed_at,
            *(self.location or ()),
            *self.relationships.values(),
            *self.property_columns(fields).values(),
        ]
        return list(dict.fromkeys(used))


@runtime_checkable
class DatasetSpec(Protocol):
    """What the catalog, the exports and the web app read of any dataset, feed or product."""

    @property
    def id(self) -> str: ...

    @property
    def title(self) -> Text: ...

    @property
    def description(self) -> Text: ...

    @property
    def provider(self) -> Party: ...

    @property
    def department(self) -> Party: ...

    @property
    def type(self) -> FeedType: ...

    @property
    def access_class(self) -> AccessClass: ...

    @property
    def licence(self) -> Licence: ...

    @property
    def partition(self) -> Partition: ...

    @property
    def key(self) -> list[str]: ...

    @property
    def is_public(self) -> bool: ...

    @property
    def published_fields(self) -> list[FieldSpec]: ...

    @property
    def tags(self) -> list[str]: ...

    @property
    def retention(self) -> Retention: ...

    @property
    def display(self) -> Display: ...


class PublishedDataset:
    """The answers every dataset spec gives alike (mixed into ``FeedSpec`` and ``Product``)."""

    access_class: AccessClass

    @property
    def is_public(self) -> bool:
        """Open to everyone: released to the open zone, downloadable, listed with its files."""
        return self.access_class is AccessClass.public


class FeedSpec(Spec, PublishedDataset):
    """A feed: its identity, owners, delivery, schedule, schema and rights."""

    id: str
    title: Text
    description: Text
    provider: Party
    department: Party
    type: FeedType
    access_class: AccessClass
    licence: Licence
    schedule: Schedule
    delivery: Delivery
    schema_: list[FieldSpec] = Field(alias="schema", min_length=1)
    partition: Partition
    key: list[str] = Field(default_factory=list, description="Columns that identify a row.")
    load: Literal["window", "upsert"] = Field(
        default="window",
        description="window: each run replaces its time window; upsert: each run merges its "
        "rows by key (incremental sources that send what changed since the last watermark).",
    )
    allow_empty: bool = Field(
        default=False,
        description="Accept a window with no rows; otherwise an empty answer is retried later.",
    )
    ignored_columns: list[str] = Field(
        default_factory=list,
        description="Source columns the feed knowingly leaves out (e.g. a member roster); any "
        "other undeclared column is recorded as schema drift on each delivery.",
    )
    text_normalization: Literal["NFC", "NFKC", "none"] = Field(
        default="NFC",
        description="Unicode form text fields are normalised to on parse, so Hangul sent "
        "decomposed (common from macOS) matches value sets and joins; 'none' keeps it as sent.",
    )
    keywords: list[str] = Field(default_factory=list)
    conforms_to: list[str] = Field(
        default_factory=list,
        description="Data standards (quality/standards/*.yaml) whose schema and checks the feed "
        "inherits.",
    )
    checks: list[Check] = Field(
        default_factory=list, description="Quality checks run on every delivery (GX)."
    )
    quality: Gate = Field(default_factory=Gate)
    privacy: PrivacyPolicy | None = Field(
        default=None, description="Personal data in the feed and how it is protected."
    )
    ngsi_ld: NgsiLd | None = Field(
        default=None,
        description="Serve the rows as NGSI-LD entities at /ngsi-ld/v1 (public feeds).",
    )
    display: Display = Field(
        default_factory=Display, description="Chart, map and districts on the portal."
    )
    retention: Retention = Field(
        default=HOUSE_RETENTION,
        description="What the maintenance DAG keeps of the dataset and for how long (the "
        "house rules in hub/registry/retention.py unless declared).",
    )
    exports_every: timedelta | None = Field(
        default=None,
        description="At most how often a release writes the download files (the whole open "
        "table as CSV, Parquet, GeoJSON) again; the hourly maintenance round writes any a quiet "
        "feed is owed. Unset: at every release. The records API serves every release.",
    )

    @field_validator("id")
    @classmethod
    def _id_form(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(
                "a feed id is lower_snake_case, 2-63 characters, starting with a letter"
            )
        return value

    @model_validator(mode="after")
    def _columns_exist(self) -> FeedSpec:
        names = [f.name for f in self.schema_]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"schema declares {', '.join(duplicates)} more than once")
        sources = [s for f in self.schema_ for s in f.source_names]
        shared = sorted({s for s in sources if sources.count(s) > 1})
        if shared:
            raise ValueError(
                f"source name or alias {', '.join(map(repr, shared))} is claimed by more than one "
                "field, so a delivery's column could not be told apart"
            )
        ignored = sorted(set(self.ignored_columns) & set(sources))
        if ignored:
            raise ValueError(f"ignored_columns: {', '.join(ignored)} is a declared field")
        if self.partition.column not in names:
            raise ValueError(f"partition column {self.partition.column!r} is not in the schema")
        part = self.field(self.partition.column)
        if part.type not in (ColumnType.timestamp, ColumnType.date):
            raise ValueError(
                f"partition column {part.name!r} must be a date or timestamp (runs replace a time "
                f"window), it is {part.type.value}"
            )
        if not part.required:
            raise ValueError(f"partition column {part.name!r} must be required: true")
        missing = [k for k in self.key if k not in names]
        if missing:
            raise ValueError(f"key columns {missing} are not in the schema")
        if self.load == "upsert":
            loose = [k for k in self.key if not self.field(k).required]
            if not self.key or loose:
                raise ValueError(
                    "load: upsert merges rows by key: declare key columns, all required: true"
                    + (f" (not required: {', '.join(loose)})" if loose else "")
                )
        for i, check in enumerate(self.checks):
            unknown = [c for c in check.columns if c not in names]
            if unknown:
                raise ValueError(
                    f"checks.{i} ({check.label}): no column {unknown[0]!r} in the schema"
                )
        if self.privacy is not None:
            self._check_privacy(self.privacy)
        if self.ngsi_ld is not None:
            self._check_ngsi_ld(self.ngsi_ld)
        self.display.check(self.published_fields)
        return self

    def _check_ngsi_ld(self, ngsi: NgsiLd) -> None:
        names = {f.name: f for f in self.schema_}
        for column in ngsi.columns(self.schema_):
            if column not in names:
                raise ValueError(f"ngsi_ld: no column {column!r} in the schema")
        if names[ngsi.observed_at].type is not ColumnType.timestamp:
            raise ValueError(f"ngsi_ld.observed_at: {ngsi.observed_at!r} is not a timestamp")
        numeric = (ColumnType.float32, ColumnType.float64)
        for column in ngsi.location or ():
            if names[column].type not in numeric:
                raise ValueError(f"ngsi_ld.location: {column!r} is not a float column")
        attributes = [*ngsi.relationships, *ngsi.property_columns(self.schema_)]
        for name in attributes:
            if not _NGSI_NAME.match(name) or name in NGSI_LD_RESERVED:
                raise ValueError(
                    f"ngsi_ld: {name!r} cannot name an NGSI-LD attribute; map the column to "
                    "another name in ngsi_ld.properties"
                )
        twice = sorted({n for n in attributes if attributes.count(n) > 1})
        if twice:
            raise ValueError(f"ngsi_ld: attribute {', '.join(twice)} declared more than once")

    def _check_privacy(self, policy: PrivacyPolicy) -> None:
        for name, rule in policy.columns.items():
            where = f"privacy.columns.{name}"
            if name not in {f.name for f in self.schema_}:
                raise ValueError(f"{where}: no column {name!r} in the schema")
            if rule.accepts is not None and self.field(name).type not in rule.accepts:
                raise ValueError(
                    f"{where}: {rule.technique} does not apply to a "
                    f"{self.field(name).type.value} column"
                )
            if name == self.partition.column and rule.technique not in ("keep", "truncate"):
                raise ValueError(f"{where}: the partition column can only be kept or truncated")
            if (
                name == self.partition.column
                and rule.technique == "truncate"
                and self.load == "window"
            ):
                shortest = self.schedule.shortest_window()
                if TRUNCATE_SECONDS[rule.unit] > shortest.total_seconds():
                    raise ValueError(
                        f"{where}: truncating the partition column to the {rule.unit} is coarser "
                        f"than the feed's {shortest} window, so a window's rows would fall "
                        "outside it and reruns would add them again; keep it or truncate finer"
                    )
            if name == self.partition.column and "suppress" in policy.release.ladder.get(name, []):
                raise ValueError(f"privacy.release.ladder.{name}: the partition column stays")
            if name in self.key and isinstance(rule, Drop):
                raise ValueError(f"{where}: a key column cannot be dropped (tokenize it)")

    @property
    def upserts(self) -> bool:
        """Each run merges rows by key (reference data) instead of replacing its time window."""
        return self.load == "upsert"

    def field(self, name: str) -> FieldSpec:
        for f in self.schema_:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def published_fields(self) -> list[FieldSpec]:
        """The columns as they reach the trusted zone, after the privacy policy."""
        if self.privacy is None:
            return list(self.schema_)
        out = []
        for f in self.schema_:
            rule = self.privacy.rule(f.name)
            if isinstance(rule, Drop):
                continue
            out.append(
                f if rule.output_type is None else f.model_copy(update={"type": rule.output_type})
            )
        return out

    @property
    def published_schema(self) -> pa.Schema:
        return fields_schema(self.published_fields)

    @property
    def arrow_schema(self) -> pa.Schema:
        return fields_schema(self.schema_)

    @property
    def tags(self) -> list[str]:
        return [
            f"provider:{self.provider.id}",
            f"department:{self.department.id}",
            f"type:{self.type.value}",
            f"access:{self.access_class.value}",
        ]


def fields_schema(fields: list[FieldSpec]) -> pa.Schema:
    import pyarrow as pa

    return pa.schema([pa.field(f.name, f.arrow_type, nullable=not f.required) for f in fields])
