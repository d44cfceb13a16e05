"""Crash injection on the production topology (issue 15): every window converges.

Each case is one window of a feed whose run meets one fault, at a known point, while other runs
are in flight:

- ``worker-kill``: ``kill -9`` of both Celery workers' process groups (a power cut) while each
  task of ``air_quality_hourly`` and ``bike_trips`` (personal data) stands just after its first
  durable effect: land after sealing the delivery, validate and protect after writing their
  stage, publish and release after their Iceberg commit, cleanup after removing the stages; in
  the same cut a product build (``product_bike_demand``) stands between its trusted and open
  commits. Two new workers take over.
- ``task-kill``: ``kill -9`` of one task's supervisor and task process (an OOM kill); the
  worker lives on.
- ``s3-restart``: SeaweedFS stopped while publish is about to commit, then started again.
- ``postgres-restart``: PostgreSQL restarted (every connection of every service cut) mid-run.
- ``scheduler-kill``: ``kill -9`` of the scheduler with the run in flight, then a new one.

The points are reached through a listener plugin only these tests' workers load
(``tests/stack/plugins/hub_crash_points.py``): the task pauses there, the test injects the
fault. A dead worker's task is found by the scheduler's heartbeat timeout (lowered for this
module) and put up for retry; the test then clears it through the REST API instead of waiting
for the DAGs' one-minute retry delay (it clears a failed task of a run at most once).

Then, as a user would check: every run succeeded; each window's trusted rows are exactly the
rows its validate step passed, each key once; the open release likewise; one trusted and one
open snapshot per run, each with the run's marks, and no snapshot in either table without
them; one version row and one publish and release audit entry per run; the audit chain
verifies; no stage of the run is left under ``_stage/``; bike members' tokens are the vault
key's HMAC of their ids, whichever worker protected them, and the same as the first
(killed) attempt wrote; the product's tables are one build of the input snapshot they name.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pytest

from hub.lake.objectstore import ObjectStore
from hub.services.process import wait_until
from simulators import drops
from tests.stack import airflow_api as af
from tests.stack.conftest import start_airflow_worker, worker_ready
from tests.stack.topology_run import Process, descendants

pytestmark = [pytest.mark.stack, pytest.mark.crashes, pytest.mark.timeout(50 * 60)]

KST = ZoneInfo("Asia/Seoul")
AQ, BIKE, PRODUCT = "air_quality_hourly", "bike_trips", "product_bike_demand"
STEPS = ("land", "validate", "protect", "publish", "release", "cleanup")
#: just after each step's first durable effect (the functions the steps call there)
AFTER = {
    "land": "after:hub.lake.raw:RawLanding.seal",
    "validate": "after:hub.steps.stage:write",
    "protect": "after:hub.steps.stage:write",
    "publish": "after:hub.lake.iceberg:replace_window",
    "release": "after:hub.lake.iceberg:replace_window",
    "cleanup": "after:hub.steps.stage:remove",
}
BEFORE_COMMIT = "before:hub.lake.iceberg:replace_window"
#: the step has done all it does; Airflow has not heard yet
STEP_DONE = "after:hub.orchestration.tasks:run_step"
#: the product between its trusted commit and its open one
PRODUCT_POINT = "after:hub.lake.iceberg:replace_all"
#: windows no other stack test touches
HOURS = [datetime(2026, 11, 3, tzinfo=KST) + timedelta(hours=h) for h in range(11)]
DAYS = [datetime(2026, 11, 4, tzinfo=KST) + timedelta(days=d) for d in range(10)]
#: the scheduler finds a dead worker's task in ~30 s instead of 5 min; queued tasks a dead
#: worker had reserved are sent again after 2 min; orphans of a dead scheduler are adopted soon
SCHEDULER_ENV = {
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "30",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
    "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "120",
    "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "20",
}
PLUGINS = Path(__file__).parent / "plugins"
RUN_MARKS = ("hub.run-id", "hub.delivery-id", "hub.raw-checksum", "hub.window-start")
TOKEN = re.compile(r"^v(\d+)_[0-9a-f]{32}$")


@dataclass(frozen=True)
class Case:
    fault: str
    feed: str
    start: datetime
    step: str | None = None
    point: str | None = None
    label: str | None = None

    @property
    def id(self) -> str:
        return "/".join(p for p in (self.fault, self.feed, self.step, self.label) if p)

    @property
    def end(self) -> datetime:
        return self.start + (timedelta(hours=1) if self.feed == AQ else timedelta(days=1))

    @property
    def key(self) -> str:
        """The pause request's name (tests/stack/plugins/hub_crash_points.py)."""
        return f"{self.feed}.{self.step}.{self.start.astimezone(UTC):%Y%m%dT%H%M}"


