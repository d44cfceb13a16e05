"""deploy/helm-values.yaml: the scale-out path on paper, held to the same topology.

No Helm and no cluster here: the values are checked for what the hub needs from them.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from hub.deploy.topology import PRODUCTION_VARIABLES, feed_variables, services

VALUES = Path(__file__).resolve().parents[2] / "deploy" / "helm-values.yaml"


def _values() -> dict:
    return yaml.safe_load(VALUES.read_text())


def test_the_chart_runs_the_hub_image_with_celery_and_an_external_postgres():
    values = _values()
    assert values["executor"] == "CeleryExecutor"
    assert values["postgresql"]["enabled"] is False
    assert values["images"]["airflow"]["repository"].endswith("/city-data-hub")
    for name in ("metadataSecretName", "resultBackendSecretName", "brokerUrlSecretName"):
        assert values["data"][name]
    for name in ("fernetKeySecretName", "apiSecretKeySecretName", "jwtSecretName"):
        assert values[name]
    assert values["config"]["core"]["dags_folder"] == "/opt/hub/dags"


def test_the_pods_get_every_hub_and_feed_variable_and_secrets_only_from_secrets():
    values = _values()
    plain = {item["name"] for item in values["env"]}
    from_secrets = {item["envName"] for item in values["secret"]}
    worker = services()["airflow-worker"]
    wanted = {v for v in worker.environment if v.startswith("HUB_")} | set(feed_variables())
    assert wanted - plain - from_secrets == set()
    assert set(PRODUCTION_VARIABLES["pipeline"]) <= plain | from_secrets
    assert plain & worker.secrets == set(), "a secret given as a plain value"
    assert not any(item["secretKey"].startswith("S3_ADMIN") for item in values["secret"])
