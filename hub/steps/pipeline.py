"""Every step of one window in this process, in order: what each feed's DAG run does."""

from __future__ import annotations

from typing import Any

from hub.steps.context import RunContext
from hub.steps.lineage import traced
from hub.steps.plan import step, steps_for


def run_step(ctx: RunContext, name: str, previous: dict[str, Any] | None = None) -> Any:
    """One step between its lineage START and COMPLETE (or FAIL) events."""
    function = step(name).function()
    return (
        traced(ctx, name, function) if previous is None else traced(ctx, name, function, previous)
    )


def run_pipeline(ctx: RunContext) -> dict[str, Any]:
    """Run the feed's steps in order, each on the result of the one before.

    Returns the publish step's result, with the release step's under ``"release"`` and the
    cleanup step's under ``"cleanup"``; ``"destroyed_objects"`` counts what cleanup destroyed.
    """
    published: dict[str, Any] = {}
    result: dict[str, Any] | None = None
    for s in steps_for(ctx.feed):
        result = run_step(ctx, s.name, result)
        if s.name == "publish":
            published = result
        elif s.name in ("release", "cleanup"):
            published[s.name] = result
    published["destroyed_objects"] = published["cleanup"]["destroyed_objects"]
    return published
