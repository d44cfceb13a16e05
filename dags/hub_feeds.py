"""One Airflow DAG per feed in the registry (``feeds/*.yaml``).

Nothing heavy is imported here: each task body imports its step when it runs. The steps and
their order come from ``hub.steps.plan``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG, task
from airflow.timetables.interval import CronDataIntervalTimetable

from hub.core.settings import get_settings
from hub.orchestration.assets import zone_asset
from hub.orchestration.retries import task_defaults
from hub.registry import FeedSpec, load_registry
from hub.registry.docs import feed_doc_md
from hub.steps.plan import Step, steps_for


def _task(feed_id: str, step: Step) -> Any:
    """The Airflow task of one step; its Asset is the zone table the step changes."""
    outlets = [zone_asset(step.zone, feed_id)] if step.zone else []

    @task(task_id=step.name, outlets=outlets, doc_md=step.doc)
    def run(previous: Any = None, **context: Any) -> Any:
        # imported when the task runs: the steps bring pyiceberg and GX, too heavy for parsing
        from hub.orchestration.tasks import feed_step

        return feed_step(step.name, feed_id, context, previous)

    return run


def build_dag(feed: FeedSpec) -> DAG:
    with DAG(
        dag_id=feed.id,
        description=feed.title.en,
        doc_md=feed_doc_md(feed),
        schedule=CronDataIntervalTimetable(feed.schedule.cron, timezone=feed.schedule.timezone),
        start_date=datetime(2026, 1, 1),
        catchup=False,
        max_active_runs=1,
        tags=feed.tags,
        default_args=task_defaults(get_settings(), feed.department.id),
    ) as dag:
        previous = None
        for step in steps_for(feed):
            run = _task(feed.id, step)
            previous = run() if previous is None else run(previous)
    return dag


for _feed in load_registry(get_settings().feeds_dir).values():
    globals()[f"dag_{_feed.id}"] = build_dag(_feed)
