"""A feed's privacy policy as declared under ``privacy:`` in its YAML: classes and techniques.

The techniques are the ones of Korea's pseudonymization guideline (가명정보 처리 가이드라인):
deletion, keyed tokens, generalization, masking, top/bottom coding, rounding, noise and
small-cell suppression. This module only declares them; ``privacy.techniques`` applies them.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hub.core.text import Text
from hub.core.types import ColumnType

INTEGERS = frozenset({ColumnType.int32, ColumnType.int64})
FLOATS = frozenset({ColumnType.float32, ColumnType.float64})
NUMBERS = INTEGERS | FLOATS
STRINGS = frozenset({ColumnType.string})


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class ColumnClass(StrEnum):
    """How identifying a column is, in the guideline's terms."""

    direct = "direct_identifier"  # 식별자: names, RRN, phone, member ids
    quasi = "quasi_identifier"  # 준식별자: age, sex, place, time
    sensitive = "sensitive"  # 민감정보: what must not be linked to a person (offence, health)
    none = "not_personal"


class Rule(_Model):
    """One column's class and the technique applied to it before the trusted zone."""

    class_: ColumnClass = Field(alias="class")

    @property
    def output_type(self) -> str | None:
        """The published column type, when the technique changes it (``None``: unchanged)."""
        return None

    #: The technique's name in the guideline's catalogue, for the registers and reports.
    guideline: ClassVar[str] = ""
    #: The column types the technique works on (``None``: any).
    accepts: ClassVar[frozenset[ColumnType] | None] = None


class Keep(Rule):
    technique: Literal["keep"] = "keep"
    guideline: ClassVar[str] = "none (kept as delivered)"


class Drop(Rule):
    technique: Literal["drop"]
    guideline: ClassVar[str] = "deletion (삭제)"


class Token(Rule):
    """HMAC-SHA256 with the feed's vault key: stable across deliveries, so joins still work."""

    technique: Literal["token"]
    resolvable: bool = Field(
        default=False,
        description="Keep the token-to-value table, encrypted in the vault, for lawful "
        "re-identification; otherwise the token is one-way.",
    )
    guideline: ClassVar[str] = "pseudonymization: keyed hash (HMAC-SHA256, 암호화 - 일방향)"

    @property
    def output_type(self) -> str:
        return "string"


class Band(Rule):
    """Integers (ages, birth years) to fixed-width bands such as ``1980-1989``; top-coded."""

    technique: Literal["band"]
    accepts: ClassVar[frozenset[ColumnType] | None] = INTEGERS
    width: int = Field(default=10, ge=2)
    top: int | None = Field(default=None, description="Values at or above this become 'N+'.")
    guideline: ClassVar[str] = "generalization: range (범주화)"

    @model_validator(mode="after")
    def _top_on_a_band_edge(self) -> Band:
        if self.top is not None and self.top % self.width:
            raise ValueError(f"top {self.top} must be a multiple of width {self.width}")
        return self

    @property
    def output_type(self) -> str:
        return "string"


class Truncate(Rule):
    """Timestamps to the hour or the day, in the feed's time zone."""

    technique: Literal["truncate"]
    accepts: ClassVar[frozenset[ColumnType] | None] = frozenset({ColumnType.timestamp})
    unit: Literal["hour", "day", "month"] = "hour"
    guideline: ClassVar[str] = "generalization: time rounding (일반화)"


class Snap(Rule):
    """A latitude or longitude snapped to the centre of a grid cell of ``grid_m`` metres."""

    technique: Literal["snap"]
    accepts: ClassVar[frozenset[ColumnType] | None] = FLOATS
    axis: Literal["lat", "lon"]
    grid_m: float = Field(default=10.0, gt=0)
    reference_lat: float = Field(default=37.55, description="Latitude that sizes a lon step.")
    guideline: ClassVar[str] = "generalization: location to a 10 m cell (일반화)"


class Dong(Rule):
    """A street or lot address cut down to its si/gu/dong (administrative area)."""

    technique: Literal["address_to_dong"]
    accepts: ClassVar[frozenset[ColumnType] | None] = STRINGS
    guideline: ClassVar[str] = "generalization: address to dong (일반화)"


