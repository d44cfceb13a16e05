"""Running a feed's suite on a delivery with Great Expectations, and the gate's verdict.

GX stays the source of every check and every result. What this module adds is the hub's
part: a frame holding only the columns the suite reads, in dtypes GX's pandas engine works
on whole columns (int64, float64, nanosecond times), and the failing rows' positions, asked
of GX only for the checks that failed, so a clean delivery pays for counts alone.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from quality.suite import build_suite, referenced_columns

if TYPE_CHECKING:
    from connectors.base import Window
    from hub.registry.spec import FeedSpec

#: Stored and logged results keep at most this many example values.
EXAMPLES = 5

_lock = threading.Lock()
_batch_definition: Any = None


@dataclass
class CheckResult:
    """One expectation's outcome on one delivery, as GX reported it."""

    check: int
    label: str
    columns: list[str]
    expectation: str
    hard: bool
    row_level: bool
    success: bool
    unexpected_count: int | None
    unexpected_percent: float | None
    observed_value: Any
    examples: list[Any]
    kwargs: dict[str, Any]
    error: str | None = None


@dataclass
class Outcome:
    rows: int
    results: list[CheckResult]
    #: row position -> the checks it failed
    failing: dict[int, list[CheckResult]] = field(default_factory=dict)

    @property
    def hard_failures(self) -> list[CheckResult]:
        return [r for r in self.results if r.hard and not r.success]


def _definition() -> Any:
    """One ephemeral GX context per process, with a pandas asset fed a frame per delivery."""
    global _batch_definition
    if _batch_definition is None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig
        from great_expectations.execution_engine import pandas_execution_engine

        # GX fingerprints every in-memory frame under 1 GB by hashing all of it (0.5 s per
        # million rows) for a batch marker the hub never reads: runs are identified by run id.
        pandas_execution_engine.HASH_THRESHOLD = 0
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(
            globally=False
        )  # task logs stay readable
        source = context.data_sources.add_pandas("hub")
        asset = source.add_dataframe_asset("delivery")
        _batch_definition = asset.add_batch_definition_whole_dataframe("whole delivery")
    return _batch_definition


def gx_frame(table: pa.Table, columns: list[str]):
    """The columns GX reads, as pandas, in dtypes its engine evaluates without a row loop."""
    out: dict[str, pa.ChunkedArray] = {}
    for name in columns:
        col = table.column(name)
        kind = col.type
        try:
            if pa.types.is_integer(kind):
                col = col.cast(pa.int64())
            elif pa.types.is_floating(kind):
                col = col.cast(pa.float64())
            elif pa.types.is_timestamp(kind):
                col = col.cast(pa.timestamp("ns", tz=kind.tz))
            elif pa.types.is_date(kind):
                col = col.cast(pa.timestamp("ns"))
        except pa.ArrowInvalid:  # a time beyond 2262 has no nanosecond form: GX loops instead
            pass
        out[name] = col
    return pa.table(out).to_pandas()


def run_checks(feed: FeedSpec, table: pa.Table, window: Window) -> Outcome:
    """Validate ``table`` (conformed rows) against the feed's suite."""
    if not feed.checks:
        return Outcome(rows=table.num_rows, results=[])
    frame = gx_frame(table, referenced_columns(feed))
    with _lock:
        definition = _definition()
        suite = build_suite(feed, window)
        batch = definition.get_batch(batch_parameters={"dataframe": frame})
        with _quiet():
            validation = batch.validate(suite, result_format="BASIC")
        ordered = sorted(validation.results, key=lambda r: r.expectation_config.meta["check"])
        outcome = Outcome(rows=table.num_rows, results=[])
        for res in ordered:
            result = _result(feed.checks[res.expectation_config.meta["check"]], res)
            outcome.results.append(result)
            if result.row_level and not result.success and result.unexpected_count:
                for row in _failing_rows(batch, res.expectation_config):
                    outcome.failing.setdefault(row, []).append(result)
    return outcome


def _result(check, res) -> CheckResult:
    body = res.result or {}
    error = None
    if res.exception_info and res.exception_info.get("raised_exception"):
        error = str(res.exception_info.get("exception_message"))
    elif res.exception_info:
        messages = [v.get("exception_message") for v in res.exception_info.values() if v]
        error = "; ".join(str(m) for m in messages if m) or None
    kwargs = {k: v for k, v in res.expectation_config.kwargs.items() if k != "batch_id"}
    return CheckResult(
        check=res.expectation_config.meta["check"],
        label=check.label,
        columns=check.columns,
        expectation=res.expectation_config.type,
        hard=check.hard,
        row_level=check.row_level,
        success=bool(res.success),
        unexpected_count=body.get("unexpected_count"),
        unexpected_percent=body.get("unexpected_percent"),
        observed_value=body.get("observed_value"),
        examples=[_plain(v) for v in list(body.get("partial_unexpected_list") or [])[:EXAMPLES]],
        kwargs=kwargs,
        error=error,
    )


@contextmanager
def _quiet() -> Iterator[None]:
    """GX's column-pair metrics read tz-aware ``Series.values``, which pandas 3 deprecates."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Series.values returning an ndarray")
        yield


def _plain(value: Any) -> Any:
    """An example value as JSON can hold it (GX hands back numpy scalars and tuples)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value.item() if hasattr(value, "item") else value)


def _failing_rows(batch, config) -> list[int]:
    """Positions of the rows one failed expectation rejected, asked of GX in full."""
    expectation = config.to_domain_obj()
    with _quiet():
        full = batch.validate(expectation, result_format={"result_format": "COMPLETE"})
    return [int(i) for i in full.result.get("unexpected_index_list") or []]
