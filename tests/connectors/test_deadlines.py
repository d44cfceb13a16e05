"""Time-outs bound the whole request and the whole delivery: a body trickled a byte at a time
fails at the request's deadline, a hanging server stops at the delivery's retry budget, and
the error says how long was spent. Nothing is published; the next clean answer is."""

from __future__ import annotations

import re
import time

import pytest

from connectors.http_api.connector import fetch
from hub.core.errors import TransientDeliveryError
from simulators.agency_api import Fault
from tests.support.fetching import feed_and_context, fetch_all, quick

FEED, CTX = feed_and_context(
    "air_quality_hourly", "2026-11-01T03:00:00+09:00", "2026-11-01T05:00:00+09:00"
)


def _fetch(**options):
    return fetch_all(fetch, quick(FEED, **options), CTX)


@pytest.mark.parametrize(("timeout_s", "every_s"), [(1.0, 0.05), (1.5, 0.1)])
def test_a_trickled_body_fails_at_the_request_deadline(agency_api, timeout_s, every_s):
    # each byte arrives well inside any per-read time-out; only a total deadline stops it
    agency_api.state.faults = [Fault("trickle", delay_s=every_s, times=1)]
    began = time.monotonic()
    with pytest.raises(TransientDeliveryError) as info:
        _fetch(timeout_s=timeout_s, max_attempts=1, retry_budget_s=30)
    took = time.monotonic() - began
    assert took < timeout_s + 2
    message = str(info.value)
    assert message.startswith("feed air_quality_hourly: GET http://127.0.0.1:")
    assert f"did not finish within {timeout_s:g} s" in message
    assert re.search(r"gave up after 1 attempt\(s\), \d+\.\d s spent on this delivery", message)


@pytest.mark.parametrize(("budget_s", "attempts"), [(2.0, 50), (3.0, 50)])
def test_a_hanging_server_stops_at_the_delivery_retry_budget(agency_api, budget_s, attempts):
    agency_api.state.faults = [Fault("slow", delay_s=30, times=attempts)]
    began = time.monotonic()
    with pytest.raises(TransientDeliveryError) as info:
        _fetch(timeout_s=1.0, max_attempts=attempts, retry_budget_s=budget_s)
    took = time.monotonic() - began
    assert took < budget_s + 1.5  # not 50 tries of a second each
    message = str(info.value)
    assert f"past its retry budget of {budget_s:g} s" in message
    spent = float(re.search(r"(\d+\.\d) s spent", message).group(1))
    assert budget_s - 0.5 <= spent <= budget_s + 1.5


def test_within_budget_a_slow_first_answer_is_retried_and_delivers(agency_api):
    agency_api.state.faults = [Fault("slow", delay_s=3, times=1)]
    parts = _fetch(timeout_s=1.0, max_attempts=3, retry_budget_s=20)
    assert sum(p.rows_reported for p in parts) == 80


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_trickling_agency_fails_the_run_with_the_time_spent(
    hub_settings, agency_api, tmp_path, monkeypatch
):
    import shutil

    from hub.core.settings import PROJECT_ROOT
    from tests.support.runs import hub_run, last_run, rows

    feeds = tmp_path / "feeds"
    shutil.copytree(PROJECT_ROOT / "feeds", feeds)
    path = feeds / "air_quality_hourly.yaml"
    text = path.read_text().replace(
        "    page_size: 1000\n",
        "    page_size: 1000\n    timeout_s: 1\n    retry_budget_s: 3\n    backoff_max_s: 0.1\n",
    )
    path.write_text(text)
    monkeypatch.setenv("HUB_FEEDS_DIR", str(feeds))
    agency_api.state.faults = [Fault("trickle", delay_s=0.05, times=100)]

    ran = hub_run("air_quality_hourly")

    assert ran.exit_code == 1
    assert re.search(r"did not finish within [\d.]+ s \(\d+ bytes", ran.error), ran.error
    assert "past its retry budget of 3 s" in ran.error
    assert rows(hub_settings, "trusted", "air_quality_hourly") == 0
    agency_api.state.faults = []
    again = hub_run("air_quality_hourly")
    assert again.exit_code == 0, again.error
    run = last_run(hub_settings, "air_quality_hourly")
    assert run.rows_published + run.rows_quarantined == run.rows_landed == 40
