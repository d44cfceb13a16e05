"""The city's key performance indicators, declared in ``products/kpis.yaml`` and computed per
period from the trusted tables of their feeds into one long table (indicator, period, value):
the product the KPI dashboard (/kpi, /api/v1/kpis) reads, with its lineage like any other."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, model_validator

from hub.core.errors import ConfigError
from hub.core.text import Text
from hub.registry.loader import describe_errors
from hub.registry.spec import Partition, Spec
from products.model import Product, field

INDICATORS = Path(__file__).with_name("kpis.yaml")
TIMEZONE = "Asia/Seoul"  # periods are the city's calendar days, months and years


class Condition(Spec):
    """One test on a column: below a bound, at least a bound, or one of some values (a
    protected column's bands, e.g. "0-9")."""

    column: str
    below: float | None = None
    at_least: float | None = None
    one_of: list[str] | None = None

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        if sum(v is not None for v in (self.below, self.at_least, self.one_of)) != 1:
            raise ValueError(f"{self.column}: give exactly one of below, at_least, one_of")
        return self


class Measure(Spec):
    """What a period's value is: the mean or sum of a column, the rows counted, the ratio of
    two columns' sums, or the mean hours from one time column to another; over the rows any of
    ``any_of`` holds for (all rows when empty)."""

    op: Literal["mean", "sum", "count", "ratio", "mean_hours"]
    column: str | None = None
    per: str | None = Field(default=None, description="The denominator's column (ratio).")
    since: str | None = Field(
        default=None,
        description="mean_hours: the column the time is counted from (``column`` is where it "
        "ends; a row without an end counts as nothing).",
    )
    any_of: list[Condition] = Field(default_factory=list)

    @model_validator(mode="after")
    def _columns(self) -> Measure:
        if self.op != "count" and self.column is None:
            raise ValueError(f"{self.op} needs a column")
        if (self.op == "ratio") != (self.per is not None):
            raise ValueError("per: the denominator of a ratio, and only of a ratio")
        if (self.op == "mean_hours") != (self.since is not None):
            raise ValueError("since: the start of a mean_hours, and only of a mean_hours")
        return self

    @property
    def averages(self) -> bool:
        return self.op in ("mean", "mean_hours")

    @property
    def columns(self) -> list[str]:
        named = [self.column, self.per, self.since, *(c.column for c in self.any_of)]
        return sorted({c for c in named if c})


class Target(Spec):
    change: float = Field(description="Relative change against the baseline (-0.2: 20% down).")
    by: str = Field(description="The year the plan aims for it.")


class Indicator(Spec):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,60}$")
    name: Text
    description: Text
    source: str = Field(description="The feed whose trusted table it is computed from.")
    time: str = Field(description="The column that dates a row.")
    period: Literal["day", "month", "year"]
    measure: Measure
    unit: Text
    baseline: str = Field(description="The period the target is measured against (ISO).")
    target: Target
    settles: timedelta = Field(
        default=timedelta(0),
        description="How long after a period ends its value may still change (e.g. complaints "
        "received in it and closed later); until then it is shown as under way, never judged.",
    )

    @property
    def baseline_start(self) -> date:
        year, month, day = ([int(p) for p in self.baseline.split("-")] + [1, 1])[:3]
        return date(year, month, day)

    def target_value(self, baseline: float | None) -> float | None:
        return None if baseline is None else baseline * (1 + self.target.change)

    @property
    def better(self) -> Literal["down", "up"]:
        return "down" if self.target.change < 0 else "up"


class Indicators(Spec):
    indicators: list[Indicator] = Field(min_length=1)


