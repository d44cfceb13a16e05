"""The catalog in the standards portals harvest: DCAT-AP 3 that the official SHACL shapes
accept, in Korean and English, and schema.org; restricted datasets by their metadata only."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.core.settings import PROJECT_ROOT

VALIDATORS = PROJECT_ROOT / "tests" / "validators"  # the shared checkers, vendored


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_dcat_export_conforms_to_dcat_ap_3_in_korean_and_english(lake, tmp_path):
    out = tmp_path / "catalog.jsonld"
    result = CliRunner().invoke(app, ["catalog", "export", "--format", "dcat", "--out", str(out)])
    assert result.exit_code == 0, result.output
    check = subprocess.run(
        [sys.executable, str(VALIDATORS / "check_dcat.py"), str(out), "--require-langs", "ko,en"],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout[-4000:] + check.stderr[-2000:]

    graph = {node["@id"]: node for node in json.loads(out.read_text())["@graph"]}
    bikes = graph["https://data.seoul.example.kr/dataset/bike_trips"]
    assert bikes["dct:accrualPeriodicity"]["@id"].endswith("/DAILY")
    assert bikes["dcat:version"] and bikes["dct:temporal"]["dcat:startDate"] == "2026-10-31"
    crimes = graph["https://data.seoul.example.kr/dataset/women_crime_incidents"]
    (api,) = crimes["dcat:distribution"]  # restricted: described, no file to download
    assert "dcat:downloadURL" not in graph[api] and api.endswith("/api")
    assert crimes["dct:accessRights"]["@id"].endswith("/RESTRICTED")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_schemaorg_export_lists_every_dataset(lake, tmp_path):
    result = CliRunner().invoke(app, ["catalog", "export", "--format", "schemaorg"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    ids = {d["identifier"] for d in doc["dataset"]}
    assert {"bike_trips", "street_safety", "air_quality_by_gu"} <= ids
    street = next(d for d in doc["dataset"] if d["identifier"] == "street_safety")
    assert street["isAccessibleForFree"] and street["temporalCoverage"]
