"""A run's stages: the Parquet its steps hand each other through the raw zone.

Every stage of one run lies under one prefix derived from the feed, the window and the run
id, so the cleanup step finds them all without being told their keys, and a step retried
(or cleared) after any failure finds its input where the step before left it. Only the
cleanup step, after every other step of the run succeeded, deletes them.
"""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq

from hub.lake.objectstore import ObjectStore
from hub.lake.raw import partition_name
from hub.steps.context import RunContext

ROOT = "_stage/"


def run_prefix(ctx: RunContext) -> str:
    """Where every stage of this run of this window lives (the run id made key-safe)."""
    run = ctx.run_id.replace("/", "_")
    return f"{ROOT}{ctx.feed.id}/partition={partition_name(ctx.window)}/run={run}/"


def stage_key(ctx: RunContext, delivery_id: str, name: str) -> str:
    """The stage ``name`` of one delivery: the same key on every attempt, so a rerun overwrites."""
    return f"{run_prefix(ctx)}delivery={delivery_id}/{name}.parquet"


def write(store: ObjectStore, key: str, table: pa.Table) -> None:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    store.put("raw", key, sink.getvalue(), content_type="application/vnd.apache.parquet")


def read(store: ObjectStore, key: str) -> pa.Table:
    return pq.read_table(io.BytesIO(store.get("raw", key)))


def remove(ctx: RunContext, store: ObjectStore) -> list[str]:
    """Delete every stage of this run; none left is fine (a second cleanup, a retried one)."""
    keys = sorted(store.list("raw", run_prefix(ctx)))
    if keys:
        store.delete("raw", keys)
    return keys
