"""Validate: parse the landed delivery to the declared schema; failing rows go to quarantine.

Valid rows are staged as Parquet in the raw zone (identified data never leaves it before the
protect step), under the run's stage prefix; protect picks them up from there. A rerun
converges: the stage is overwritten, quarantine replaces its window, the run's quality rows
replace the previous attempt's.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

import connectors
from catalog.models import QualityResult, QualityScore
from hub.core.errors import DeliveryError, HubError, QualityGateError
from hub.core.time import as_utc
from hub.lake import iceberg
from hub.lake.iceberg import ensure_table
from hub.lake.objectstore import ObjectStore
from hub.lake.raw import (
    Manifest,
    RawObject,
    latest_manifest,
    load_manifest,
    manifest_key,
    read_object,
)
from hub.steps import stage
from hub.steps.conform import (
    QUARANTINE_FIELDS,
    QUARANTINE_SCHEMA,
    Conformed,
    conform,
    drop_duplicate_keys,
    rejects_for,
)
from hub.steps.context import RunContext
from hub.steps.registers import replace_run_rows
from privacy.policy import ColumnClass
from privacy.scanner import scrub_text
from quality import results as quality_results
from quality.gate import CheckResult, run_checks
from quality.score import delivery_score

if TYPE_CHECKING:
    from quality.gate import Outcome
    from quality.score import Score

log = logging.getLogger(__name__)


def parse_delivery(ctx: RunContext, manifest: Manifest, store: ObjectStore) -> Conformed:
    """Read every landed part in parallel and conform it; parts keep their order.

    Each part's bytes are checked against the manifest before they are read, and every reader
    failure names the feed and the file. Duplicate keys are still in ``valid``: the quality
    checks see the delivery as sent.

    Raises:
        RawIntegrityError: a raw object no longer matches its manifest.
        DeliveryError: a part cannot be read, its columns drifted, or it holds no rows.
    """
    read = connectors.reader(ctx.feed.delivery.connector)
    config = ctx.feed.delivery.config

    def one(obj: RawObject) -> Conformed | None:
        data = read_object(store, manifest, obj)
        source = read(config, data, name=obj.key, feed_id=ctx.feed.id)
        if not source.num_rows and not ctx.feed.allow_empty:
            return None
        return conform(ctx.feed, source, window=ctx.window, object_key=obj.key, run_id=ctx.run_id)

    with ThreadPoolExecutor(max_workers=4) as pool:
        conformed = list(pool.map(one, manifest.objects))
    empty = [obj.key for obj, part in zip(manifest.objects, conformed, strict=True) if part is None]
    if empty:
        raise empty_delivery(ctx, empty, len(manifest.objects))
    parts = [p for p in conformed if p is not None]
    if not parts:
        return Conformed(ctx.feed.arrow_schema.empty_table(), QUARANTINE_SCHEMA.empty_table())
    return Conformed(
        valid=pa.concat_tables([p.valid for p in parts]),
        rejects=pa.concat_tables([p.rejects for p in parts]),
        unexpected={k: v for p in parts for k, v in p.unexpected.items()},
    )


def empty_delivery(ctx: RunContext, empty: list[str], parts: int) -> DeliveryError:
    """Why a delivery with a part that holds no rows is refused: publishing it would replace
    (empty, or shrink) the window's published rows with nothing from that source."""
    which = empty[0] if len(empty) == 1 else f"{empty[0]} (and {len(empty) - 1} more)"
    scope = "the whole delivery" if len(empty) == parts else f"{len(empty)} of {parts} parts"
    return DeliveryError(
        f"feed {ctx.feed.id}: file {which}: holds no rows ({scope} empty: a header only, an "
        "empty list or a 0-row table), so nothing is published and the window's published "
        "rows stay as they are; ask the provider to deliver again, or declare allow_empty: "
        "true in the feed if an empty window is normal"
    )


def check_delivery(ctx: RunContext, parsed: Conformed) -> tuple[Conformed, Outcome, Score]:
    """Run the feed's GX suite on the parsed rows: rows a check names go to quarantine with
    the expectation that failed; of the rest, the first row of each key is kept."""

    outcome = run_checks(ctx.feed, parsed.valid, ctx.window)
    reasons: list[tuple[str, str] | None] = [None] * parsed.valid.num_rows
    for row, failed in outcome.failing.items():
        reasons[row] = (
            ",".join(dict.fromkeys(c for r in failed for c in r.columns)),
            "; ".join(f"{r.expectation} failed: {r.label}" for r in failed),
        )
    checked = rejects_for(parsed.valid, reasons, window=ctx.window, run_id=ctx.run_id)
    kept = parsed.valid
    if outcome.failing:
        keep = np.ones(parsed.valid.num_rows, dtype=bool)
        keep[list(outcome.failing)] = False
        kept = parsed.valid.filter(pa.array(keep))
    keyed = drop_duplicate_keys(ctx.feed, kept, window=ctx.window, run_id=ctx.run_id)
    result = Conformed(
        valid=keyed.valid,
        rejects=pa.concat_tables([parsed.rejects, checked, keyed.rejects]),
        unexpected=parsed.unexpected,
    )
    if parsed.unexpected:
        outcome.results.append(drift_result(parsed.unexpected))
    score = delivery_score(ctx.feed, result.valid, outcome, parsed.rows, ctx.window.end)
    return result, outcome, score


