"""Schemathesis against the web app's own /openapi.json: generated requests to every operation,
valid and invalid (both generation modes), find no server error and no response that breaks
the documented schema."""

from __future__ import annotations

import itertools

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from hub.web.app import create_app

#: Generated cases per operation (derandomized: the same cases on every run, so CI is not a
#: lottery; change the number to explore others).
EXAMPLES = 60


@pytest.mark.parametrize("backend", ["sqlite"])
def test_no_request_makes_a_server_error_or_an_undocumented_response(lake):
    settings, _ = lake
    # every generated case reaches its operation: the per-address limit has a test of its own
    settings = settings.model_copy(update={"web_rate_per_minute": 0})
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(settings))
    failures: dict[str, str] = {}
    tried, calls = 0, []
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation, mode in itertools.product(operations, GenerationMode):
        # data requests are filed for real: a few suffice
        budget = 5 if operation.method.upper() == "POST" else EXAMPLES

        @given(case=operation.as_strategy(generation_mode=mode))
        @hypothesis_settings(
            max_examples=budget,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def check(case) -> None:
            calls.append(case.operation.label)
            case.call_and_validate(
                checks=[not_a_server_error, response_schema_conformance, status_code_conformance]
            )

        try:
            check()
        except Unsatisfiable:  # no parameter of this operation can be made invalid
            assert mode is GenerationMode.NEGATIVE
        except (
            Exception,
            BaseExceptionGroup,
        ) as exc:  # collect every operation's first failure, then report all
            failures[f"{operation.label} ({mode.value})"] = str(exc)[:2000]
        tried += 1
    assert tried >= 2 * 15  # every route of the API, not an empty schema
    assert len(calls) >= 10 * tried  # generated cases, not one per route
    print(f"{len(calls)} requests to {tried} operations")
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