POWER_CUT = [
    *(Case("worker-kill", AQ, HOURS[i], s, AFTER[s]) for i, s in enumerate(STEPS)),
    *(Case("worker-kill", BIKE, DAYS[i], s, AFTER[s]) for i, s in enumerate(STEPS)),
    Case("worker-kill", AQ, HOURS[6], "land", STEP_DONE, "step-done"),
]
LATER = [
    Case("task-kill", AQ, HOURS[7], "publish", AFTER["publish"]),
    Case("task-kill", BIKE, DAYS[6], "protect", AFTER["protect"]),
    Case("s3-restart", AQ, HOURS[8], "publish", BEFORE_COMMIT),
    Case("s3-restart", BIKE, DAYS[7], "publish", BEFORE_COMMIT),
    Case("postgres-restart", AQ, HOURS[9], "protect", AFTER["protect"]),
    Case("postgres-restart", BIKE, DAYS[8], "validate", AFTER["validate"]),
    Case("scheduler-kill", AQ, HOURS[10]),
    Case("scheduler-kill", BIKE, DAYS[9]),
]
CASES = POWER_CUT + LATER
PRODUCT_KEY = f"{PRODUCT}.build.any"


@dataclass
class Crashes:
    """What the module's runs went through, and what the lake and catalog say afterwards."""

    pauses: Path
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)  # case id -> final dag run
    tis: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    faults: dict[str, str] = field(default_factory=dict)  # case id / product -> what was done
    stage_tokens: dict[str, dict[str, str]] = field(default_factory=dict)  # first attempt's
    clears: Counter = field(default_factory=Counter)
    restarted: list[str] = field(default_factory=list)
    product_runs: list[dict[str, Any]] = field(default_factory=list)
    drops: dict[datetime, dict[str, bytes]] = field(default_factory=dict)
    elapsed_s: float = 0.0


def _request(pauses: Path, key: str, point: str) -> None:
    (pauses / f"{key}.pause").write_text(point)


def _reached(pauses: Path, key: str) -> dict[str, Any] | None:
    error = pauses / f"{key}.error"
    if error.exists():
        raise AssertionError(f"crash point {key}: {error.read_text()}")
    path = pauses / f"{key}.reached"
    return json.loads(path.read_text()) if path.exists() else None


def _release(pauses: Path, key: str) -> None:
    (pauses / f"{key}.pause").unlink(missing_ok=True)


def _workers(stack) -> list[Process]:
    return [
        p
        for p in stack.topo.processes.values()
        if p.argv[1:3] == ["celery", "worker"] and p.alive()
    ]


def _start_workers(stack, names: tuple[str, ...], pauses: Path, concurrency: int) -> None:
    env = SCHEDULER_ENV | {
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PLUGINS),
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(concurrency),
        "HUB_TEST_PAUSE_DIR": str(pauses),
    }
    started = [start_airflow_worker(stack.topo, name, env) for name in names]
    for worker in started:
        worker.wait_for(lambda w=worker: worker_ready(w), timeout_s=180, what="ready")