def drift_result(unexpected: dict[str, list[str]]) -> CheckResult:
    """Undeclared source columns as a failed (soft) check: kept in the catalog with the run's
    quality results and shown in its summary, so extra columns never pass silently."""
    columns = sorted({c for cols in unexpected.values() for c in cols})
    return CheckResult(
        check=-1,
        label=f"delivered columns match the declared schema ({len(columns)} undeclared)",
        columns=[],
        expectation="expect_table_columns_to_match_set",
        hard=False,
        row_level=False,
        success=False,
        unexpected_count=None,
        unexpected_percent=None,
        observed_value={"undeclared_columns": columns, "files": sorted(unexpected)},
        examples=columns[:5],
        kwargs={"exact_match": True},
    )


def gate_error(ctx: RunContext, outcome: Outcome, result: Conformed) -> DeliveryError | None:
    """Why the gate stops this delivery before publish, or None when it may go on."""
    delivered = result.rows
    if outcome.hard_failures:
        failed = ", ".join(
            f"{r.label} ({r.unexpected_count} rows)" if r.unexpected_count else r.label
            for r in outcome.hard_failures
        )
        return QualityGateError(
            f"{ctx.where}: hard quality checks failed, so nothing is published: {failed}"
        )
    if result.rejects.num_rows and not result.valid.num_rows:
        return DeliveryError(
            f"{ctx.where}: all {result.rejects.num_rows} delivered rows failed validation, so "
            f"nothing is published; see quarantine.{ctx.feed.id} (first: "
            f"{result.rejects.column('reason')[0].as_py()})"
        )
    rate = result.rejects.num_rows / delivered if delivered else 0.0
    if rate > ctx.feed.quality.max_error_rate:
        return QualityGateError(
            f"{ctx.where}: {result.rejects.num_rows} of {delivered} delivered rows "
            f"({rate:.1%}) failed validation, above the gate's "
            f"{ctx.feed.quality.max_error_rate:.1%}, so nothing is published; see "
            f"quarantine.{ctx.feed.id}"
        )
    return None


def withhold_personal_data(feed, rejects: pa.Table) -> pa.Table:
    """The rejected rows of a feed with personal data, as quarantine may keep them: fields the
    schema does not declare are left out, direct identifiers withheld, other text scrubbed.
    Quarantine is for finding out why a row failed, not a second copy of identified data."""

    if feed.privacy is None or not rejects.num_rows:
        return rejects
    rules = {}
    for f in feed.schema_:
        rules[f.source_name] = rules[f.name] = feed.privacy.rule(f.name)

    def safe(record: str) -> str:
        kept = {}
        for key, value in json.loads(record).items():
            rule = rules.get(key)
            if rule is None:
                continue
            if rule.class_ is ColumnClass.direct and value is not None:
                value = "<withheld>"
            elif isinstance(value, str):
                value = scrub_text(value)
            kept[key] = value
        return json.dumps(kept, ensure_ascii=False)

    records = pa.array([safe(r) for r in rejects.column("record").to_pylist()], pa.large_string())
    return rejects.set_column(rejects.column_names.index("record"), "record", records)


def quarantine(ctx: RunContext, rejects: pa.Table) -> None:
    """Replace this window's quarantine rows with this run's rejects (reruns do not pile up)."""

    rejects = withhold_personal_data(ctx.feed, rejects)
    table = ensure_table(
        ctx.settings, "quarantine", ctx.feed.id, QUARANTINE_FIELDS, ("window_start", "day")
    )
    iceberg.replace_window(
        table,
        rejects,
        "window_start",
        ctx.window,
        {"hub.feed": ctx.feed.id, "hub.run-id": ctx.run_id, "hub.step": "validate"},
        timezone=ctx.feed.schedule.timezone,
    )


