"""Running a feed's suite on a delivery with Great Expectations, and the gate's verdict.

GX stays the source of every check and every result. What this module adds is the hub's
part: a frame holding only the columns the suite reads, in dtypes GX's pandas engine works
on whole columns (int64, float64, nanosecond times), and the failing rows' positions, asked
of GX only for the checks that failed, so a clean delivery pays for counts alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from quality.checks import _Check
from quality.suite import build_suite, referenced_columns

if TYPE_CHECKING:
    from hub.core.delivery import Window
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

        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # no calls home from tasks
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
    """Validate ``table`` (conformed rows) against the feed's suite.

    A large delivery is split by expected cost into two halves of the suite, validated at
    once by this process and a forked copy of it (which shares the frame without copying):
    GX's pandas engine runs on one core, and the checks are independent of each other.
    """
    outcome = Outcome(rows=table.num_rows, results=[])
    if not feed.checks:
        return outcome
    frame = gx_frame(table, referenced_columns(feed))
    indices = list(range(len(feed.checks)))
    with _lock:
        definition = _definition()
        if table.num_rows >= PARALLEL_ROWS and (os.cpu_count() or 1) > 1:
            mine, theirs = _halves(feed.checks)
            parts = _in_parallel(
                lambda half: _validate(definition, frame, feed, window, half), mine, theirs
            )
        else:
            parts = [_validate(definition, frame, feed, window, indices)]
    by_check = {r.check: r for results, _ in parts for r in results}
    outcome.results = [by_check[i] for i in indices]
    for _, failing in parts:
        for check, rows in failing.items():
            for row in rows:
                outcome.failing.setdefault(row, []).append(by_check[check])
    return outcome


#: Deliveries smaller than this are validated in one process (a fork costs more than it saves).
PARALLEL_ROWS = 200_000
#: Relative cost of a check on GX's pandas engine, to balance the halves (measured, roughly).
COST = {"unique": 4, "regex": 2, "greater_than": 2, "row_count": 0.2, "fresh": 0.5}


def _halves(checks: list[_Check]) -> tuple[list[int], list[int]]:
    halves: tuple[list[int], list[int]] = ([], [])
    load = [0.0, 0.0]
    order = sorted(range(len(checks)), key=lambda i: -_cost(checks[i]))
    for i in order:
        lighter = 0 if load[0] <= load[1] else 1
        halves[lighter].append(i)
        load[lighter] += _cost(checks[i])
    return halves


def _cost(check: _Check) -> float:
    return COST.get(check.expect, 1.0) * max(1, len(check.columns))


def _in_parallel(work, mine: list[int], theirs: list[int]) -> list:
    """``work(theirs)`` in a forked child while this process does ``work(mine)``."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, send back plain data, and leave without cleanup
        os.close(read_end)
        try:
            payload = pickle.dumps(("ok", work(theirs)))
        except BaseException as exc:
            payload = pickle.dumps(("error", f"{type(exc).__name__}: {exc}"))
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(payload)
        os._exit(0)
    os.close(write_end)
    try:
        here = work(mine)
    finally:
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()
        os.waitpid(pid, 0)
    if not data:
        raise RuntimeError("the forked half of the quality checks died without an answer")
    status, there = pickle.loads(data)
    if status != "ok":
        raise RuntimeError(f"the forked half of the quality checks failed: {there}")
    return [here, there]


def _validate(
    definition: Any, frame: Any, feed: FeedSpec, window: Window, indices: list[int]
) -> tuple[list[CheckResult], dict[int, list[int]]]:
    """GX's results for some of the feed's checks, and the row positions each failed one names.

    COMPLETE results carry the failing rows' index in the same pass; on a clean delivery they
    cost no more than BASIC. Only counts and a few examples are kept from them.
    """
    suite = build_suite(feed, window, indices)
    batch = definition.get_batch(batch_parameters={"dataframe": frame})
    with _quiet(), _gx_work_done_once():
        validation = batch.validate(suite, result_format=RESULT_FORMAT)
    results, failing = [], {}
    for res in validation.results:
        index = res.expectation_config.meta["check"]
        result = _result(feed.checks[index], res)
        results.append(result)
        if result.row_level and not result.success and result.unexpected_count:
            failing[index] = [int(i) for i in res.result.get("unexpected_index_list") or []]
    return results, failing


RESULT_FORMAT = {
    "result_format": "COMPLETE",
    "partial_unexpected_count": EXAMPLES,
    "return_unexpected_index_query": False,
}


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


@contextmanager
def _gx_work_done_once() -> Iterator[None]:
    """Two GX 1.x costs that grow with the number of checks, not rows (most of validating an
    hourly 40-row delivery), cut for the duration of one validation; GX is restored after.
    Callers hold ``_lock``.

    - ``Expectation.configuration`` is a property that rebuilds the whole configuration for
      every kwarg read (~130 builds per expectation per validation); nothing changes an
      expectation while its suite validates, so each is built once.
    - ``IDDict.to_id`` names every metric by JSON-converting its kwargs value by value
      (``convert_to_json_serializable``: four numpy dtype checks per ``None``), ~600 times
      per validation. Kwargs made of plain JSON values convert to themselves, so those are
      dumped directly: the same id, without the walk.
    """
    from great_expectations.core.id_dict import IDDict
    from great_expectations.expectations.expectation import Expectation

    built: dict[int, tuple[Any, Any]] = {}  # id -> (the expectation, kept alive; its config)
    rebuild, gx_to_id = Expectation.configuration, IDDict.to_id

    def once(self: Any) -> Any:
        found = built.get(id(self))
        if found is None or found[0] is not self:
            found = built[id(self)] = (self, rebuild.fget(self))
        return found[1]

    def to_id(self: IDDict, id_keys: Any = None, id_ignore_keys: Any = None) -> Any:
        keys = set(self.keys() if id_keys is None else id_keys) - set(
            self._id_ignore_keys if id_ignore_keys is None else id_ignore_keys
        )
        if len(keys) < 2 or not all(isinstance(k, str) for k in keys):
            return gx_to_id(self, id_keys, id_ignore_keys)
        data = {k: self[k] for k in keys}
        if not _json_as_is(data):
            return gx_to_id(self, id_keys, id_ignore_keys)
        text = json.dumps(data, sort_keys=True).encode("utf-8")
        return hashlib.md5(text, usedforsecurity=False).hexdigest()

    Expectation.configuration = property(once)  # type: ignore[method-assign,assignment]
    IDDict.to_id = to_id  # type: ignore[method-assign]
    try:
        yield
    finally:
        Expectation.configuration = rebuild  # type: ignore[method-assign]
        IDDict.to_id = gx_to_id  # type: ignore[method-assign]


def _json_as_is(value: Any) -> bool:
    """Whether GX's ``convert_to_json_serializable`` leaves ``value`` as it is (up to a tuple
    becoming a list, which ``json.dumps`` does alike): plain JSON, no NaN, string keys."""
    kind = type(value)
    if value is None or kind is str or kind is bool or kind is int:
        return True
    if kind is float:
        return value == value  # NaN becomes None in GX
    if kind is dict:
        return all(type(k) is str and _json_as_is(v) for k, v in value.items())
    if kind is list or kind is tuple:
        return all(_json_as_is(v) for v in value)
    return False


def _plain(value: Any) -> Any:
    """An example value as JSON can hold it (GX hands back numpy scalars and tuples)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value.item() if hasattr(value, "item") else value)