def _alive(pid: int) -> bool:
    """A process that runs (a zombie waiting for its parent to reap it does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _run_id(case: Case) -> str:
    return f"crash__{case.start.astimezone(UTC):%Y%m%dT%H%M}"


def _stage_tokens(stack, case: Case) -> dict[str, str]:
    """trip_id -> member token in the protected stage the (paused) first attempt wrote."""
    import io

    import pyarrow.parquet as pq

    store = ObjectStore(stack.hub_settings())
    stamp = case.start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    keys = [
        k
        for k in store.list("raw", f"_stage/{BIKE}/partition={stamp}/")
        if k.endswith("/protected.parquet")
    ]
    assert len(keys) == 1, keys
    table = pq.read_table(io.BytesIO(store.get("raw", keys[0])))
    return dict(zip(table["trip_id"].to_pylist(), table["member_id"].to_pylist(), strict=True))


class Driver:
    """Runs the cases' faults as their points are reached, and clears what a crash left."""

    def __init__(
        self, stack, crashes: Crashes, runs: dict[str, tuple[str, str]], began: datetime
    ) -> None:
        self.stack = stack
        self.c = crashes
        self.runs = runs  # case id -> (dag id, run id)
        self.began = began
        self.products: dict[str, dict[str, Any]] = {}  # the product's runs since then
        self.failed_cleared: set[tuple[str, str]] = set()

    def ours(self, dag_id: str, run_id: str) -> bool:
        return (dag_id, run_id) in set(self.runs.values()) or (
            dag_id == PRODUCT and run_id in self.products
        )

    def settled(self, api: httpx.Client) -> tuple[bool, dict[str, dict[str, Any]]]:
        """Every case's run and every product run since the module began has finished (a
        failed one only after its one clear)."""
        every = {(r["dag_id"], r["dag_run_id"]): r for r in af.dag_runs(api, AQ)}
        every |= {(r["dag_id"], r["dag_run_id"]): r for r in af.dag_runs(api, BIKE)}
        finals = {case_id: every[run] for case_id, run in self.runs.items()}
        self.products = {
            r["dag_run_id"]: r
            for r in af.dag_runs(api, PRODUCT)
            if datetime.fromisoformat(r["run_after"]) >= self.began
        }
        runs = [*finals.values(), *self.products.values()]
        done = bool(self.products) and all(
            r["state"] == "success"
            or (r["state"] == "failed" and (r["dag_id"], r["dag_run_id"]) in self.failed_cleared)
            for r in runs
        )
        return done, finals

    def clear_what_crashed(self, api: httpx.Client) -> None:
        """Up for retry: run it now (the retry Airflow would make a minute later). Failed: one
        clear of the task and what follows it, per run."""
        crashed = [
            ti
            for dag_id in (AQ, BIKE, PRODUCT)
            for ti in af.task_instances_in(api, dag_id, ["up_for_retry", "failed"])
        ]
        for ti in crashed:
            dag_id, run_id, task_id = ti["dag_id"], ti["dag_run_id"], ti["task_id"]
            if not self.ours(dag_id, run_id):
                continue
            if ti["state"] == "up_for_retry":
                af.clear(api, dag_id, run_id, [task_id], downstream=False)
            elif (dag_id, run_id) not in self.failed_cleared:
                self.failed_cleared.add((dag_id, run_id))
                af.clear(api, dag_id, run_id, [task_id], downstream=True)
            else:
                continue
            self.c.clears[f"{dag_id}/{run_id}/{task_id}/{ti['state']}"] += 1

    def keep_services_up(self) -> None:
        """A service that died (the scheduler after its database went away, say) starts
        again, as the topology's restart policy (unless-stopped) does."""
        for name, proc in list(self.stack.topo.processes.items()):
            if name in ("init", "postgres", "s3") or proc.alive():
                continue
            if name.startswith(("worker", "cold")):  # stopped on purpose
                continue
            if name in ("crash1", "crash2") and "power cut" in self.c.faults.get("_cut", ""):
                continue
            self.c.restarted.append(f"{name} (exit {proc.proc.returncode if proc.proc else '-'})")
            if name == "airflow-scheduler":
                self.stack.restart_scheduler()
            else:
                self.stack.restart(name)

    def inject(self, api: httpx.Client, case: Case) -> bool:
        """The case's fault, if its point is reached; True once injected."""
        pauses = self.c.pauses
        if case.fault == "scheduler-kill":
            dag_id, run_id = self.runs[case.id]
            running = [t for t in af.task_instances(api, dag_id, run_id) if t["state"] == "running"]
            if not running:
                return False
            self.stack.restart_scheduler(kill=True)
            self.c.faults[case.id] = f"scheduler killed while {running[0]['task_id']} ran"
            return True
        reached = _reached(pauses, case.key)
        if reached is None:
            return False
        if case.feed == BIKE and case.step == "protect":
            self.c.stage_tokens[case.id] = _stage_tokens(self.stack, case)
        if case.fault == "task-kill":
            # the task's supervisor is a process of a worker this module started
            worker = os.getpgid(reached["ppid"])
            assert worker in {w.pid for w in _workers(self.stack)}, (reached, worker)
            assert reached["pid"] in descendants(worker), reached
            for pid in (reached["pid"], reached["ppid"]):  # the task and its supervisor
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.c.faults[case.id] = f"task pid {reached['pid']} and supervisor killed"
        elif case.fault == "s3-restart":
            self.stack.stop_s3()
            _release(pauses, case.key)  # publish goes on against a stopped S3
            time.sleep(15)
            self.stack.start_s3()
            self.c.faults[case.id] = "S3 stopped at publish's commit, started 15 s later"
        elif case.fault == "postgres-restart":
            self.stack.restart_postgres()
            self.c.faults[case.id] = f"PostgreSQL restarted after {case.step}'s stage write"
        _release(pauses, case.key)
        return True


