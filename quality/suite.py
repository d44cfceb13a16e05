"""A feed's declared checks as a Great Expectations 1.x ExpectationSuite.

GX is imported here, inside task code only: the ``dags/`` folder must parse without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from quality.checks import (
    Between,
    Fresh,
    GreaterThan,
    InSet,
    NotNull,
    Regex,
    RowCount,
    Unique,
    _Check,
)

if TYPE_CHECKING:
    from great_expectations.core import ExpectationSuite
    from great_expectations.expectations import Expectation

    from hub.core.delivery import Window
    from hub.registry.spec import FeedSpec


def to_expectation(check: _Check, index: int, window: Window) -> Expectation:
    """The GX expectation for one check; ``meta.check`` points back at the declaration.

    Freshness is judged at the end of the run's window, row counts against its length.
    """
    import great_expectations.expectations as gxe

    meta: dict[str, Any] = {"check": index, "label": check.label, "hard": check.hard}
    mostly = {"mostly": check.mostly} if check.mostly is not None else {}
    match check:
        case NotNull():
            return gxe.ExpectColumnValuesToNotBeNull(column=check.column, meta=meta, **mostly)
        case Unique() if len(check.columns) == 1:
            return gxe.ExpectColumnValuesToBeUnique(column=check.columns[0], meta=meta, **mostly)
        case Unique():
            return gxe.ExpectCompoundColumnsToBeUnique(
                column_list=check.columns, meta=meta, **mostly
            )
        case Between():
            return gxe.ExpectColumnValuesToBeBetween(
                column=check.column, min_value=check.min, max_value=check.max, meta=meta, **mostly
            )
        case InSet():
            return gxe.ExpectColumnValuesToBeInSet(
                column=check.column, value_set=check.values, meta=meta, **mostly
            )
        case Regex():
            return gxe.ExpectColumnValuesToMatchRegex(
                column=check.column, regex=check.pattern, meta=meta, **mostly
            )
        case GreaterThan():
            return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=check.column,
                column_B=check.other,
                or_equal=check.or_equal,
                ignore_row_if="either_value_is_missing",
                meta=meta,
                **mostly,
            )
        case RowCount():
            hours = (window.end - window.start).total_seconds() / 3600
            return gxe.ExpectTableRowCountToBeBetween(
                min_value=check.floor(hours), max_value=check.max, meta=meta
            )
        case Fresh():
            return gxe.ExpectColumnMaxToBeBetween(
                column=check.column, min_value=window.end - check.within, meta=meta
            )
    raise TypeError(f"no expectation for {check!r}")


def build_suite(
    feed: FeedSpec, window: Window, indices: list[int] | None = None
) -> ExpectationSuite:
    """Every check the feed declares or inherits from its data standards (or those at
    ``indices``, when the suite is split over processes).

    Types and the column set are not repeated here: the conform step has already cast each
    row to the schema, and sent the rows it could not to quarantine.
    """
    import great_expectations as gx

    return gx.ExpectationSuite(
        name=f"{feed.id}.delivery",
        expectations=[
            to_expectation(feed.checks[i], i, window)
            for i in (range(len(feed.checks)) if indices is None else indices)
        ],
    )


def referenced_columns(feed: FeedSpec) -> list[str]:
    """The columns the suite reads, in schema order: only these are handed to GX."""
    wanted = {c for check in feed.checks for c in check.columns}
    return [f.name for f in feed.schema_ if f.name in wanted]
