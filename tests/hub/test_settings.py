"""Settings from the environment: a deployed hub refuses to invent what it must be given."""

from __future__ import annotations

import base64
import os
import subprocess

import pytest

from hub.core.errors import ConfigError
from hub.core.settings import PROJECT_ROOT, get_settings
from privacy.errors import VaultError
from privacy.vault import Vault

HUB = str(PROJECT_ROOT / ".venv" / "bin" / "hub")


def _production(monkeypatch: pytest.MonkeyPatch, tmp_path, **given: str) -> None:
    for name in list(os.environ):
        if name.startswith("HUB_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HUB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HUB_PRODUCTION", "true")
    for name, value in given.items():
        monkeypatch.setenv(name, value)


def test_a_deployed_hub_without_its_secrets_refuses_to_start_naming_them(monkeypatch, tmp_path):
    _production(monkeypatch, tmp_path, HUB_S3_ENDPOINT="http://s3.city.example:9000")
    with pytest.raises(ConfigError) as caught:
        get_settings()
    message = str(caught.value)
    for name in ("HUB_DATABASE_URL", "HUB_VAULT_URL", "HUB_VAULT_MASTER_KEY", "HUB_S3_SECRET_KEY"):
        assert name in message
    assert "HUB_S3_ENDPOINT" not in message  # it was given
    assert not (tmp_path / "home").exists()  # nothing generated on this machine


def test_a_deployed_hub_uses_the_vault_key_it_is_given_and_writes_no_secret(monkeypatch, tmp_path):
    key = base64.b64encode(os.urandom(32)).decode()
    _production(
        monkeypatch,
        tmp_path,
        HUB_DATABASE_URL=f"sqlite:///{tmp_path}/catalog.db",
        HUB_VAULT_URL=f"sqlite:///{tmp_path}/vault/vault.db",
        HUB_VAULT_MASTER_KEY=key,
        HUB_BACKUP_KEY=base64.b64encode(os.urandom(32)).decode(),
        HUB_S3_ENDPOINT="http://s3.city.example:9000",
        HUB_S3_SECRET_KEY="given-by-the-secret-manager",
    )
    settings = get_settings()
    assert settings.s3().secret_key == "given-by-the-secret-manager"
    made = Vault.open(settings).current_key("bike_trips")  # sealed under the given key
    assert Vault.open(settings).current_key("bike_trips").secret == made.secret
    assert not (tmp_path / "home" / "secrets").exists()


def test_the_cli_says_what_is_missing_without_a_traceback(tmp_path):
    env = {"PATH": os.environ["PATH"], "HUB_HOME": str(tmp_path), "HUB_PRODUCTION": "1"}
    done = subprocess.run([HUB, "status"], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert done.stderr.startswith("error: settings (HUB_* variables): HUB_PRODUCTION is set")
    assert "Traceback" not in done.stderr + done.stdout


def test_the_deployed_web_app_starts_without_the_vault_and_refuses_it(monkeypatch, tmp_path):
    given = {
        "HUB_ROLE": "web",
        "HUB_DATABASE_URL": f"sqlite:///{tmp_path}/catalog.db",
        "HUB_S3_ENDPOINT": "http://s3.city.example:9000",
        "HUB_S3_SECRET_KEY": "given-by-the-secret-manager",
    }
    _production(monkeypatch, tmp_path, **given)
    settings = get_settings()  # no vault URL or key needed to serve pseudonymized data
    with pytest.raises(VaultError, match="never opens the key vault"):
        Vault.open(settings)
    assert not (tmp_path / "home").exists()  # and no key was generated for it

    monkeypatch.setenv("HUB_VAULT_MASTER_KEY", base64.b64encode(os.urandom(32)).decode())
    with pytest.raises(ConfigError, match="HUB_VAULT_MASTER_KEY are set"):
        get_settings()  # given the key by mistake: refused, not silently held