@pytest.fixture(scope="module")
def crashed(stack) -> Crashes:
    began = time.monotonic()
    began_at = datetime.now(UTC)
    pauses = stack.topo.root / "pauses"
    pauses.mkdir(exist_ok=True)
    crashes = Crashes(pauses=pauses)

    # the scheduler with short heartbeat thresholds; only this module's workers
    stack.restart_scheduler(extra_env=SCHEDULER_ENV)
    for worker in _workers(stack):
        worker.stop(grace_s=30)
    # 14 tasks stand paused at once before the power cut: room for them and for the rest
    _start_workers(stack, ("crash1", "crash2"), pauses, concurrency=10)

    inbox = ObjectStore(stack.hub_settings("INBOX"))
    for day in DAYS:
        crashes.drops[day] = drops.DROPS[BIKE](day, 7)
        for key, data in crashes.drops[day].items():
            inbox.put("inbox", key, data)
    for case in POWER_CUT:
        _request(pauses, case.key, case.point)
    _request(pauses, PRODUCT_KEY, PRODUCT_POINT)

    with stack.client() as api:
        for dag_id in (AQ, BIKE, PRODUCT):
            af.unpause(api, dag_id)
        for dag_id in (AQ, BIKE):  # an earlier module's backfill may not be marked done yet
            af.wait_for(
                lambda d=dag_id: af.backfills_done(api, d),
                timeout_s=5 * 60,
                every_s=5,
                what=f"{dag_id}'s earlier backfills completed",
            )
        af.backfill(api, AQ, HOURS[0], HOURS[6], max_active_runs=7)
        af.backfill(api, BIKE, DAYS[0], DAYS[5], max_active_runs=6)
        runs: dict[str, tuple[str, str]] = {}

        def all_reached():
            for case in POWER_CUT:
                first = case.id not in crashes.stage_tokens and case.step == "protect"
                if first and case.feed == BIKE and _reached(pauses, case.key):
                    crashes.stage_tokens[case.id] = _stage_tokens(stack, case)
            waiting = [c.key for c in POWER_CUT if not _reached(pauses, c.key)]
            waiting += [] if _reached(pauses, PRODUCT_KEY) else [PRODUCT_KEY]
            return not waiting or None

        af.wait_for(all_reached, timeout_s=20 * 60, every_s=3, what="every power-cut point")

        # the power cut: both workers, every task on them, at once
        paused = [_reached(pauses, c.key) for c in POWER_CUT] + [_reached(pauses, PRODUCT_KEY)]
        for worker in _workers(stack):
            worker.kill9()
        crashes.faults["_cut"] = "power cut"
        for case, where in zip([*POWER_CUT, None], paused, strict=True):
            pids = (where["pid"], where["ppid"])  # SIGKILL is delivered, not done, at once
            gone = wait_until(lambda p=pids: not any(_alive(i) for i in p), timeout_s=10)
            assert gone, f"{[p for p in pids if _alive(p)]} survived the power cut"
            crashes.faults[case.id if case else PRODUCT] = "both workers killed (kill -9)"
        for case in POWER_CUT:
            _release(pauses, case.key)
        _release(pauses, PRODUCT_KEY)
        _start_workers(stack, ("crash3", "crash4"), pauses, concurrency=4)

        for r in af.dag_runs(api, AQ) + af.dag_runs(api, BIKE):
            start = datetime.fromisoformat(r["data_interval_start"])
            for case in POWER_CUT:
                if case.feed == r["dag_id"] and case.start == start and r["run_type"] == "backfill":
                    runs[case.id] = (r["dag_id"], r["dag_run_id"])
        assert len(runs) == len(POWER_CUT), runs

        for case in LATER:
            if case.point:
                _request(pauses, case.key, case.point)
            af.trigger(api, case.feed, _run_id(case), case.start, case.end)
            runs[case.id] = (case.feed, _run_id(case))

    driver = Driver(stack, crashes, runs, began_at)
    pending = list(LATER)
    deadline = time.monotonic() + 35 * 60
    finals: dict[str, dict[str, Any]] = {}
    quiet_since: float | None = None  # settled, and no product run started since: stays so?
    while time.monotonic() < deadline:
        try:
            with stack.client() as api:
                pending = [c for c in pending if not driver.inject(api, c)]
                done, finals = driver.settled(api)
                driver.clear_what_crashed(api)
        except httpx.HTTPError:  # the api-server's database is restarting, say
            time.sleep(3)
            continue
        driver.keep_services_up()
        if not (done and not pending):
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > 30:  # the last publish's product run too
            break
        time.sleep(4)
    crashes.runs = finals
    crashes.product_runs = list(driver.products.values())
    with stack.client() as api:
        for case_id, (dag_id, run_id) in runs.items():
            crashes.tis[case_id] = {t["task_id"]: t for t in af.task_instances(api, dag_id, run_id)}
            for step in ("validate", "release"):
                if crashes.tis[case_id].get(step, {}).get("state") == "success":
                    crashes.tis[case_id][step]["xcom"] = af.xcom(api, dag_id, run_id, step)
    crashes.elapsed_s = time.monotonic() - began
    print(f"\ncrash cases settled in {crashes.elapsed_s:.0f} s; clears {dict(crashes.clears)}")
    print(f"services restarted: {crashes.restarted}")
    return crashes


