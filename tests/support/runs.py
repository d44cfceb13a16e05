"""Running a feed the way an engineer does (``hub run``) and reading what a user then sees:
the trusted and open tables, quarantine, and the catalog's run row."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from typer.testing import CliRunner

from catalog import entries
from hub.cli import app
from hub.core.settings import PROJECT_ROOT, HubSettings
from hub.lake import iceberg
from hub.lake.objectstore import ObjectStore
from hub.registry import FeedSpec, load_feed
from hub.registry.schedule import last_window
from tests.support.staff import CLI_ENV, acting_as

KST = ZoneInfo("Asia/Seoul")
AT = datetime(2026, 11, 1, 5, tzinfo=KST)


@dataclass
class Ran:
    exit_code: int
    error: str  # the ``error: ...`` line, without its prefix ("" when the run succeeded)
    result: dict[str, Any]  # the JSON ``hub run`` printed on success


def feed(feed_id: str) -> FeedSpec:
    return load_feed(PROJECT_ROOT / "feeds" / f"{feed_id}.yaml")


def window(feed_id: str) -> tuple[datetime, datetime]:
    return last_window(feed(feed_id).schedule, AT)


def drop(settings: HubSettings, files: dict[str, bytes], *, clear: str | None = None) -> None:
    """Put ``files`` in the inbox, after removing everything under ``clear``."""
    store = ObjectStore(settings)
    if clear is not None:
        store.delete("inbox", list(store.list("inbox", clear)))
    for key, data in files.items():
        store.put("inbox", key, data)


def hub_run(feed_id: str) -> Ran:
    """``hub run FEED --end AT``: the whole plan in this process, as an engineer runs it."""
    args = ["run", feed_id, "--end", AT.isoformat(), *acting_as("operator")]
    out = CliRunner(env=CLI_ENV).invoke(app, args)
    if out.exception is not None and not isinstance(out.exception, SystemExit):
        raise out.exception  # a bare exception reached the command: that is a bug to see
    if out.exit_code:
        lines = [line for line in out.stderr.splitlines() if line.startswith("error: ")]
        assert lines, out.stderr
        return Ran(out.exit_code, lines[-1].removeprefix("error: "), {})
    return Ran(0, "", json.loads(out.stdout))


def rows(settings: HubSettings, zone: str, feed_id: str) -> int:
    """Rows a reader of ``zone.feed_id`` sees now (0 when the table does not exist)."""
    tables = iceberg.table_catalog(settings)
    if not tables.table_exists((zone, feed_id)):
        return 0
    return tables.load_table((zone, feed_id)).scan().to_arrow().num_rows


def last_run(settings: HubSettings, feed_id: str):
    return entries.runs(settings.catalog_url, feed_id)[-1]
