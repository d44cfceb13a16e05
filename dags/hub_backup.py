"""``hub_backup``: every night at 03:00 city time, back up what the lake cannot rebuild.

The catalog database (datasets, versions, registers, the audit chain and the Iceberg tables'
pointers to their metadata) and the key vault are copied consistently while feeds keep running;
the vault's copy is encrypted under ``HUB_BACKUP_KEY``. Backups go to ``HUB_BACKUP_LOCATION``,
or on a deployed hub to its own ``backups`` bucket (which only the pipeline's S3 identity can
reach), apart from the lake's buckets; the newest ``HUB_BACKUP_KEEP`` (14 unless set) are kept.
Each backup is an audit entry.

To bring one back: stop the pipeline and the web app, then `hub backup list` and
`hub restore BACKUP_ID --yes`, which checks the rows, the audit chain, the Iceberg metadata
files, the downloads and the vault's keys. A failed run leaves no half-written backup: retry or
clear it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG, task
from airflow.timetables.trigger import CronTriggerTimetable

from hub.core.settings import get_settings
from hub.orchestration.retries import task_defaults

with DAG(
    dag_id="hub_backup",
    description="Nightly backup of the catalog database and the key vault, apart from the lake",
    doc_md=__doc__,
    # 03:00 in the city: after the nightly feeds' windows close, before the working day
    schedule=CronTriggerTimetable("0 3 * * *", timezone=get_settings().timezone),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["upkeep", "backup"],
    default_args=task_defaults(get_settings(), "data-platform"),
) as dag:

    @task(task_id="backup")
    def run_backup() -> dict[str, Any]:
        """Writes one backup and prunes the old ones; returns what was written where."""
        from hub.upkeep.backup import backup

        return backup(get_settings(), purpose="nightly backup (hub_backup DAG)").summary()

    run_backup()