# ---------------------------------------------------------------------------------------------
# What the lake and the catalog hold
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lake(stack, crashed):
    from hub.lake import iceberg

    catalog = iceberg.table_catalog(stack.hub_settings())
    tables = {}
    for zone in ("trusted", "open"):
        for name in (AQ, BIKE, "bike_demand"):
            table = catalog.load_table((zone, name))
            tables[zone, name] = (table, table.scan().to_arrow())
    return tables


def _window_rows(data: pa.Table, column: str, case: Case) -> pa.Table:
    low = pa.scalar(case.start, type=data[column].type)
    high = pa.scalar(case.end, type=data[column].type)
    return data.filter(pc.and_(pc.greater_equal(data[column], low), pc.less(data[column], high)))


KEYS = {AQ: (("station_id", "measured_at"), "measured_at"), BIKE: (("trip_id",), "rent_at")}


def _keys(rows: pa.Table, feed: str) -> Counter:
    columns, _ = KEYS[feed]
    return Counter(zip(*(rows[c].to_pylist() for c in columns), strict=True))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_the_fault_hit_the_run_while_it_ran(crashed, case):
    assert case.id in crashed.faults, f"{case.id}: never injected ({crashed.faults})"
    if case.fault in ("worker-kill", "task-kill"):
        ti = crashed.tis[case.id][case.step]
        assert ti["try_number"] >= 2, f"{case.step} of {case.id} never ran again: {ti}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_the_window_converges_to_exactly_its_valid_rows(stack, crashed, lake, case):
    run = crashed.runs[case.id]
    states = {t: ti["state"] for t, ti in crashed.tis[case.id].items()}
    assert run["state"] == "success", (run, states)
    rows_valid = crashed.tis[case.id]["validate"]["xcom"]["rows_valid"]
    _, trusted = lake["trusted", case.feed]
    rows = _window_rows(trusted, KEYS[case.feed][1], case)
    keys = _keys(rows, case.feed)
    assert rows.num_rows == rows_valid > 0, (case.id, rows.num_rows, rows_valid)
    assert max(keys.values()) == 1, keys.most_common(2)

    released = crashed.tis[case.id]["release"]["xcom"]
    _, open_data = lake["open", case.feed]
    column = "measured_at" if case.feed == AQ else "trip_id"
    if case.feed == AQ:
        opened = _window_rows(open_data, column, case)
        assert max(_keys(opened, AQ).values()) == 1
        assert opened.num_rows == released["rows"]
    else:  # the open release drops the return leg and coarsens times: its trips are its own
        ours = set(rows["trip_id"].to_pylist())
        opened = open_data.filter(pc.is_in(open_data["trip_id"], pa.array(sorted(ours))))
        assert opened.num_rows == released["rows"] > 0
        assert max(Counter(opened["trip_id"].to_pylist()).values()) == 1


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_one_snapshot_and_version_per_run(stack, crashed, lake, case):
    from catalog import entries

    run_id = crashed.runs[case.id]["dag_run_id"]
    trusted, _ = lake["trusted", case.feed]
    mine = [s for s in trusted.snapshots() if (s.summary or {}).get("hub.run-id") == run_id]
    assert len(mine) == 1, [s.summary for s in mine]
    assert all(mine[0].summary.get(m) for m in RUN_MARKS), mine[0].summary
    opened, _ = lake["open", case.feed]
    mine = [s for s in opened.snapshots() if (s.summary or {}).get("hub.run-id") == run_id]
    assert len(mine) == 1, [s.summary for s in mine]

    url = stack.hub_settings().catalog_url
    versions = [v for v in entries.versions(url, case.feed) if v.run_id == run_id]
    assert len(versions) == 1, versions


