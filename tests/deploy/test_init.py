"""The stack's init job (``python -m hub.deploy.init``): what it runs, and the parts of it that
need no running stack, run here."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import sqlalchemy as sa

from hub.deploy import init
from hub.deploy.topology import services

ROOT = Path(__file__).resolve().parents[2]


def test_the_init_job_migrates_airflow_then_the_hub_then_the_vault():
    assert [argv[:3] for _, argv in init.STEPS] == [
        ("airflow", "db", "migrate"),
        ("hub", "up"),
        ("python", "-c", init.VAULT_TABLES),
    ]
    assert services()["init"].command == ("python", "-m", "hub.deploy.init")


def test_the_airflow_admin_gets_the_password_from_the_environment(tmp_path):
    env = {
        "AIRFLOW_ADMIN_PASSWORD": "change-me-admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(tmp_path / "auth" / "pw.json"),
    }
    path = init.write_admin_password(env)
    assert json.loads(path.read_text()) == {"admin": "change-me-admin"}
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    with pytest.raises(SystemExit, match="AIRFLOW_ADMIN_PASSWORD"):
        init.write_admin_password(env | {"AIRFLOW_ADMIN_PASSWORD": ""})


def test_the_vault_step_creates_the_vault_tables(tmp_path):
    url = f"sqlite:///{tmp_path / 'vault.db'}"
    env = {
        "PATH": os.environ["PATH"],
        "HUB_HOME": str(tmp_path / "home"),
        "HUB_VAULT_URL": url,
        "HUB_VAULT_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
    }
    step = dict(init.STEPS)["the key vault's tables"]
    proc = subprocess.run(
        [sys.executable, *step[1:]], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert sa.inspect(sa.create_engine(url)).get_table_names() != []


def test_the_locked_dependencies_have_what_the_celery_executor_needs():
    locked = {p["name"] for p in tomllib.loads((ROOT / "uv.lock").read_text())["package"]}
    assert {"apache-airflow-providers-celery", "redis", "celery"} <= locked