class Mask(Rule):
    technique: Literal["mask"]
    accepts: ClassVar[frozenset[ColumnType] | None] = STRINGS
    keep_first: int = Field(default=1, ge=0)
    keep_last: int = Field(default=0, ge=0)
    char: str = Field(default="*", min_length=1, max_length=1)
    guideline: ClassVar[str] = "masking (마스킹)"

    @property
    def output_type(self) -> str:
        return "string"


class Clip(Rule):
    """Top and bottom coding: outliers that single a person out are pulled to the bounds."""

    technique: Literal["clip"]
    accepts: ClassVar[frozenset[ColumnType] | None] = NUMBERS
    lower: float | None = None
    upper: float | None = None
    guideline: ClassVar[str] = "top/bottom coding (상·하단 코딩)"


class Round(Rule):
    technique: Literal["round"]
    accepts: ClassVar[frozenset[ColumnType] | None] = NUMBERS
    step: float = Field(gt=0, description="Round to a multiple of this (e.g. 1000000 won).")
    guideline: ClassVar[str] = "rounding (라운딩)"


class Noise(Rule):
    """Laplace noise, seeded from the vault key and the window so a rerun adds the same noise."""

    technique: Literal["noise"]
    accepts: ClassVar[frozenset[ColumnType] | None] = NUMBERS
    scale: float = Field(gt=0)
    guideline: ClassVar[str] = "noise addition (잡음 추가)"


class Suppress(Rule):
    """Counts under ``below`` are withheld (null): small cells single people out."""

    technique: Literal["suppress"]
    accepts: ClassVar[frozenset[ColumnType] | None] = NUMBERS
    below: int = Field(default=5, ge=2)
    guideline: ClassVar[str] = "small-cell suppression (셀 억제)"


class Scrub(Rule):
    """Free text: every PII finding is replaced by its kind, e.g. ``<phone>``."""

    technique: Literal["scrub"]
    accepts: ClassVar[frozenset[ColumnType] | None] = STRINGS
    guideline: ClassVar[str] = "masking of free text (부분 삭제)"


ColumnRule = Annotated[
    Keep
    | Drop
    | Token
    | Band
    | Truncate
    | Snap
    | Dong
    | Mask
    | Clip
    | Round
    | Noise
    | Suppress
    | Scrub,
    Field(discriminator="technique"),
]

#: Techniques that leave no direct identifier behind.
PROTECTS_DIRECT = (Drop, Token, Mask, Scrub)


class Release(_Model):
    """The re-identification risk gate of the open release."""

    k: int = Field(default=5, ge=2, description="Smallest equivalence class over the QIs.")
    l: int = Field(default=1, ge=1, description="Distinct sensitive values per class.")  # noqa: E741
    drop: list[str] = Field(
        default_factory=list,
        description="Columns withheld from the open release besides direct identifiers.",
    )
    max_suppression: float = Field(
        default=0.05, ge=0, le=1, description="Largest share of rows that may be withheld."
    )
    ladder: dict[str, list[int | str]] = Field(
        default_factory=dict,
        description="Coarser settings to try per QI column, in order (band widths, truncate "
        "units), before suppressing rows.",
    )


class PrivacyPolicy(_Model):
    """What a feed holds about people, why it may be processed, and how it is protected."""

    legal_basis: Text
    purpose: Text
    retention: timedelta = Field(
        default=timedelta(0),
        description="How long the identified raw delivery is kept after a verified protect.",
    )
    columns: dict[str, ColumnRule]
    release: Release = Field(default_factory=Release)

    @model_validator(mode="after")
    def _direct_identifiers_protected(self) -> PrivacyPolicy:
        for name, rule in self.columns.items():
            if rule.class_ is ColumnClass.direct and not isinstance(rule, PROTECTS_DIRECT):
                raise ValueError(
                    f"column {name!r} is a direct identifier; its technique must be one of "
                    f"drop, token, mask or scrub, not {rule.technique}"
                )
        for name in [*self.release.ladder, *self.release.drop]:
            if name not in self.columns:
                raise ValueError(f"release names {name!r}, which has no rule in columns")
        return self

    def rule(self, column: str) -> ColumnRule:
        return self.columns.get(column) or Keep(class_=ColumnClass.none)

    def of_class(self, cls: ColumnClass) -> list[str]:
        return [name for name, rule in self.columns.items() if rule.class_ is cls]
