"""Lineage as OpenLineage run events: built, stored in the catalog, sent on, queried, exported.

Events follow the OpenLineage 2-0-2 RunEvent schema with core facets (schema, column lineage
with ``masking``, data-quality assertions, error message). They are stored in
``hub_lineage_events`` and, when ``HUB_OPENLINEAGE_URL`` is set (e.g. Marquez's
``/api/v1/lineage``), posted there too.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, text

from catalog.db import ensure_current, session_for
from catalog.models import LineageColumnEdge, LineageEdge, LineageEvent

log = logging.getLogger(__name__)

PRODUCER = "https://github.com/city-data-hub/hub"
JOB_NAMESPACE = "city-data-hub"
SPEC = "https://openlineage.io/spec"
RUN_EVENT = f"{SPEC}/2-0-2/OpenLineage.json#/$defs/RunEvent"
FACETS = {
    "schema": "1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet",
    "columnLineage": "1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet",
    "dataQualityAssertions": "1-1-0/DataQualityAssertionsDatasetFacet.json"
    "#/$defs/DataQualityAssertionsDatasetFacet",
    "documentation": "1-1-0/DocumentationDatasetFacet.json#/$defs/DocumentationDatasetFacet",
    "errorMessage": "1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet",
    "jobType": "2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet",
    "nominalTime": "1-0-1/NominalTimeRunFacet.json#/$defs/NominalTimeRunFacet",
}


def facet(kind: str, **body: Any) -> dict[str, Any]:
    return {"_producer": PRODUCER, "_schemaURL": f"{SPEC}/facets/{FACETS[kind]}", **body}


def _time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class LineageDataset:
    """One dataset an event reads or writes (``namespace`` is where it lives, e.g. s3://bucket)."""

    namespace: str
    name: str
    facets: dict[str, Any] = field(default_factory=dict)
    input_facets: dict[str, Any] = field(default_factory=dict)

    def as_input(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "namespace": self.namespace,
            "name": self.name,
            "facets": self.facets,
        }
        if self.input_facets:
            out["inputFacets"] = self.input_facets
        return out

    def as_output(self) -> dict[str, Any]:
        return {"namespace": self.namespace, "name": self.name, "facets": self.facets}


@dataclass
class Emission:
    """What a running job has read and written so far; the step fills it in as it learns."""

    inputs: list[LineageDataset]
    outputs: list[LineageDataset]


def run_uuid(hub_run_id: str, job: str) -> str:
    """A stable OpenLineage runId for (hub run, job), so START and its end pair up."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{PRODUCER}/{hub_run_id}/{job}"))


def event(
    kind: str,
    job: str,
    run_id: str,
    emission: Emission,
    *,
    nominal: tuple[datetime, datetime] | None = None,
    error: BaseException | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    run_facets: dict[str, Any] = {}
    if nominal is not None:
        run_facets["nominalTime"] = facet(
            "nominalTime", nominalStartTime=_time(nominal[0]), nominalEndTime=_time(nominal[1])
        )
    if error is not None:
        run_facets["errorMessage"] = facet(
            "errorMessage",
            message=f"{type(error).__name__}: {error}"[:4000],
            programmingLanguage="python",
        )
    return {
        "eventType": kind,
        "eventTime": _time(at or datetime.now(UTC)),
        "producer": PRODUCER,
        "schemaURL": RUN_EVENT,
        "run": {"runId": run_id, "facets": run_facets},
        "job": {
            "namespace": JOB_NAMESPACE,
            "name": job,
            "facets": {
                "jobType": facet(
                    "jobType", processingType="BATCH", integration="CITY_DATA_HUB", jobType="TASK"
                )
            },
        },
        "inputs": [d.as_input() for d in emission.inputs],
        "outputs": [d.as_output() for d in emission.outputs],
    }


def store(catalog_url: str, ev: dict[str, Any]) -> None:
    """Keep the event in the catalog; post it to ``HUB_OPENLINEAGE_URL`` if one is set."""
    record_events(catalog_url, [ev])
    url = os.environ.get("HUB_OPENLINEAGE_URL")
    if url:
        import httpx

        try:
            httpx.post(url, json=ev, timeout=5).raise_for_status()
        except httpx.HTTPError as exc:  # the catalog copy is the record; a backend may lag
            log.warning(
                "OpenLineage endpoint %s refused %s %s: %s",
                url,
                ev["eventType"],
                ev["job"]["name"],
                exc,
            )


def qualified(namespace: str, name: str) -> str:
    return f"{namespace}/{name}"


def record_events(catalog_url: str, evs: list[dict[str, Any]]) -> None:
    """Store events, and for each COMPLETE one make its job's edges those it reports."""

    ensure_current(catalog_url)
    with session_for(catalog_url) as session, session.begin():
        for ev in evs:
            session.add(
                LineageEvent(
                    run_uuid=ev["run"]["runId"],
                    job_name=ev["job"]["name"],
                    event_type=ev["eventType"],
                    event_time=datetime.fromisoformat(ev["eventTime"].replace("Z", "+00:00")),
                    payload=json.dumps(ev, ensure_ascii=False, separators=(",", ":")),
                )
            )
            if ev["eventType"] == "COMPLETE":
                _index(session, ev)


def _index(session, ev: dict[str, Any]) -> None:
    job = ev["job"]["name"]
    session.execute(delete(LineageEdge).where(LineageEdge.job_name == job))
    session.execute(delete(LineageColumnEdge).where(LineageColumnEdge.job_name == job))
    inputs = {qualified(i["namespace"], i["name"]) for i in ev.get("inputs", [])}
    for out in ev.get("outputs", []):
        target = qualified(out["namespace"], out["name"])
        session.add_all(
            LineageEdge(job_name=job, output=target, input=i) for i in sorted(inputs - {target})
        )
        lineage = out.get("facets", {}).get("columnLineage", {}).get("fields", {})
        for column, spec in lineage.items():
            for source in spec.get("inputFields", []):
                t = (source.get("transformations") or [{}])[0]
                session.add(
                    LineageColumnEdge(
                        job_name=job,
                        output=target,
                        output_field=column,
                        input=qualified(source["namespace"], source["name"]),
                        input_field=source["field"],
                        subtype=t.get("subtype", ""),
                        masking=bool(t.get("masking")),
                    )
                )


@contextmanager
def emitting(
    catalog_url: str,
    job: str,
    hub_run_id: str,
    emission: Emission,
    nominal: tuple[datetime, datetime] | None = None,
) -> Iterator[Emission]:
    """START now; COMPLETE with what ``emission`` holds at the end, or FAIL with the error."""
    run_id = run_uuid(hub_run_id, job)
    started = datetime.now(UTC)
    store(catalog_url, event("START", job, run_id, emission, nominal=nominal, at=started))
    try:
        yield emission
    except BaseException as exc:
        ended = max(datetime.now(UTC), started)
        store(
            catalog_url, event("FAIL", job, run_id, emission, nominal=nominal, error=exc, at=ended)
        )
        raise
    ended = max(datetime.now(UTC), started)
    store(catalog_url, event("COMPLETE", job, run_id, emission, nominal=nominal, at=ended))


def events(catalog_url: str) -> list[dict[str, Any]]:
    with session_for(catalog_url) as session:
        rows = session.scalars(select(LineageEvent).order_by(LineageEvent.id))
        return [json.loads(r.payload) for r in rows]


# --- queries --------------------------------------------------------------------------------

_WALK = """
WITH RECURSIVE walk(name, depth) AS (
    SELECT {far}, 1 FROM hub_lineage_edges WHERE {near} = :start
    UNION
    SELECT e.{far}, walk.depth + 1 FROM hub_lineage_edges e JOIN walk ON e.{near} = walk.name
    WHERE walk.depth < :hops
)
SELECT name, MIN(depth) AS depth FROM walk WHERE name <> :start GROUP BY name
"""
#: Hops followed when a query sets no limit (a city's longest chain is far shorter).
ALL_HOPS = 64


def upstream(catalog_url: str, dataset: str, hops: int | None = None) -> dict[str, int]:
    """Every dataset ``dataset`` is computed from, with its distance in hops (one SQL query)."""
    return _walk(catalog_url, dataset, hops, near="output", far="input")


def downstream(catalog_url: str, dataset: str, hops: int | None = None) -> dict[str, int]:
    """Every dataset computed from ``dataset``, with its distance in hops."""
    return _walk(catalog_url, dataset, hops, near="input", far="output")


def _walk(catalog_url: str, dataset: str, hops: int | None, *, near: str, far: str) -> dict:
    query = text(_WALK.format(near=near, far=far))
    with session_for(catalog_url) as session:
        rows = session.execute(query, {"start": dataset, "hops": hops or ALL_HOPS})
        return {name: depth for name, depth in rows}


def edges_among(catalog_url: str, names: set[str]) -> list[tuple[str, str]]:
    """The (input, output) edges between the given datasets."""
    if not names:
        return []
    with session_for(catalog_url) as session:
        rows = session.execute(
            select(LineageEdge.input, LineageEdge.output)
            .where(LineageEdge.output.in_(names), LineageEdge.input.in_(names))
            .distinct()
        )
        return sorted((i, o) for i, o in rows)


@dataclass(frozen=True)
class ColumnEdge:
    """``output`` (dataset, field) computed from ``input`` (dataset, field)."""

    output: tuple[str, str]
    input: tuple[str, str]
    subtype: str
    masking: bool
    job: str


def column_paths(catalog_url: str, dataset: str, column: str) -> list[list[ColumnEdge]]:
    """Every path from (dataset, column) back to a column nothing computes."""
    paths: list[list[ColumnEdge]] = []
    with session_for(catalog_url) as session:

        def sources(node: tuple[str, str]) -> list[ColumnEdge]:
            rows = session.scalars(
                select(LineageColumnEdge)
                .where(
                    LineageColumnEdge.output == node[0], LineageColumnEdge.output_field == node[1]
                )
                .order_by(LineageColumnEdge.id)
            )
            return [
                ColumnEdge(
                    output=node,
                    input=(r.input, r.input_field),
                    subtype=r.subtype,
                    masking=r.masking,
                    job=r.job_name,
                )
                for r in rows
            ]

        def walk(node: tuple[str, str], path: list[ColumnEdge]) -> None:
            edges = sources(node)
            if not edges:
                if path:
                    paths.append(path)
                return
            for edge in edges:
                if edge.input in {e.output for e in path} | {node}:  # never loop on a cycle
                    continue
                walk(edge.input, [*path, edge])

        walk((dataset, column), [])
    return paths
