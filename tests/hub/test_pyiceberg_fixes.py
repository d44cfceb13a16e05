"""The pyiceberg workarounds (``hub.lake.pyiceberg_fixes``) keep pyiceberg's answers: a
transaction that never commits leaves the table as it was, and tables loaded, planned and
scanned again after commits see exactly the rows a fresh process reads."""

from __future__ import annotations

import subprocess
import sys

import pytest

from catalog.db import ensure_current
from hub.lake import iceberg

from .test_concurrent_publishes import FIELDS, hour


def _fresh_process_rows(settings, name: str) -> int:
    """The rows of ``trusted.<name>`` read by a new Python process with no pyiceberg fix."""
    code = (
        "import sys; from pyiceberg.catalog.sql import SqlCatalog\n"
        "props = dict(a.split('=', 1) for a in sys.argv[2:])\n"
        "cat = SqlCatalog(sys.argv[1], **props)\n"
        f"print(cat.load_table(('trusted', {name!r})).scan().to_arrow().num_rows)\n"
    )
    props = [f"{k}={v}" for k, v in settings.iceberg_properties().items()]
    out = subprocess.run(
        [sys.executable, "-c", code, settings.catalog_name, *props],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("backend", ["sqlite"])
def test_commits_and_abandoned_transactions_read_as_pyiceberg_reads_them(hub_settings):
    ensure_current(hub_settings.catalog_url)
    iceberg.ensure_table(hub_settings, "trusted", "fixes", FIELDS, ("at", "day"))
    table = iceberg.table_catalog(hub_settings).load_table(("trusted", "fixes"))
    for i in range(6):  # each window's commit adds a manifest; the planned scans reuse them
        window, data = hour(i, rows=5 + i)
        iceberg.replace_window(table, data, "at", window, {"hub.run-id": f"r{i}"}, timezone="UTC")
        assert table.scan().to_arrow().num_rows == sum(5 + j for j in range(i + 1))
    window, data = hour(1, rows=2)  # a window replaced: its old file leaves the plan
    iceberg.replace_window(table, data, "at", window, {"hub.run-id": "again"}, timezone="UTC")
    expected = sum(5 + j for j in range(6)) - 6 + 2

    before = table.metadata
    snapshots = list(before.snapshots)
    with pytest.raises(RuntimeError), table.transaction() as tx:
        tx.append(data.cast(table.schema().as_arrow()))
        raise RuntimeError("the task was killed before its commit")
    assert table.metadata is before and list(before.snapshots) == snapshots

    again = iceberg.table_catalog(hub_settings).load_table(("trusted", "fixes"))
    assert again.current_snapshot().snapshot_id == table.current_snapshot().snapshot_id
    assert again.scan().to_arrow().num_rows == expected
    assert _fresh_process_rows(hub_settings, "fixes") == expected
