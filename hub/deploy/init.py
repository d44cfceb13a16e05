"""The stack's one-shot init job: ``python -m hub.deploy.init`` (the ``init`` service).

Runs, in order, what every other service needs before it starts, and exits 0 only when all of
it is done. Each step is safe to run again (a restarted init job, a second deployment):

1. ``airflow db migrate``: Airflow's metadata database, on PostgreSQL;
2. the Airflow admin: the simple auth manager's passwords file, written from
   ``AIRFLOW_ADMIN_PASSWORD`` onto the volume the api-server reads (Airflow would otherwise
   generate a password and print it into its log);
3. ``hub up``: with ``HUB_S3_ENDPOINT`` set it starts nothing; it creates the zone and inbox
   buckets (with the S3 admin identity, which only this job holds) and runs the catalog's
   Alembic migrations under their advisory lock;
4. the key vault's tables, created once here rather than by the first ``protect`` tasks racing.

The S3 identities themselves (pipeline writer, read-only web app, agency inbox) are declared by
the S3 service from its environment (``deploy/seaweedfs/start.sh``); with MinIO this job would
add them with ``mc admin user add`` and ``mc admin policy attach``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

#: Creating the vault opens it: its tables are made if missing (privacy.vault.Vault).
VAULT_TABLES = (
    "from hub.core.settings import get_settings; from privacy.vault import Vault; "
    "Vault.open(get_settings())"
)

#: (what, argv) in order; the admin user is written after the first.
STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Airflow metadata database", ("airflow", "db", "migrate")),
    ("buckets and the catalog's migrations", ("hub", "up")),
    ("the key vault's tables", ("python", "-c", VAULT_TABLES)),
)


def write_admin_password(env: dict[str, str]) -> Path:
    """The simple auth manager's passwords file, from ``AIRFLOW_ADMIN_PASSWORD`` (0600)."""
    password = env.get("AIRFLOW_ADMIN_PASSWORD")
    path = Path(env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
    if not password:
        raise SystemExit("init: AIRFLOW_ADMIN_PASSWORD is not set")
    users = [u.split(":")[0] for u in env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"].split(",")]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({user: password for user in users if user}, fh)
    return path


def main() -> int:
    env = dict(os.environ)
    plan = [STEPS[0], ("Airflow admin user", None), *STEPS[1:]]
    for number, (what, argv) in enumerate(plan, start=1):
        print(f"init {number}/{len(plan)}: {what}", flush=True)
        if argv is None:
            write_admin_password(env)
        elif subprocess.run(argv, env=env, check=False).returncode != 0:
            print(f"init: {what} failed ({' '.join(argv[:3])}); see above", file=sys.stderr)
            return 1
    print("init: done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
