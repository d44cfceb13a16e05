"""A per-request cost in FastAPI that the hub's busiest route pays many times over.

For every declared query parameter of every request, FastAPI's ``_get_multidict_value`` asks
twice whether the parameter's annotation is a sequence, walking the annotation each time
(fastapi/fastapi#13824 measured 15-20% of a request; it was closed unmerged). The answer never
changes for a route's parameter, so it is remembered per annotation object. py-spy on
``/records`` (13 parameters, PostgreSQL catalog, 64 connections): this walk was ~7% of the
time the worker held the GIL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_applied: list[bool] = []


def remember_sequence_checks() -> None:
    """Memoize ``field_annotation_is_sequence`` as ``fastapi.dependencies.utils`` calls it
    (once per process; nothing is done if FastAPI no longer has it there)."""
    if _applied:
        return
    _applied.append(True)
    from fastapi.dependencies import utils

    original: Callable[[Any], bool] | None = getattr(utils, "field_annotation_is_sequence", None)
    if original is None:
        return
    known: dict[int, tuple[Any, bool]] = {}

    def remembered(annotation: Any) -> bool:
        hit = known.get(id(annotation))
        if hit is not None and hit[0] is annotation:  # the same object, not a reused id
            return hit[1]
        answer = original(annotation)
        if len(known) < 4096:  # routes' annotations: a bounded, long-lived set
            known[id(annotation)] = (annotation, answer)
        return answer

    utils.field_annotation_is_sequence = remembered  # type: ignore[assignment]
