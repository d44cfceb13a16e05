"""The Airflow environment the hub runs its DAGs in, kept under ``HUB_HOME/airflow``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from hub.core.errors import HubError
from hub.core.settings import PROJECT_ROOT, HubSettings
from hub.orchestration.dag_runs import MARK


def airflow_env(settings: HubSettings, *, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for ``airflow`` commands: local SQLite metadata, the hub's dags, no examples.

    The hub's own settings are passed on resolved (absolute home, S3 endpoint) so task
    processes see the same lake as the caller.
    """
    home = airflow_home(settings)
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            "HUB_HOME": str(settings.home_dir),
            "HUB_FEEDS_DIR": str(settings.feeds_dir),
            "HUB_S3_ENDPOINT": settings.s3().endpoint,
            "HUB_BUCKET_PREFIX": settings.bucket_prefix,
            "PYTHONUNBUFFERED": "1",
            # standalone starts its components as `airflow ...` found on PATH
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        }
    )
    if settings.database_url:
        env["HUB_DATABASE_URL"] = settings.database_url
    env.update(extra or {})
    return env


def airflow_home(settings: HubSettings) -> Path:
    return (settings.airflow_home or settings.home_dir / "airflow").resolve()


def airflow_bin() -> str:
    return str(Path(sys.executable).parent / "airflow")


def migrate_airflow(settings: HubSettings) -> None:
    """Create or upgrade Airflow's metadata database (once per home and Airflow version)."""
    import airflow

    marker = airflow_home(settings) / f".migrated-{airflow.__version__}"
    if marker.exists():
        return
    env = airflow_env(settings)
    proc = subprocess.run(
        [airflow_bin(), "db", "migrate"], env=env, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise HubError(f"airflow db migrate failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    marker.touch()


def dags_test_many(
    settings: HubSettings,
    runs: list[tuple[str, datetime]],
    *,
    log_file: Path,
    extra_env: dict[str, str] | None = None,
    on_result: Callable[[dict], None] | None = None,
) -> list[dict[str, str | None]]:
    """Run several DAG runs, in order, in one process (``hub.orchestration.dag_runs``).

    Returns one ``{"dag_id", "logical_date", "state", "error"}`` per run, handing each to
    ``on_result`` as it finishes; the output of all of them goes to ``log_file``, each run
    under a ``===== dag date =====`` heading.
    """

    migrate_airflow(settings)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    results: list[dict[str, str | None]] = []
    with log_file.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hub.orchestration.dag_runs",
                *(f"{dag_id}={when.isoformat()}" for dag_id, when in runs),
            ],
            env=airflow_env(settings, extra=extra_env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=PROJECT_ROOT,
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            if line.startswith(MARK):
                results.append(json.loads(line[len(MARK) :]))
                if on_result is not None:
                    on_result(results[-1])
        proc.wait()
    if len(results) != len(runs):
        raise HubError(
            f"DAG runs stopped after {len(results)} of {len(runs)} (exit {proc.returncode}); "
            f"see {log_file}"
        )
    return results
