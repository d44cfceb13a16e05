"""``hub_quality_freshness``: every hour, judge each feed's deliveries against its schedule (has
it delivered every window closed longer ago than its grace?), so a feed that stopped delivering
shows up as a failed freshness check in the Airflow UI and in its quality score (a delivery's
own checks cannot see a delivery that never came).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, task

with DAG(
    dag_id="hub_quality_freshness",
    description="Freshness of every feed's published data against its provision cycle",
    doc_md=__doc__,
    schedule="5 * * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["quality"],
    default_args={"owner": "data-platform", "retries": 0, "retry_delay": timedelta(minutes=1)},
) as dag:

    @task(task_id="sweep")
    def sweep(**context):
        """Fails when a feed is stale, naming it; every result is stored either way."""
        from hub.orchestration.tasks import quality_sweep

        return quality_sweep(context)

    sweep()
