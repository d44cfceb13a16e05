"""How feed and product tasks are retried: one policy for every DAG, set by the deployment
(``HUB_TASK_RETRIES``, ``HUB_TASK_RETRY_DELAY_S``), read when the DAG files are parsed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hub.core.settings import HubSettings


def task_defaults(settings: HubSettings, owner: str) -> dict[str, Any]:
    """Airflow ``default_args`` of a feed's or product's DAG: its owner, the retries with
    exponential back-off, and an hour's time-out per task."""
    return {
        "owner": owner,
        "retries": settings.task_retries,
        "retry_delay": timedelta(seconds=settings.task_retry_delay_s),
        "retry_exponential_backoff": True,
        "execution_timeout": timedelta(hours=1),
    }
