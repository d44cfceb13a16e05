"""Pipeline steps as plain functions: land -> validate -> protect -> publish -> release.

Each step takes a ``RunContext`` and returns a small JSON-able dict, so any orchestrator
(Airflow here) can call it and pass results along; data moves through the lake, never XCom.
"""

from __future__ import annotations

from typing import Any

from hub.steps.context import RunContext

__all__ = ["RunContext", "run_pipeline"]


def run_pipeline(ctx: RunContext) -> dict[str, Any]:
    """Every step of one window in this process, in order: what each DAG run does.

    Returns the publish step's result, with the release step's under ``"release"``.
    """
    from hub.steps.land import land
    from hub.steps.lineage import traced
    from hub.steps.protect import protect
    from hub.steps.publish import publish
    from hub.steps.release import release
    from hub.steps.validate import validate

    landed = traced(ctx, "land", land)
    validated = traced(ctx, "validate", validate, landed)
    published = traced(ctx, "publish", publish, traced(ctx, "protect", protect, validated))
    if ctx.feed.is_public:
        published["release"] = traced(ctx, "release", release, published)
    return published
