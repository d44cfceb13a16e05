"""Protect: apply the feed's privacy policy to the validated rows, prove no identifier is left,
and register what was done. Every feed passes here, with or without personal data.

The identified stage never leaves the raw zone; only the protected stage moves on to publish.
Protect leaves its input stage in place (a retry of itself needs it; the cleanup step removes
both once the run succeeded), and a rerun yields the same tokens and replaces its register rows.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pyarrow as pa

from catalog.models import ProcessingRecord
from hub.core.time import utc_now
from hub.lake.raw import load_manifest
from hub.steps import stage
from hub.steps.context import RunContext
from hub.steps.registers import replace_run_rows
from privacy.errors import UndeclaredPersonalData
from privacy.policy import Keep, Mask, PrivacyPolicy, Scrub, Token
from privacy.scanner import scan_table
from privacy.techniques import Applied, Protected, protect_table
from privacy.vault import Vault

log = logging.getLogger(__name__)


def scanned_columns(policy: PrivacyPolicy | None, table: pa.Table) -> list[str]:
    """Columns where undeclared personal data could hide: those the policy leaves as they are,
    plus the ones it masks or scrubs (to prove it worked). Tokens and generalized values are
    the policy's own output."""
    if policy is None:
        return list(table.column_names)
    return [c for c in table.column_names if isinstance(policy.rule(c), Keep | Mask | Scrub)]


def pii_scan(ctx: RunContext, table: pa.Table) -> dict[str, dict[str, int]]:
    """Scan the protected rows; undeclared identifiers fail the step before anything moves on."""

    findings = scan_table(table.select(scanned_columns(ctx.feed.privacy, table)))
    if findings:
        detail = "; ".join(
            f"column '{col}': " + ", ".join(f"{kind} ({n} values)" for kind, n in kinds.items())
            for col, kinds in findings.items()
        )
        raise UndeclaredPersonalData(
            f"{ctx.where}: the protected rows still hold personal data: {detail}. Nothing was "
            "published; declare the column under privacy.columns with a technique "
            "(drop, token, mask, scrub, ...) in the feed file"
        )
    return findings


def apply_policy(ctx: RunContext, data: pa.Table, delivery_id: str) -> Protected:
    policy = ctx.feed.privacy
    if policy is None:
        return Protected(data, [])

    needs_key = any(isinstance(r, Token) or r.technique == "noise" for r in policy.columns.values())
    vault = Vault.open(ctx.settings) if needs_key else None
    key = vault.current_key(ctx.feed.id) if vault else None
    seed = int.from_bytes(key.secret[:4], "big") ^ int(ctx.window.start.timestamp()) if key else 0
    result = protect_table(
        data, policy, key=key, timezone=ctx.feed.schedule.timezone, noise_seed=seed
    )
    for column, (tokens, values) in result.token_tables.items():
        vault.keep_token_table(key, column, delivery_id, tokens, values)
    return result


def register_processing(ctx: RunContext, delivery_id: str, applied: list[Applied]) -> None:
    """One processing-register row per protected column of this run (a rerun's replace the
    previous attempt's)."""
    policy = ctx.feed.privacy
    if policy is None:
        return
    basis = f"{policy.legal_basis.ko} / {policy.legal_basis.en}"
    rows = []
    for a in applied:
        rows.append(
            ProcessingRecord(
                dataset_id=ctx.feed.id,
                run_id=ctx.run_id,
                delivery_id=delivery_id,
                column_name=a.column,
                classification=a.classification,
                technique=a.technique,
                guideline=a.guideline,
                params=json.dumps(a.params, ensure_ascii=False),
                legal_basis=basis,
                purpose=policy.purpose.en,
                key_version=a.key_version,
                values_changed=a.values_changed,
                recorded_at=utc_now(),
            )
        )
    replace_run_rows(ctx, ProcessingRecord, rows)


def protect(ctx: RunContext, validated: dict[str, Any]) -> dict[str, Any]:
    """Protect the staged rows of the window and stage the result for publish."""
    store = ctx.store()
    manifest = load_manifest(store, validated["manifest"])
    data = stage.read(store, validated["stage"])
    try:
        result = apply_policy(ctx, data, manifest.delivery_id)
        protected = result.table.select(ctx.feed.published_schema.names).cast(
            ctx.feed.published_schema
        )
        findings = pii_scan(ctx, protected)
    except Exception as exc:
        ctx.fail(exc)
        raise
    key = stage.stage_key(ctx, manifest.delivery_id, "protected")
    stage.write(store, key, protected)
    policy = ctx.feed.privacy
    register_processing(ctx, manifest.delivery_id, result.applied)
    ctx.record(step="publish")
    versions = sorted({a.key_version for a in result.applied if a.key_version is not None})
    log.info(
        "%s: protected %d rows (%s); PII scan of %d columns found nothing undeclared",
        ctx.where,
        protected.num_rows,
        ", ".join(f"{a.column}: {a.technique}" for a in result.applied) or "no personal data",
        len(scanned_columns(policy, protected)),
    )
    return {
        **validated,
        "stage": key,
        "key_versions": versions,
        "techniques": {a.column: a.technique for a in result.applied},
        "pii_scan": findings,
    }
