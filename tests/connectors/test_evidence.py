"""Keep the evidence: an answer the delivery fails on is landed byte for byte under the
incomplete manifest, beside the good pages before it, and the error names its raw key."""

from __future__ import annotations

import json
import re

import pytest

from hub.lake.objectstore import ObjectStore
from hub.lake.raw import MANIFEST, Manifest
from simulators.agency_api import MAINTENANCE_PAGE, Fault
from tests.support.runs import hub_run, last_run, rows

CASES = {
    # case: (feed, fault, the cause named, pages landed before the bad one)
    "malformed JSON": ("air_quality_hourly", Fault("malformed_json", page=1), "malformed JSON", 0),
    "HTML where JSON was expected": (
        "air_quality_hourly",
        Fault("html_page", page=1),
        "answered an HTML page where JSON was expected",
        0,
    ),
    "a truncated XML page after a good one": (
        "traffic_ped_counts",
        Fault("malformed_json", page=2),
        "answered malformed XML",
        1,
    ),
    "an HTML page in an XML feed": (
        "traffic_ped_counts",
        Fault("html_page", page=2),
        "answered an HTML page where XML was expected",
        1,
    ),
    "runaway nesting from the broker": (
        "iot_air_sensors",
        Fault("nested_json", page=1),
        "answered malformed JSON",
        0,
    ),
    "a count header that is not a number": (
        "iot_air_sensors",
        Fault("bad_count", page=1),
        "NGSILD-Results-Count header is not a count",
        0,
    ),
}


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_an_unusable_answer_is_kept_and_named(hub_settings, agency_api, case):
    feed_id, fault, cause, good = CASES[case]
    agency_api.state.faults = [fault]

    ran = hub_run(feed_id)

    assert ran.exit_code == 1
    assert ran.error.startswith(f"feed {feed_id}: GET http://127.0.0.1:") and cause in ran.error
    bucket = hub_settings.bucket("raw")
    found = re.search(rf"kept at s3://{bucket}/(\S+\.unusable) ", ran.error)
    assert found, ran.error
    key = found.group(1)
    store = ObjectStore(hub_settings)
    kept = store.get("raw", key)
    if fault.kind == "html_page":
        assert kept == MAINTENANCE_PAGE.encode()
    assert kept  # the very bytes the source sent
    manifest = Manifest.model_validate_json(
        store.get("raw", key.rsplit("/", 1)[0] + "/" + MANIFEST)
    )
    assert manifest.status == "incomplete" and manifest.error
    assert [o.evidence for o in manifest.objects] == [False] * good + [True]
    assert agency_api.state.service_key not in json.dumps(manifest.model_dump(mode="json"))
    assert rows(hub_settings, "trusted", feed_id) == 0
    assert last_run(hub_settings, feed_id).status == "failed"

    agency_api.state.faults = []  # the agency answers properly again
    again = hub_run(feed_id)
    assert again.exit_code == 0, again.error
    run = last_run(hub_settings, feed_id)
    assert run.rows_published + run.rows_quarantined == run.rows_landed > 0
    assert rows(hub_settings, "trusted", feed_id) == run.rows_published
