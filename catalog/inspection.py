"""The semi-annual personal-data inspection (Gunpo plan: twice a year), made from the registers
and the audit log alone: what was pseudonymized, provided to whom, destroyed, re-identified and
by whom, and the anomalies an inspector asks about first (refused requests, refusals of access,
grants used after they expired or were revoked). Totals are the registers' own sums, so the
report can be checked against them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from catalog.db import ensure_current, session_for
from catalog.models import (
    AuditEntry,
    DestructionRecord,
    ProcessingRecord,
    Provision,
    ProvisionRequest,
    ReidentificationRequest,
)


@dataclass
class Inspection:
    since: datetime
    until: datetime
    #: (dataset, column, technique) -> (records, values changed)
    processing: dict[tuple[str, str, str], tuple[int, int]] = field(default_factory=dict)
    #: (recipient, dataset, channel) -> (answers, rows)
    provisions: dict[tuple[str, str, str], tuple[int, int]] = field(default_factory=dict)
    #: (dataset, reason) -> (objects, bytes)
    destructions: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    decisions: list[ProvisionRequest] = field(default_factory=list)
    reidentifications: list[ReidentificationRequest] = field(default_factory=list)
    #: anomalies: (kind, who, what, when)
    anomalies: list[tuple[str, str, str, datetime]] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, int]:
        return {
            "processing_records": sum(n for n, _ in self.processing.values()),
            "provision_records": sum(n for n, _ in self.provisions.values()),
            "rows_provided": sum(r for _, r in self.provisions.values()),
            "objects_destroyed": sum(n for n, _ in self.destructions.values()),
            "reidentifications_used": sum(r.status == "used" for r in self.reidentifications),
            "anomalies": len(self.anomalies),
        }


def inspect(url: str, since: datetime, until: datetime) -> Inspection:
    """The inspection of ``[since, until)``."""
    ensure_current(url)
    report = Inspection(since, until)
    with session_for(url) as session:
        for dataset, column, technique, count, changed in session.execute(
            select(
                ProcessingRecord.dataset_id,
                ProcessingRecord.column_name,
                ProcessingRecord.technique,
                func.count(),
                func.coalesce(func.sum(ProcessingRecord.values_changed), 0),
            )
            .where(ProcessingRecord.recorded_at >= since, ProcessingRecord.recorded_at < until)
            .group_by(
                ProcessingRecord.dataset_id,
                ProcessingRecord.column_name,
                ProcessingRecord.technique,
            )
        ):
            report.processing[dataset, column, technique] = (int(count), int(changed))
        for recipient, dataset, channel, count, rows in session.execute(
            select(
                Provision.recipient,
                Provision.dataset_id,
                Provision.channel,
                func.count(),
                func.coalesce(func.sum(Provision.rows), 0),
            )
            .where(Provision.provided_at >= since, Provision.provided_at < until)
            .group_by(Provision.recipient, Provision.dataset_id, Provision.channel)
        ):
            report.provisions[recipient, dataset, channel] = (int(count), int(rows))
        for dataset, reason, count, size in session.execute(
            select(
                DestructionRecord.dataset_id,
                DestructionRecord.reason,
                func.count(),
                func.coalesce(func.sum(DestructionRecord.size), 0),
            )
            .where(DestructionRecord.destroyed_at >= since, DestructionRecord.destroyed_at < until)
            .group_by(DestructionRecord.dataset_id, DestructionRecord.reason)
        ):
            report.destructions[dataset, reason] = (int(count), int(size))
        report.decisions = list(
            session.scalars(
                select(ProvisionRequest)
                .where(ProvisionRequest.filed_at >= since, ProvisionRequest.filed_at < until)
                .order_by(ProvisionRequest.id)
            )
        )
        report.reidentifications = list(
            session.scalars(
                select(ReidentificationRequest)
                .where(
                    ReidentificationRequest.requested_at >= since,
                    ReidentificationRequest.requested_at < until,
                )
                .order_by(ReidentificationRequest.id)
            )
        )
        refusals = session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.at >= since,
                AuditEntry.at < until,
                AuditEntry.action.in_(["access_refused", "api_refused", "sign_in_refused"]),
            )
            .order_by(AuditEntry.id)
        )
        for entry in refusals:
            reason = str(json.loads(entry.detail or "{}").get("reason", ""))
            kind = (
                "grant used after it ended"
                if entry.action == "api_refused" and ("expired" in reason or "revoked" in reason)
                else entry.action.replace("_", " ")
            )
            report.anomalies.append((kind, entry.actor, f"{entry.target}: {reason}", entry.at))
    for r in report.decisions:
        if r.status == "refused":
            report.anomalies.append(
                ("provision refused", r.partner_id, f"{r.dataset_id}: {r.reason}", r.filed_at)
            )
    for q in report.reidentifications:
        if q.status == "refused":
            why = f"{q.feed_id}: {q.decision_reason}"
            report.anomalies.append(
                ("re-identification refused", q.requested_by, why, q.requested_at)
            )
    report.anomalies.sort(key=lambda a: a[3])
    return report
