"""Crash points for ``tests/stack/test_crashes.py``: an Airflow listener plugin that only the
workers those tests start load (``AIRFLOW__CORE__PLUGINS_FOLDER`` pointing here and
``HUB_TEST_PAUSE_DIR`` set in their environment). No production process loads it, and it
changes no production code: it wraps, inside one task's own process, the function a step
calls at the chosen point.

A test asks for a pause by writing ``<HUB_TEST_PAUSE_DIR>/<dag_id>.<task_id>.<window>.pause``
(``<window>`` is the run's data interval start in UTC as ``%Y%m%dT%H%M``, or ``any`` for the
first run to get there) holding a crash point:

- ``start``: pause as soon as the task runs, before the step does anything;
- ``after:<module>:<attr>`` / ``before:<module>:<attr>``: pause right after (or before) the
  first call the task makes to that function (``attr`` may be ``Class.method``).

When the task gets there it writes ``<...>.reached`` (its PID and its parent's, the
supervisor) and sleeps while the ``.pause`` file exists: the test kills it there, or stops a
service and deletes the file to let it go on. A retry finds ``.reached`` and does not pause.
"""

from __future__ import annotations

import importlib
import json
import os
import time
from datetime import UTC
from pathlib import Path
from typing import Any, ClassVar

from airflow.plugins_manager import AirflowPlugin
from pluggy import HookimplMarker

hookimpl = HookimplMarker("airflow")


def _window(task_instance: Any) -> str:
    try:
        start = task_instance.get_template_context().get("data_interval_start")
    except Exception:  # no context, no window: only "any" requests match
        return "any"
    return start.astimezone(UTC).strftime("%Y%m%dT%H%M") if start is not None else "any"


def _pause(base: str) -> None:
    Path(f"{base}.reached").write_text(
        json.dumps({"pid": os.getpid(), "ppid": os.getppid(), "at": time.time()})
    )
    while Path(f"{base}.pause").exists():
        time.sleep(0.2)


def _wrap(point: str, base: str) -> None:
    when, module_name, attr = point.split(":", 2)
    owner: Any = importlib.import_module(module_name)
    *path, name = attr.split(".")
    for part in path:
        owner = getattr(owner, part)
    original = getattr(owner, name)
    fired: list[bool] = []

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        first = not fired
        fired.append(True)
        if first and when == "before":
            _pause(base)
        result = original(*args, **kwargs)
        if first and when == "after":
            _pause(base)
        return result

    setattr(owner, name, wrapper)


def _on_running(task_instance: Any) -> None:
    folder = os.environ.get("HUB_TEST_PAUSE_DIR")
    if not folder:
        return
    prefix = f"{folder}/{task_instance.dag_id}.{task_instance.task_id}."
    for window in dict.fromkeys([_window(task_instance), "any"]):
        base = prefix + window
        request = Path(f"{base}.pause")
        if not request.exists() or Path(f"{base}.reached").exists():
            continue
        try:
            point = request.read_text().strip()
            if point == "start":
                _pause(base)
            else:
                _wrap(point, base)
        except Exception as exc:  # say why, where the test looks
            Path(f"{base}.error").write_text(f"{type(exc).__name__}: {exc}")
        return


class CrashPointListener:
    @hookimpl
    def on_task_instance_running(self, previous_state: Any, task_instance: Any) -> None:
        _on_running(task_instance)


class HubCrashPoints(AirflowPlugin):
    name = "hub_test_crash_points"
    listeners: ClassVar[list[Any]] = [CrashPointListener()]
