"""What each pipeline step reads and writes, as OpenLineage datasets, and the wrapper that emits
a step's START and COMPLETE/FAIL events around it (Airflow tasks and ``run_pipeline`` alike).

The column-lineage facet of the trusted table maps every published column to the field the
agency sent, marked ``masking: true`` where the privacy policy replaced the value (token,
generalization, masking); derived products map their columns to the trusted columns they
aggregate, so a product column can be followed back to the delivery.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from catalog import entries
from catalog.lineage import Emission, LineageDataset, emitting, facet
from catalog.models import QualityResult
from connectors.base import ENV_REFERENCE
from hub.steps.context import RunContext
from privacy.policy import ColumnClass


def zone_dataset(settings, zone: str, name: str, **facets: Any) -> LineageDataset:
    return LineageDataset(namespace=f"s3://{settings.bucket(zone)}", name=name, facets=facets)


def schema_facet(fields) -> dict[str, Any]:
    return facet(
        "schema",
        fields=[
            {"name": f.name, "type": str(getattr(f.type, "value", f.type))}
            | ({"description": f.description.en} if getattr(f, "description", None) else {})
            for f in fields
        ],
    )


def source_dataset(ctx: RunContext) -> LineageDataset:
    """Where the agency's data comes from: its API host, broker, database, or our inbox."""
    feed, options = ctx.feed, ctx.feed.delivery.options
    if feed.delivery.connector == "file_drop":
        namespace = f"s3://{ctx.settings.bucket('inbox')}"
        name = str(options.get("prefix", feed.id)).split("{", 1)[0].rstrip("/") or feed.id
    else:
        raw = str(options.get("url") or options.get("endpoint") or options.get("bucket") or "")
        text = ENV_REFERENCE.sub(
            lambda m: m.group(2) if m.group(2) is not None else f"env:{m.group(1)}", raw
        )
        match = re.match(r"^([a-z][a-z0-9+.-]*://[^/?#]+)(.*)$", text)
        namespace, name = (match.group(1), match.group(2) or feed.id) if match else (text, feed.id)
    return LineageDataset(namespace=namespace or feed.delivery.connector, name=name)


def _transformation(rule) -> dict[str, Any]:
    if rule is None or rule.technique == "keep":
        return {"type": "DIRECT", "subtype": "IDENTITY"}
    return {
        "type": "DIRECT",
        "subtype": "TRANSFORMATION",
        "masking": True,
        "description": f"{rule.technique} (privacy policy, PIPA pseudonymization)",
    }


def trusted_column_lineage(ctx: RunContext, raw: LineageDataset) -> dict[str, Any]:
    feed = ctx.feed
    fields = {}
    for f in feed.published_fields:
        rule = feed.privacy.rule(f.name) if feed.privacy is not None else None
        source = next((s for s in feed.schema_ if s.name == f.name), f)
        fields[f.name] = {
            "inputFields": [
                {
                    "namespace": raw.namespace,
                    "name": raw.name,
                    "field": source.source_name,
                    "transformations": [_transformation(rule)],
                }
            ]
        }
    return facet("columnLineage", fields=fields)


def open_column_lineage(ctx: RunContext, trusted: LineageDataset) -> dict[str, Any]:
    feed = ctx.feed
    policy = feed.privacy
    withheld = set(policy.release.drop) if policy is not None else set()
    if policy is not None:
        withheld |= {n for n, r in policy.columns.items() if r.class_ is ColumnClass.direct}
    ladder = set(policy.release.ladder) if policy is not None else set()
    fields = {}
    for f in feed.published_fields:
        if f.name in withheld:
            continue
        t = (
            {
                "type": "DIRECT",
                "subtype": "TRANSFORMATION",
                "masking": True,
                "description": "coarsened or suppressed by the k-anonymity release gate",
            }
            if f.name in ladder
            else {"type": "DIRECT", "subtype": "IDENTITY"}
        )
        fields[f.name] = {
            "inputFields": [
                {
                    "namespace": trusted.namespace,
                    "name": trusted.name,
                    "field": f.name,
                    "transformations": [t],
                }
            ]
        }
    return facet("columnLineage", fields=fields)


def quality_assertions(ctx: RunContext) -> dict[str, Any] | None:

    results = entries.listing(ctx.settings.catalog_url, QualityResult, ctx.feed.id, ctx.run_id)
    if not results:
        return None
    assertions = []
    for r in results:
        column = r.check_label.partition("(")[2].rstrip(")").split(",")[0].strip()
        assertions.append(
            {
                "assertion": r.expectation,
                "success": r.success,
                "severity": "error" if r.hard else "warn",
            }
            | ({"column": column} if column else {})
        )
    return facet("dataQualityAssertions", assertions=assertions)


def emission(ctx: RunContext, step: str) -> Emission:
    """The datasets a step reads and writes, with the facets known before it runs."""
    s, feed = ctx.settings, ctx.feed
    raw = zone_dataset(s, "raw", feed.id)
    trusted = zone_dataset(s, "trusted", feed.id)
    if step == "land":
        return Emission([source_dataset(ctx)], [raw])
    if step == "validate":
        return Emission([raw], [zone_dataset(s, "quarantine", feed.id)])
    if step in ("protect", "cleanup"):
        return Emission([raw], [])
    if step == "publish":
        raw.facets = {"schema": schema_facet(feed.schema_)}
        trusted.facets = {
            "schema": schema_facet(feed.published_fields),
            "columnLineage": trusted_column_lineage(ctx, raw),
            "documentation": facet("documentation", description=feed.description.en),
        }
        return Emission([raw], [trusted])
    if step == "release":
        opened = zone_dataset(s, "open", feed.id, columnLineage=open_column_lineage(ctx, trusted))
        return Emission([trusted], [opened])
    raise ValueError(f"unknown step {step!r}")


def traced(ctx: RunContext, step: str, run: Callable[..., Any], *args: Any) -> Any:
    """Run one step between its START and COMPLETE (or FAIL) events."""
    job = f"{ctx.feed.id}.{step}"
    window = (ctx.window.start, ctx.window.end)
    with emitting(ctx.settings.catalog_url, job, ctx.run_id, emission(ctx, step), window) as em:
        result = run(ctx, *args)
        if step == "validate":
            assertions = quality_assertions(ctx)
            if assertions:
                em.inputs[0].input_facets["dataQualityAssertions"] = assertions
        return result


def product_emission(settings, product) -> Emission:
    """A derived product reads its inputs' trusted tables and writes its trusted and open ones."""
    inputs = {f: zone_dataset(settings, "trusted", f) for f in product.inputs}
    fields = {}
    for column, sources in product.derived_from.items():
        fields[column] = {
            "inputFields": [
                {
                    "namespace": inputs[src.split(".")[0]].namespace,
                    "name": src.split(".")[0],
                    "field": src.split(".", 1)[1],
                    "transformations": [
                        {
                            "type": "DIRECT",
                            "subtype": "AGGREGATION",
                            "description": "aggregated into the product",
                        }
                    ],
                }
                for src in sources
            ]
        }
    outputs = [
        zone_dataset(
            settings,
            zone,
            product.id,
            schema=schema_facet(product.schema_),
            columnLineage=facet("columnLineage", fields=fields),
        )
        for zone in ("trusted", "open")
    ]
    return Emission(list(inputs.values()), outputs)