def validate(ctx: RunContext, landed: dict[str, Any] | None = None) -> dict[str, Any]:
    """Conform the latest complete delivery of the window and stage its valid rows.

    Raises:
        NoDeliveryError: nothing complete was landed for the window.
        DeliveryError: the delivery cannot be read at all (e.g. a required column is missing).
    """
    store = ctx.store()
    manifest = (
        load_manifest(store, landed["manifest"])
        if landed
        else latest_manifest(store, ctx.feed.id, ctx.window)
    )
    try:
        parsed = parse_delivery(ctx, manifest, store)
    except HubError as exc:
        ctx.fail(exc)
        raise
    result, outcome, score = check_delivery(ctx, parsed)
    quarantine(ctx, result.rejects)
    replace_run_rows(ctx, QualityResult, [])  # an earlier attempt's results give way
    replace_run_rows(ctx, QualityScore, [], kind="delivery")
    quality_results.record(
        ctx.settings.catalog_url, ctx.feed.id, ctx.run_id, outcome.results, score
    )
    log.info("%s", summary(ctx, outcome, result, score))
    error = gate_error(ctx, outcome, result)
    if error is not None:
        ctx.fail(error, rows_valid=0, rows_quarantined=result.rejects.num_rows)
        raise error
    key = stage.stage_key(ctx, manifest.delivery_id, "valid")
    stage.write(store, key, result.valid)
    watermark = published_watermark(ctx, manifest, result.rejects)
    counts = {"rows_valid": result.valid.num_rows, "rows_quarantined": result.rejects.num_rows}
    if manifest.rows_reported is None:  # files carry no count of their own: count what parsed
        counts["rows_landed"] = result.rows
    ctx.record(step="publish", **counts)
    return {
        "manifest": manifest_key(manifest),
        "stage": key,
        "rows_valid": result.valid.num_rows,
        "rows_quarantined": result.rejects.num_rows,
        "undeclared_columns": sorted({c for cols in result.unexpected.values() for c in cols}),
        "watermark_to": watermark,
    }


#: How far before a quarantined change an incremental feed's watermark stops.
CURSOR_MARGIN = timedelta(milliseconds=1)


def published_watermark(ctx: RunContext, manifest: Manifest, rejects: pa.Table) -> str | None:
    """How far an incremental feed's cursor may move once this delivery is published: to the
    newest change read, but never past a quarantined one. A rejected row stays after the
    watermark, so the next delta reads it again (and the rows after it, merged again without
    change) until the agency corrects it; a rejected row without a readable cursor keeps the
    watermark where it was."""
    newest = manifest.watermark_to
    if newest is None or not rejects.num_rows:
        return newest
    column = ctx.feed.delivery.config.cursor_column
    instants = []
    for record in rejects.column("record").to_pylist():
        value = json.loads(record).get(column)
        try:
            instants.append(as_utc(datetime.fromisoformat(str(value))))
        except ValueError:
            log.warning(
                "%s: a quarantined row has no readable %s (%r): the watermark stays at %s",
                ctx.where,
                column,
                value,
                manifest.watermark_from,
            )
            return manifest.watermark_from
    # a millisecond before: a source that compares cursors coarsely (SQLite's julianday
    # keeps ~50 us) must still find the refused change after the watermark
    before = (min(instants) - CURSOR_MARGIN).isoformat(timespec="microseconds")
    if manifest.watermark_from is not None:
        before = max(before, manifest.watermark_from)
    if before < newest:
        log.info(
            "%s: the watermark stops at %s, before %d quarantined change(s): they are read "
            "again with the next delta",
            ctx.where,
            before,
            len(instants),
        )
    return min(newest, before)


def summary(ctx: RunContext, outcome: Outcome, result: Conformed, score: Score) -> str:
    """What a data engineer reads in the task log: counts, failed checks, examples, score."""
    lines = [
        f"{ctx.where}: {result.valid.num_rows} rows valid, {result.rejects.num_rows} "
        f"quarantined; {sum(r.success for r in outcome.results)}/{len(outcome.results)} "
        f"checks passed; quality score {score.score}"
    ]
    for r in outcome.results:
        if r.success:
            continue
        count = f"{r.unexpected_count} rows" if r.unexpected_count is not None else "failed"
        seen = f" (observed {r.observed_value})" if r.observed_value is not None else ""
        examples = f", e.g. {r.examples[:3]}" if r.examples else ""
        hard = " [hard]" if r.hard else ""
        lines.append(f"  FAILED{hard} {r.label} [{r.expectation}]: {count}{seen}{examples}")
        if r.error:
            lines.append(f"    error: {r.error}")
    return "\n".join(lines) + _examples(result.rejects)


def _examples(rejects: pa.Table, limit: int = 3) -> str:
    if not rejects.num_rows:
        return ""
    rows = rejects.slice(0, limit).select(["source_object", "row_index", "column", "reason"])
    lines = [
        f"\n  {r['source_object']} row {r['row_index']}: {r['column']}: {r['reason']}"
        for r in rows.to_pylist()
    ]
    return "; for example:" + "".join(lines)
