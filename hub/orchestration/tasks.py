"""Task bodies the DAGs call: each is a thin wrapper around one pipeline step.

A terminal hub error (bad input) fails the task without retries; a transient one lets
Airflow's retries try again. The DAG files import this module inside their task bodies, so
its imports (the steps, pyiceberg, GX) cost nothing at DAG parsing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from airflow.sdk.exceptions import AirflowFailException

from hub.core.errors import HubError
from hub.core.settings import get_settings
from hub.registry.loader import load_registry
from hub.steps.context import RunContext
from hub.steps.derive import derive
from hub.steps.export import export_owed
from hub.steps.pipeline import run_step
from hub.upkeep import rounds
from quality.freshness import NeverPublished, sweep


@contextmanager
def airflow_failure() -> Iterator[None]:
    """Map hub errors to Airflow's outcomes: terminal ones fail at once, transient ones retry."""
    try:
        yield
    except HubError as exc:
        if exc.transient:
            raise
        raise AirflowFailException(f"{type(exc).__name__}: {exc}") from exc


def _window(context: dict[str, Any]) -> tuple[Any, Any]:
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    if start is None or end is None or end <= start:
        raise ValueError(
            f"run {context.get('run_id')} has no data interval ({start} .. {end}); "
            "trigger it with a logical date on the feed's schedule"
        )
    return start, end


def feed_step(step: str, feed_id: str, context: dict[str, Any], previous: Any = None) -> Any:
    """Run one step of a feed's DAG run on the run's data interval."""
    start, end = _window(context)
    ctx = RunContext.create(feed_id, start, end, context["run_id"])
    with airflow_failure():
        return run_step(ctx, step, previous)


def run_product(product_id: str, context: dict[str, Any]) -> Any:
    """Build one derived product; a bad input fails the task without retries."""
    with airflow_failure():
        return derive(product_id, context["run_id"], get_settings())


def quality_sweep(context: dict[str, Any]) -> dict[str, str]:
    """Judge every feed's deliveries against its schedule at the end of this run's interval."""
    settings = get_settings()
    at = context.get("data_interval_end") or datetime.now(UTC)
    states: dict[str, str] = {}
    for feed in load_registry(settings.feeds_dir).values():
        try:
            result, score = sweep(settings, feed, at)
        except NeverPublished:
            states[feed.id] = "never published"
            continue
        states[feed.id] = "fresh" if result.success else f"STALE (score {score.score:.1f})"
    stale = {f: s for f, s in states.items() if s.startswith("STALE")}
    if stale:
        raise AirflowFailException(
            "stale feeds (a window closed longer ago than its grace was not delivered): "
            + ", ".join(f"{f} {s}" for f, s in stale.items())
        )
    return states


def maintenance_round(dataset_id: str, context: dict[str, Any], *, daily: bool) -> dict[str, Any]:
    """One dataset's hourly compaction, or its daily round at the end of the run's interval."""
    settings = get_settings()
    spec = rounds.datasets(settings)[dataset_id]
    with airflow_failure():
        if not daily:
            done = asdict(rounds.compaction(settings, spec))
            owed = export_owed(settings, spec, datetime.now(UTC))
            return done | {"exported": {e.format: e.object_key for e in owed}}
        at = context.get("data_interval_end") or datetime.now(UTC)
        return asdict(rounds.daily(settings, spec, at))
