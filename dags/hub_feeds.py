"""One Airflow DAG per feed in the registry (``feeds/*.yaml``).

Nothing heavy is imported here: each task body imports its step when it runs.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, task
from airflow.timetables.interval import CronDataIntervalTimetable

from hub.core.settings import get_settings
from hub.orchestration.assets import zone_asset
from hub.registry import FeedSpec, load_registry
from hub.registry.docs import feed_doc_md


def build_dag(feed: FeedSpec) -> DAG:
    raw, quarantine, trusted, open_ = (
        zone_asset(z, feed.id) for z in ("raw", "quarantine", "trusted", "open")
    )
    with DAG(
        dag_id=feed.id,
        description=feed.title.en,
        doc_md=feed_doc_md(feed),
        schedule=CronDataIntervalTimetable(feed.schedule.cron, timezone=feed.schedule.timezone),
        start_date=datetime(2026, 1, 1),
        catchup=False,
        max_active_runs=1,
        tags=feed.tags,
        default_args={
            "owner": feed.department.id,
            "retries": 2,
            "retry_delay": timedelta(minutes=1),
            "retry_exponential_backoff": True,
            "execution_timeout": timedelta(hours=1),
        },
    ) as dag:

        @task(task_id="land", outlets=[raw], doc_md="Pull the delivery into the raw zone.")
        def land(**context):
            from hub.orchestration.tasks import run_step

            return run_step("land", feed.id, context)

        @task(task_id="validate", outlets=[quarantine], doc_md="Parse to the declared schema.")
        def validate(landed, **context):
            from hub.orchestration.tasks import run_step

            return run_step("validate", feed.id, context, landed)

        @task(task_id="protect", doc_md="Apply the privacy policy; scan for PII; register.")
        def protect(validated, **context):
            from hub.orchestration.tasks import run_step

            return run_step("protect", feed.id, context, validated)

        @task(task_id="publish", outlets=[trusted], doc_md="Commit one Iceberg snapshot.")
        def publish(protected, **context):
            from hub.orchestration.tasks import run_step

            return run_step("publish", feed.id, context, protected)

        published = publish(protect(validate(land())))
        if feed.is_public:

            @task(task_id="release", outlets=[open_], doc_md="Anonymized open release (k-gate).")
            def release(published, **context):
                from hub.orchestration.tasks import run_step

                return run_step("release", feed.id, context, published)

            release(published)
    return dag


for _feed in load_registry(get_settings().feeds_dir).values():
    globals()[f"dag_{_feed.id}"] = build_dag(_feed)