#: cases that show a bug in the hub, reported, not yet fixed (strict: a fix makes them fail here)
KNOWN_BUGS: dict[str, str] = {}  # case id -> the bug it shows (xfail strict) while open


def _params(cases: list[Case]) -> list[Any]:
    return [
        pytest.param(
            c,
            id=c.id,
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[c.id])]
            if c.id in KNOWN_BUGS
            else [],
        )
        for c in cases
    ]


@pytest.mark.parametrize("case", _params(CASES))
def test_one_audit_entry_per_step_and_run(stack, crashed, case):
    from sqlalchemy import select

    from catalog.db import session_for
    from catalog.models import AuditEntry

    run_id = crashed.runs[case.id]["dag_run_id"]
    url = stack.hub_settings().catalog_url
    marker = f'"run_id": {json.dumps(run_id)}'
    with session_for(url) as session:
        actions = Counter(
            session.scalars(
                select(AuditEntry.action).where(AuditEntry.detail.contains(marker, autoescape=True))
            )
        )
    # ADR 0005: a rerun of a step adds no second audit entry for its run
    assert (actions["land"], actions["publish"], actions["release"]) == (1, 1, 1), actions


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_no_stage_of_the_run_is_left(stack, crashed, case):
    run_id = crashed.runs[case.id]["dag_run_id"]
    store = ObjectStore(stack.hub_settings())
    left = [
        k
        for k in store.list("raw", f"_stage/{case.feed}/")
        if f"/run={run_id.replace('/', '_')}/" in k
    ]
    assert not left, left


