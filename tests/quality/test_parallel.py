"""The suite split over two processes gives GX's results exactly as one process does."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hub.core.delivery import Window
from hub.core.settings import PROJECT_ROOT
from hub.registry import load_feed
from hub.steps.conform import conform
from quality import gate
from simulators.bikes import trips_table
from simulators.defects import Defect, inject_table

DAY = datetime(2026, 11, 1, tzinfo=ZoneInfo("Asia/Seoul"))


FEED = load_feed(PROJECT_ROOT / "feeds" / "bike_trips.yaml")
WINDOW = Window(DAY, DAY + timedelta(days=1))


def _delivery(trips: int, defects: list[Defect]):
    """A day of bike trips with ``defects``, conformed as the validate step sees them."""
    sent = inject_table(trips_table(DAY.date(), trips=trips), defects)
    return conform(FEED, sent, window=WINDOW, object_key="t", run_id="t").valid


def test_forked_halves_agree_with_one_process(monkeypatch):
    feed, window = FEED, WINDOW
    rows = _delivery(
        5_000,
        [
            Defect("out_of_range", "출생연도", rows=7, value="1800", seed=1),
            Defect("duplicate_id", "대여번호", rows=3, seed=2),
            Defect("swap", "대여일시", other="반납일시", rows=5, seed=3),
        ],
    )
    one = gate.run_checks(feed, rows, window)
    monkeypatch.setattr(gate, "PARALLEL_ROWS", 1)
    monkeypatch.setattr(gate.os, "cpu_count", lambda: 2)
    two = gate.run_checks(feed, rows, window)

    assert [(r.label, r.success, r.unexpected_count) for r in two.results] == [
        (r.label, r.success, r.unexpected_count) for r in one.results
    ]
    assert {row: [r.label for r in rs] for row, rs in two.failing.items()} == {
        row: [r.label for r in rs] for row, rs in one.failing.items()
    }
    assert len(one.failing) == 7 + 6 + 5  # each duplicated id is on two rows
    halves = gate._halves(feed.checks)
    assert sorted(halves[0] + halves[1]) == list(range(20)) and all(halves)


def test_gx_shortcuts_give_gx_own_results(monkeypatch):
    """The workarounds for GX rebuilding configurations and metric ids change no result,
    and GX is left as it was after each validation."""
    from contextlib import nullcontext

    from great_expectations.core.id_dict import IDDict
    from great_expectations.expectations.expectation import Expectation

    feed, window = FEED, WINDOW
    rows = _delivery(
        500,
        [
            Defect("out_of_range", "출생연도", rows=4, value="1800", seed=1),
            Defect("duplicate_id", "대여번호", rows=2, seed=2),
        ],
    )
    gx_property, gx_to_id = Expectation.__dict__["configuration"], IDDict.__dict__["to_id"]
    once = gate.run_checks(feed, rows, window)
    assert Expectation.__dict__["configuration"] is gx_property
    assert IDDict.__dict__["to_id"] is gx_to_id
    monkeypatch.setattr(gate, "_gx_work_done_once", nullcontext)
    plain = gate.run_checks(feed, rows, window)

    def seen(outcome):
        return [
            (r.label, r.success, r.unexpected_count, r.observed_value, r.examples, r.kwargs)
            for r in outcome.results
        ]

    assert seen(once) == seen(plain)
    assert {row: [r.label for r in rs] for row, rs in once.failing.items()} == {
        row: [r.label for r in rs] for row, rs in plain.failing.items()
    }
    assert len(once.failing) == 4 + 4


def test_metric_ids_are_gx_own_for_plain_and_other_kwargs():
    """The direct id of plain kwargs is the one GX computes; anything else is left to GX."""
    from datetime import datetime

    from great_expectations.core.id_dict import IDDict

    kinds = [
        {"column": "출생연도", "batch_id": None, "row_condition": None, "mostly": 0.95},
        {"column_list": ("a", "b"), "value_set": [1, 2, 3], "strict": True},
        {"column": "x", "threshold": float("nan"), "at": datetime(2026, 1, 1)},
        {"column": "x", 3: "a numeric key"},
    ]
    gx_ids = [IDDict(k).to_id() for k in kinds]
    with gate._gx_work_done_once():
        ours = [IDDict(k).to_id() for k in kinds]
    assert ours == gx_ids
    assert len(set(gx_ids)) == len(kinds)
