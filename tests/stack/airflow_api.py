"""What the Airflow UI does, through Airflow 3's REST API (``/api/v2``): unpause, backfill, read
runs, task instances and their XComs. Each call raises on an error answer."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

TERMINAL = {"success", "failed"}


def unpause(api: httpx.Client, dag_id: str) -> None:
    answer = api.patch(f"/dags/{dag_id}", json={"is_paused": False})
    answer.raise_for_status()
    assert answer.json()["is_paused"] is False, answer.text


def backfill(
    api: httpx.Client, dag_id: str, first: datetime, last: datetime, *, max_active_runs: int
) -> dict[str, Any]:
    """A backfill of every run whose logical date is in [first, last] (POST /backfills)."""
    answer = api.post(
        "/backfills",
        json={
            "dag_id": dag_id,
            "from_date": first.isoformat(),
            "to_date": last.isoformat(),
            "max_active_runs": max_active_runs,
            "reprocess_behavior": "none",
        },
    )
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def backfills_done(api: httpx.Client, dag_id: str) -> bool:
    """No backfill of the DAG is still running (the scheduler marks one completed a loop after
    its last run ends; until then a new one is refused)."""
    answer = api.get("/backfills", params={"dag_id": dag_id, "limit": 100})
    answer.raise_for_status()
    return all(b["completed_at"] is not None for b in answer.json()["backfills"])


def dag_runs(api: httpx.Client, dag_id: str) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    while True:
        answer = api.get(
            f"/dags/{dag_id}/dagRuns",
            params={"limit": 100, "offset": len(runs), "order_by": "logical_date"},
        )
        answer.raise_for_status()
        page = answer.json()
        runs += page["dag_runs"]
        if not page["dag_runs"] or len(runs) >= (page.get("total_entries") or 10**9):
            return runs


def task_instances(api: httpx.Client, dag_id: str, run_id: str) -> list[dict[str, Any]]:
    answer = api.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 100})
    answer.raise_for_status()
    return answer.json()["task_instances"]


def xcom(api: httpx.Client, dag_id: str, run_id: str, task_id: str) -> Any:
    answer = api.get(
        f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value",
        params={"deserialize": True},
    )
    answer.raise_for_status()
    return answer.json()["value"]


def upstream_asset_events(api: httpx.Client, dag_id: str, run_id: str) -> list[dict[str, Any]]:
    """The Asset events that set a run off (the run's "Source assets" in the UI)."""
    answer = api.get(f"/dags/{dag_id}/dagRuns/{run_id}/upstreamAssetEvents")
    answer.raise_for_status()
    return answer.json()["asset_events"]


def wait_for(check: Callable[[], Any], *, timeout_s: float, every_s: float = 10, what: str) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` and the last value."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every_s)
    raise AssertionError(f"{what}: not within {timeout_s:.0f} s (last: {last})")


def trigger(
    api: httpx.Client, dag_id: str, run_id: str, start: datetime, end: datetime
) -> dict[str, Any]:
    """A manual run of one window (the UI's "Trigger" with a logical date and data interval)."""
    answer = api.post(
        f"/dags/{dag_id}/dagRuns",
        json={
            "dag_run_id": run_id,
            "logical_date": start.isoformat(),
            "data_interval_start": start.isoformat(),
            "data_interval_end": end.isoformat(),
        },
    )
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def task_instances_in(api: httpx.Client, dag_id: str, states: list[str]) -> list[dict[str, Any]]:
    """A DAG's task instances, of every run, in one of ``states`` (the UI's Browse > Task
    Instances with a state filter)."""
    answer = api.get(
        f"/dags/{dag_id}/dagRuns/~/taskInstances", params={"state": states, "limit": 100}
    )
    answer.raise_for_status()
    return answer.json()["task_instances"]


def clear(
    api: httpx.Client, dag_id: str, run_id: str, task_ids: list[str], *, downstream: bool
) -> list[dict[str, Any]]:
    """The UI's "Clear" of tasks of one run (POST clearTaskInstances): they run again."""
    answer = api.post(
        f"/dags/{dag_id}/clearTaskInstances",
        json={
            "dry_run": False,
            "dag_run_id": run_id,
            "task_ids": task_ids,
            "only_failed": False,
            "include_downstream": downstream,
            "reset_dag_runs": True,
        },
    )
    answer.raise_for_status()
    return answer.json()["task_instances"]