@cache
def load_indicators(path: Path = INDICATORS) -> tuple[Indicator, ...]:
    """The declared indicators, validated (a bad file is a ConfigError naming file and field)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return tuple(Indicators.model_validate(data).indicators)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot be read as YAML: {exc}") from None
    except ValidationError as exc:
        raise ConfigError(describe_errors(path, exc)) from None


def compute(indicator: Indicator, table: Any) -> Any:
    """(period, value, observations) of ``indicator`` over its source's trusted ``table``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    m = indicator.measure
    period = _periods(indicator, table)
    columns = {"period": period, "one": pa.repeat(1, len(table))}
    if m.any_of:  # rows outside the conditions count as nothing, but their period exists
        kept = None
        for c in m.any_of:
            values = table.column(c.column)
            test = (
                pc.less(values, c.below)
                if c.below is not None
                else pc.greater_equal(values, c.at_least)
                if c.at_least is not None
                else pc.is_in(values, value_set=pa.array(c.one_of, values.type))
            )
            kept = test if kept is None else pc.or_kleene(kept, test)
        columns["one"] = pc.cast(pc.fill_null(kept, False), pa.int64())
    aggregations = [("one", "sum")]
    if m.column:
        if m.since:  # hours from one instant to the other
            spent = pc.subtract(table.column(m.column), table.column(m.since))
            x = pc.divide(pc.cast(pc.cast(spent, pa.duration("us")), pa.int64()), 3_600_000_000.0)
            columns["one"] = pc.cast(
                pc.and_(pc.cast(columns["one"], pa.bool_()), pc.is_valid(x)), pa.int64()
            )
        else:
            x = pc.cast(table.column(m.column), pa.float64())
        columns["x"] = pc.if_else(
            pc.cast(columns["one"], pa.bool_()), x, pa.scalar(None, pa.float64())
        )
        aggregations.append(("x", "mean" if m.averages else "sum"))
    if m.per:  # a ratio's row counts when both its sides are known
        y = pc.cast(table.column(m.per), pa.float64())
        both = pc.and_(pc.cast(columns["one"], pa.bool_()), pc.and_(pc.is_valid(x), pc.is_valid(y)))
        nothing = pa.scalar(None, pa.float64())
        columns["x"], columns["y"] = pc.if_else(both, x, nothing), pc.if_else(both, y, nothing)
        aggregations.append(("y", "sum"))
    grouped = pa.table(columns).group_by("period").aggregate(aggregations)
    observations = grouped.column("one_sum")
    if m.op == "count":
        value = pc.cast(observations, pa.float64())
    elif m.op == "ratio":  # no places at all is no rate, not an infinite one
        denominator = grouped.column("y_sum")
        zero = pc.equal(denominator, 0.0)
        value = pc.if_else(
            zero, pa.scalar(None, pa.float64()), pc.divide(grouped.column("x_sum"), denominator)
        )
    else:
        value = grouped.column(f"x_{'mean' if m.averages else 'sum'}")
    return pa.table(
        {
            "kpi_id": pa.array([indicator.id] * len(grouped), pa.large_string()),
            "period": grouped.column("period"),
            "value": pc.round(value, 4),
            "observations": pc.cast(observations, pa.int64()),
        }
    ).sort_by("period")


def _periods(indicator: Indicator, table: Any) -> Any:
    """Each row's period: the first day of its KST day, month or year."""
    import pyarrow as pa
    import pyarrow.compute as pc

    when = table.column(indicator.time)
    if pa.types.is_timestamp(when.type):
        if when.type.tz is not None:  # the city's calendar, not UTC's
            when = pc.local_timestamp(pc.cast(when, pa.timestamp("us", TIMEZONE)))
        when = pc.cast(when, pa.date32())
    return pc.floor_temporal(when, unit=indicator.period)


def build(inputs: dict[str, Any]) -> Any:
    import pyarrow as pa

    return pa.concat_tables([compute(i, inputs[i.source]) for i in load_indicators()]).sort_by(
        [("kpi_id", "ascending"), ("period", "ascending")]
    )


def _product() -> Product:
    indicators = load_indicators()
    sources = sorted({i.source for i in indicators})
    read = sorted({f"{i.source}.{c}" for i in indicators for c in [i.time, *i.measure.columns]})
    times = sorted({f"{i.source}.{i.time}" for i in indicators})
    return Product(
        id="city_kpis",
        title=Text(ko="서울시 핵심성과지표", en="Seoul key performance indicators"),
        description=Text(
            ko="대기오염, 어린이·노인 보행자 사고, 공공자전거 이용, 어린이집 정원 충족률 등 "
            "도시 지표를 기간별로 계산한 값 (products/kpis.yaml에 정의).",
            en="The city's indicators (air pollution, pedestrian accidents of children and the "
            "elderly, bike use, childcare capacity rate...) per period, as declared in "
            "products/kpis.yaml.",
        ),
        inputs=sources,
        schema=[
            field("kpi_id", "string", "지표", "Indicator", required=True),
            field("period", "date", "기간 시작일", "Period start", required=True),
            field("value", "float64", "값", "Value"),
            field("observations", "int64", "관측 수", "Observations"),
        ],
        partition=Partition(column="period", transform="year"),
        key=["kpi_id", "period"],
        keywords=["KPI", "성과지표", "지표", "indicators", "대시보드"],
        derived_from={
            "kpi_id": read,
            "period": times,
            "value": read,
            "observations": read,
        },
        build=build,
    )


PRODUCT = _product()
