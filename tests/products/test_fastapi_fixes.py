"""The remembered sequence check answers as FastAPI's own does, and query parameters still
arrive as declared: a list as every value, a scalar as one."""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, Query
from fastapi._compat.shared import field_annotation_is_sequence as fastapi_own
from fastapi.dependencies import utils
from fastapi.testclient import TestClient

from hub.web.fastapi_fixes import remember_sequence_checks


def test_the_remembered_check_agrees_and_parameters_parse_as_declared():
    remember_sequence_checks()
    assert utils.field_annotation_is_sequence is not fastapi_own  # applied
    for annotation in (int, str, list[str], tuple[int, ...], int | None, list[int] | None, None):
        for _ in range(2):  # first computed, then remembered
            assert utils.field_annotation_is_sequence(annotation) == fastapi_own(annotation)

    app = FastAPI()

    @app.get("/echo")
    def echo(
        tag: Annotated[list[str], Query()] = [],  # noqa: B006 (FastAPI copies defaults)
        n: int | None = None,
    ) -> dict:
        return {"tag": tag, "n": n}

    client = TestClient(app)
    assert client.get("/echo?tag=a&tag=b&n=3").json() == {"tag": ["a", "b"], "n": 3}
    assert client.get("/echo").json() == {"tag": [], "n": None}
    assert client.get("/echo?n=x").status_code == 422