@pytest.mark.parametrize("case", [c for c in CASES if c.feed == BIKE], ids=lambda c: c.id)
def test_tokens_are_the_vault_keys_whichever_worker_protected_and_raw_is_destroyed(
    stack, crashed, lake, case
):
    from sqlalchemy import func, select

    from catalog.db import session_for
    from catalog.models import DestructionRecord
    from privacy.techniques import tokenize
    from privacy.vault import Vault

    _, trusted = lake["trusted", BIKE]
    rows = _window_rows(trusted, "rent_at", case)
    published = dict(zip(rows["trip_id"].to_pylist(), rows["member_id"].to_pylist(), strict=True))
    versions = {TOKEN.match(t).group(1) for t in published.values()}  # type: ignore[union-attr]
    assert len(versions) == 1, versions
    (csv,) = crashed.drops[case.start].values()
    raw = pacsv.read_csv(
        pa.BufferReader(csv),
        convert_options=pacsv.ConvertOptions(
            column_types={"대여번호": pa.string(), "회원번호": pa.string()}
        ),
    )
    members = dict(zip(raw["대여번호"].to_pylist(), raw["회원번호"].to_pylist(), strict=True))
    key = Vault.open(stack.hub_settings()).key(BIKE, int(versions.pop()))
    trips = sorted(published)
    tokens, _, _ = tokenize(pa.array([members[t] for t in trips]), key)
    assert dict(zip(trips, tokens.to_pylist(), strict=True)) == published
    if case.id in crashed.stage_tokens:  # the killed first attempt's stage: the same tokens
        first = crashed.stage_tokens[case.id]
        assert {t: first[t] for t in trips} == published

    run_id = crashed.runs[case.id]["dag_run_id"]
    with session_for(stack.hub_settings().catalog_url) as session:
        destroyed = session.execute(
            select(DestructionRecord.object_key, func.count())
            .where(DestructionRecord.dataset_id == BIKE, DestructionRecord.run_id == run_id)
            .group_by(DestructionRecord.object_key)
        ).all()
    assert destroyed and all(n == 1 for _, n in destroyed), destroyed
    # retention 0: no identified object of the window is left in raw, whichever attempt landed it
    stamp = case.start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    left = list(ObjectStore(stack.hub_settings()).list("raw", f"{BIKE}/partition={stamp}/"))
    assert not left, left


def test_a_product_build_killed_between_its_commits_converges(stack, crashed, lake):
    from products import load_products

    assert crashed.faults.get(PRODUCT), crashed.faults
    assert crashed.product_runs and all(r["state"] == "success" for r in crashed.product_runs), (
        crashed.product_runs
    )
    trusted, built = lake["trusted", "bike_demand"]
    opened, _ = lake["open", "bike_demand"]
    current = trusted.current_snapshot()
    feed_id, snapshot = current.summary["hub.inputs"].split("@")
    assert feed_id == BIKE
    assert opened.current_snapshot().summary["hub.trusted-snapshot"] == str(current.snapshot_id)
    bike, _ = lake["trusted", BIKE]
    product = load_products()["bike_demand"]
    inputs = {BIKE: bike.scan(snapshot_id=int(snapshot)).to_arrow()}
    expected = product.build(inputs).select(product.arrow_schema.names).cast(product.arrow_schema)
    order = [("station_id", "ascending"), ("hour", "ascending")]
    assert built.sort_by(order).to_pylist() == expected.sort_by(order).to_pylist()


def test_every_snapshot_carries_its_runs_marks_and_the_audit_chain_verifies(stack, crashed, lake):
    from catalog import audit

    for feed in (AQ, BIKE):
        trusted, _ = lake["trusted", feed]
        unmarked = [
            s.summary
            for s in trusted.snapshots()
            if not all((s.summary or {}).get(m) for m in RUN_MARKS)
        ]
        assert not unmarked, unmarked
        opened, _ = lake["open", feed]
        unmarked = [
            s.summary
            for s in opened.snapshots()
            if not all((s.summary or {}).get(m) for m in ("hub.run-id", "hub.step"))
        ]
        assert not unmarked, unmarked
    count, broken = audit.verify(stack.hub_settings().catalog_url)
    assert broken is None and count > 0, (count, broken)
