"""Task bodies the DAGs call: each is a thin wrapper around one pipeline step.

A terminal hub error (bad input) fails the task without retries; a transient one lets
Airflow's retries try again.
"""

from __future__ import annotations

from typing import Any


def _window(context: dict[str, Any]) -> tuple[Any, Any]:
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    if start is None or end is None or end <= start:
        raise ValueError(
            f"run {context.get('run_id')} has no data interval ({start} .. {end}); "
            "trigger it with a logical date on the feed's schedule"
        )
    return start, end


def run_step(step: str, feed_id: str, context: dict[str, Any], previous: Any = None) -> Any:
    from airflow.exceptions import AirflowFailException

    from hub.core.errors import HubError
    from hub.steps.context import RunContext
    from hub.steps.lineage import traced

    start, end = _window(context)
    ctx = RunContext.create(feed_id, start, end, context["run_id"])
    try:
        if step == "land":
            from hub.steps.land import land

            return traced(ctx, step, land)
        if step == "validate":
            from hub.steps.validate import validate

            return traced(ctx, step, validate, previous)
        if step == "protect":
            from hub.steps.protect import protect

            return traced(ctx, step, protect, previous)
        if step == "publish":
            from hub.steps.publish import publish

            return traced(ctx, step, publish, previous)
        if step == "release":
            from hub.steps.release import release

            return traced(ctx, step, release, previous)
    except HubError as exc:
        if exc.transient:
            raise
        raise AirflowFailException(f"{type(exc).__name__}: {exc}") from exc
    raise ValueError(f"unknown step {step!r}")


def run_product(product_id: str, context: dict[str, Any]) -> Any:
    """Build one derived product; a bad input fails the task without retries."""
    from airflow.exceptions import AirflowFailException

    from hub.core.errors import HubError
    from hub.core.settings import get_settings
    from hub.steps.derive import derive

    try:
        return derive(product_id, context["run_id"], get_settings())
    except HubError as exc:
        if exc.transient:
            raise
        raise AirflowFailException(f"{type(exc).__name__}: {exc}") from exc


def quality_sweep(context: dict[str, Any]) -> dict[str, str]:
    """Judge every published feed's freshness at the end of this run's interval."""
    from datetime import UTC, datetime

    from airflow.exceptions import AirflowFailException

    from hub.core.settings import get_settings
    from hub.registry.loader import load_registry
    from quality.freshness import NeverPublished, sweep

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
            "stale feeds (no data within their provision cycle): "
            + ", ".join(f"{f} {s}" for f, s in stale.items())
        )
    return states
