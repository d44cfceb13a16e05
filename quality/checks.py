"""The checks a feed (or a data standard) declares under ``checks:``, and the gate's settings.

Each check names one Great Expectations expectation; :func:`to_expectation` builds it. The
declarations stay plain YAML so a department can read them without knowing GX.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Check(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    hard: bool = Field(
        default=False, description="A hard check must never fail: one failure fails the run."
    )
    mostly: float | None = Field(default=None, gt=0, le=1)

    @property
    def row_level(self) -> bool:
        """Whether failing rows can be named (and quarantined) one by one."""
        return True

    @property
    def columns(self) -> list[str]:
        return [self.column] if hasattr(self, "column") else []

    @property
    def label(self) -> str:
        cols = ", ".join(self.columns)
        return f"{self.expect}({cols})" if cols else self.expect


class NotNull(_Check):
    expect: Literal["not_null"]
    column: str


class Unique(_Check):
    expect: Literal["unique"]
    columns_: list[str] = Field(alias="columns", min_length=1)

    @property
    def columns(self) -> list[str]:
        return list(self.columns_)


class Between(_Check):
    expect: Literal["between"]
    column: str
    min: float | str | None = None
    max: float | str | None = None

    @model_validator(mode="after")
    def _bounded(self) -> Between:
        if self.min is None and self.max is None:
            raise ValueError("between needs min, max or both")
        return self


class InSet(_Check):
    expect: Literal["in_set"]
    column: str
    values: list[Any] = Field(min_length=1)


class Regex(_Check):
    expect: Literal["regex"]
    column: str
    pattern: str


class GreaterThan(_Check):
    expect: Literal["greater_than"]
    column: str
    other: str
    or_equal: bool = False

    @property
    def columns(self) -> list[str]:
        return [self.column, self.other]


class RowCount(_Check):
    """Rows per delivery; ``min_per_hour`` scales the floor with the run's window, so a
    delivery missing hours (or stations) falls short of it."""

    expect: Literal["row_count"]
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)
    min_per_hour: float | None = Field(default=None, gt=0)

    def floor(self, window_hours: float) -> int | None:
        scaled = None if self.min_per_hour is None else int(self.min_per_hour * window_hours)
        bounds = [b for b in (self.min, scaled) if b is not None]
        return max(bounds) if bounds else None

    @property
    def row_level(self) -> bool:
        return False


class Fresh(_Check):
    """The newest value of a time column is no older than ``within`` at the reference time
    (the end of the run's window, or "now" for a freshness sweep)."""

    expect: Literal["fresh"]
    column: str
    within: timedelta

    @property
    def row_level(self) -> bool:
        return False


Check = Annotated[
    NotNull | Unique | Between | InSet | Regex | GreaterThan | RowCount | Fresh,
    Field(discriminator="expect"),
]


class Gate(BaseModel):
    """What the validate step lets through."""

    model_config = ConfigDict(extra="forbid")

    max_error_rate: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="Largest share of delivered rows that may fail (parse or checks) and still "
        "publish the rest; above it the run fails before publish.",
    )
