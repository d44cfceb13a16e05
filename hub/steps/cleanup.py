"""Cleanup: the last step of a run, the only one that deletes what the run's steps read.

Until every other step of the run has succeeded, the run's stages and the identified raw
delivery stay, so any step can be retried or cleared after failing at any line (the DAG's
cleanup task keeps Airflow's default trigger rule, all_success). Then cleanup removes every
stage under the run's prefix, destroys the identified delivery when its retention ends (and
registers it), completes the trusted release report with that destruction, and marks the run
done. Run again, it finds nothing left to remove and changes nothing.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from typing import Any

from catalog.models import DestructionRecord, Release
from hub.core.time import utc_now
from hub.steps import stage
from hub.steps.context import RunContext
from hub.steps.destroy import destroy_identified
from hub.steps.registers import run_rows, update_row
from privacy.report import ReleaseFacts, render

log = logging.getLogger(__name__)


def report_destruction(ctx: RunContext) -> None:
    """State in the run's trusted release report how many identified objects it destroyed
    (the register's count for the run, so a repeated cleanup writes the same report)."""
    if ctx.feed.privacy is None:
        return
    destroyed = len(run_rows(ctx, DestructionRecord))
    for row in run_rows(ctx, Release, zone="trusted"):
        detail = json.loads(row.detail)
        if "facts" not in detail:  # a report written before the cleanup step existed
            continue
        facts = ReleaseFacts(**{**detail["facts"], "destroyed_objects": destroyed})
        report_ko, report_en = render(facts, ctx.feed.privacy)
        detail["facts"] = asdict(facts)
        update_row(
            ctx,
            row,
            report_ko=report_ko,
            report_en=report_en,
            detail=json.dumps(detail, ensure_ascii=False, default=str),
        )


def cleanup(ctx: RunContext, previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """Remove the run's stages, destroy what is due, and mark the run done.

    Raises:
        LakeError: the object store failed; a retry picks up where this attempt stopped.
    """
    store = ctx.store()
    removed = stage.remove(ctx, store)
    destroyed = destroy_identified(ctx, store)
    report_destruction(ctx)
    ctx.record(status="published", step="done", error=None, finished_at=utc_now())
    log.info(
        "%s: removed %d stage objects under s3://%s/%s; destroyed %d identified raw objects",
        ctx.where,
        len(removed),
        ctx.settings.bucket("raw"),
        stage.run_prefix(ctx),
        len(destroyed),
    )
    return {"stages_removed": len(removed), "destroyed_objects": len(destroyed)}
