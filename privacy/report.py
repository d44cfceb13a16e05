"""The release report a privacy officer reads, in Korean and in English (Markdown).

It states what the guideline asks a pseudonymization record to state: purpose, legal basis,
each column's class and technique, the key version, the PII scan, the measured k and l, rows
suppressed, and the destruction of the identified delivery.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from privacy.policy import PrivacyPolicy


@dataclass
class ReleaseFacts:
    feed_id: str
    title_ko: str
    title_en: str
    zone: str  # trusted | open
    status: str  # released | refused
    window: str
    rows: int
    rows_suppressed: int = 0
    k: int | None = None
    l: int | None = None  # noqa: E741
    k_required: int | None = None
    l_required: int | None = None
    key_versions: list[int] = field(default_factory=list)
    pii_scan: dict[str, dict[str, int]] = field(default_factory=dict)
    scanned_columns: list[str] = field(default_factory=list)
    destroyed_objects: int | None = None
    ladder: dict[str, Any] = field(default_factory=dict)
    message: str | None = None


_CLASS_KO = {
    "direct_identifier": "식별자",
    "quasi_identifier": "준식별자",
    "sensitive": "민감정보",
    "not_personal": "개인정보 아님",
}


def render(facts: ReleaseFacts, policy: PrivacyPolicy | None) -> tuple[str, str]:
    """The report in Korean and in English."""
    return _render(facts, policy, "ko"), _render(facts, policy, "en")


def _render(f: ReleaseFacts, policy: PrivacyPolicy | None, lang: str) -> str:
    ko = lang == "ko"
    zone = {
        "trusted": ("신뢰 영역(가명정보)", "trusted zone (pseudonymized)"),
        "open": ("개방 영역(익명 공개)", "open zone (anonymized release)"),
    }[f.zone]
    lines = [
        f"# {'가명처리 결과 보고서' if ko else 'Release report'}: {f.title_ko if ko else f.title_en}",
        "",
        f"- {'데이터셋' if ko else 'Dataset'}: `{f.feed_id}` — {zone[0] if ko else zone[1]}",
        f"- {'기간' if ko else 'Window'}: {f.window}",
        f"- {'결과' if ko else 'Outcome'}: "
        + (
            ("공개됨" if ko else "released")
            if f.status == "released"
            else ("거부됨" if ko else "refused")
        ),
        f"- {'행 수' if ko else 'Rows'}: {f.rows:,}"
        + (
            f" ({'억제' if ko else 'suppressed'}: {f.rows_suppressed:,})"
            if f.rows_suppressed
            else ""
        ),
    ]
    if f.message:
        lines.append(f"- {'사유' if ko else 'Reason'}: {f.message}")
    if policy is None:
        lines += ["", "개인정보 항목 없음." if ko else "The feed declares no personal data."]
    else:
        lines += [
            f"- {'처리 목적' if ko else 'Purpose'}: {policy.purpose.ko if ko else policy.purpose.en}",
            f"- {'법적 근거' if ko else 'Legal basis'}: "
            f"{policy.legal_basis.ko if ko else policy.legal_basis.en}",
            f"- {'키 버전' if ko else 'Key version'}: "
            + (", ".join(f"v{v}" for v in f.key_versions) or ("해당 없음" if ko else "none")),
            "",
            "| "
            + (
                " | ".join(
                    ["항목", "구분", "처리 기법"] if ko else ["Column", "Class", "Technique"]
                )
            )
            + " |",
            "|---|---|---|",
        ]
        for name, rule in policy.columns.items():
            cls = _CLASS_KO[rule.class_.value] if ko else rule.class_.value.replace("_", " ")
            technique = rule.guideline
            if f.zone == "open" and rule.class_.value == "direct_identifier":
                technique = "공개본에서 삭제" if ko else "deleted from the open release"
            if name in f.ladder:
                technique += f" → {f.ladder[name]}"
            lines.append(f"| {name} | {cls} | {technique} |")
    findings = sum(n for kinds in f.pii_scan.values() for n in kinds.values())
    lines += [
        "",
        f"- {'개인정보 탐지 검사' if ko else 'PII scan'}: "
        + (
            (
                f"{len(f.scanned_columns)}개 항목 검사, 미신고 개인정보 없음"
                if ko
                else f"{len(f.scanned_columns)} columns scanned, no undeclared personal data"
            )
            if not findings
            else f"{findings} findings: {f.pii_scan}"
        ),
    ]
    if f.k_required is not None:
        lines.append(
            f"- k-{'익명성' if ko else 'anonymity'}: k = {f.k if f.k is not None else '—'} "
            f"({'기준' if ko else 'required'} ≥ {f.k_required}); l-{'다양성' if ko else 'diversity'}: "
            f"l = {f.l if f.l is not None else '—'} ({'기준' if ko else 'required'} ≥ {f.l_required})"
        )
    if f.destroyed_objects is not None:
        lines.append(
            f"- {'원본 파기' if ko else 'Identified delivery destroyed'}: "
            + (
                f"{f.destroyed_objects}개 객체 파기, 파기대장 기록"
                if ko
                else f"{f.destroyed_objects} objects, listed in the destruction register"
            )
        )
    return "\n".join(lines) + "\n"
