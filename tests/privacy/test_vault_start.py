"""The key vault comes up when the first protect tasks of several workers open it at once."""

from __future__ import annotations

import subprocess
import sys
import time

from sqlalchemy import inspect

from catalog.db import engine_for

#: each worker imports first, then opens the vault at the same instant as the others
OPEN = (
    "import sys, time; from privacy.vault import Vault; "
    "time.sleep(max(0.0, float(sys.argv[2]) - time.time())); "
    "Vault(sys.argv[1], bytes(32)).engine.dispose()"
)


def test_workers_opening_an_empty_vault_together_all_come_up(hub_settings):
    url = hub_settings.vault_database_url
    at = str(time.time() + 8)  # after every worker has imported (a few seconds)
    workers = [
        subprocess.Popen([sys.executable, "-c", OPEN, url, at], stderr=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    failures = [w.stderr.read()[-600:] for w in workers if w.wait(timeout=120) != 0]
    assert failures == []
    assert {"vault_keys", "vault_token_tables"} <= set(inspect(engine_for(url)).get_table_names())
