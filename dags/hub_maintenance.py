"""The lake's upkeep: ``hub_maintenance_compaction`` every hour and ``hub_maintenance`` every
night, one task per dataset.

Compaction merges the small files a frequent feed adds to its partitions, and piled-up
manifests (one snapshot; readers never see a gap); the same hourly task writes the download
files a feed with an ``exports_every`` cadence is owed. The nightly round applies each dataset's declared retention (raw
deliveries without personal data, quarantined rows, stages of abandoned runs, old export
files, lineage events archived to the lake), expires snapshots nobody is owed any more
(promised versions, kept exports and partners' provisions stay), and removes the files no
snapshot refers to. Every deletion is in the audit log.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, task

from hub.core.settings import get_settings
from hub.orchestration.retries import task_defaults
from hub.registry.loader import load_registry
from products import load_products

_DATASETS = [*load_registry(get_settings().feeds_dir), *load_products()]


def build_dag(dag_id: str, schedule: str, daily: bool, summary: str) -> DAG:
    with DAG(
        dag_id=dag_id,
        description=summary,
        doc_md=__doc__,
        schedule=schedule,
        start_date=datetime(2026, 1, 1),
        catchup=False,
        max_active_runs=1,
        tags=["maintenance"],
        default_args=task_defaults(get_settings(), "data-platform"),
    ) as dag:
        for dataset_id in _DATASETS:

            @task(task_id=dataset_id, doc_md=summary)
            def one(dataset_id: str = dataset_id, **context):
                from hub.orchestration.tasks import maintenance_round

                return maintenance_round(dataset_id, context, daily=daily)

            one()
    return dag


compaction_dag = build_dag(
    "hub_maintenance_compaction",
    "40 * * * *",
    False,
    "Merge small data files of crowded partitions (hourly)",
)
nightly_dag = build_dag(
    "hub_maintenance",
    "30 2 * * *",
    True,
    "Retention, snapshot expiry and orphan files (nightly)",
)
