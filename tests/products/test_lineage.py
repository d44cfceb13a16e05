"""Lineage an auditor can follow: OpenLineage events that validate, and a product's columns
traced back through the trusted tables to the agencies' fields, pseudonymized ones masked."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.core.settings import PROJECT_ROOT
from tests.support.staff import CLI_ENV, acting_as

VALIDATORS = PROJECT_ROOT / "tests" / "validators"  # the shared checkers, vendored


@pytest.mark.parametrize("backend", ["sqlite"])
def test_lineage_export_passes_the_openlineage_checker(lake, tmp_path):
    out = tmp_path / "events.jsonl"
    args = ["lineage", "export", "--out", str(out), *acting_as("auditor")]
    result = CliRunner(env=CLI_ENV).invoke(app, args)
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert {e["eventType"] for e in events} == {"START", "COMPLETE"}
    jobs = {e["job"]["name"] for e in events}
    assert "bike_trips.publish" in jobs and "product_street_safety.build" in jobs
    check = subprocess.run(
        [sys.executable, str(VALIDATORS / "check_openlineage.py"), str(out), "--strict"],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-3000:]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_product_column_leads_back_to_the_agency_fields_with_masked_steps(lake):
    settings, _ = lake
    runner, auditor = CliRunner(env=CLI_ENV), acting_as("auditor")
    up = runner.invoke(app, ["lineage", "show", "trusted.street_safety", "--json", *auditor])
    assert up.exit_code == 0, up.output
    upstream = json.loads(up.output)
    inputs = [
        "women_crime_incidents",
        "night_floating_population",
        "door_sensor_installs",
        "street_segments",
    ]
    for feed in inputs:
        assert upstream[f"s3://{settings.bucket('trusted')}/{feed}"] == 1
        assert upstream[f"s3://{settings.bucket('raw')}/{feed}"] == 2
    assert not any("air_quality" in name for name in upstream)  # nothing it does not read
    two = json.loads(
        runner.invoke(
            app, ["lineage", "show", "trusted.street_safety", "--json", "--hops", "1", *auditor]
        ).output
    )
    assert set(two) == {f"s3://{settings.bucket('trusted')}/{f}" for f in inputs}

    paths = json.loads(
        runner.invoke(
            app,
            ["lineage", "show", "trusted.street_safety", "--column", "crimes", "--json", *auditor],
        ).output
    )
    by_source = {tuple(p[-1]["input"]): p for p in paths}
    raw = f"s3://{settings.bucket('raw')}/women_crime_incidents"
    case_no = by_source[(raw, "사건번호")]  # the police case number, as the agency sent it
    assert [e["subtype"] for e in case_no] == ["AGGREGATION", "TRANSFORMATION"]
    assert case_no[0]["input"] == [
        f"s3://{settings.bucket('trusted')}/women_crime_incidents",
        "case_no",
    ]
    assert case_no[1]["masking"] is True  # tokenized before the trusted zone
    assert by_source[(raw, "위도")][1]["masking"] is True  # snapped to a 10 m cell

    text = runner.invoke(
        app, ["lineage", "show", "trusted.street_safety", "--column", "crimes", *auditor]
    )
    assert "women_crime_incidents:사건번호 [masked]" in text.output
