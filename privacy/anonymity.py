"""Re-identification risk of a release: k-anonymity and l-diversity over declared columns, and
the gate that generalizes or suppresses until they hold, or refuses the release.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from privacy.errors import ReleaseRefused
from privacy.policy import Band, ColumnClass, PrivacyPolicy, Snap, Truncate
from privacy.techniques import reband, snap, truncate


@dataclass(frozen=True)
class Risk:
    k: int | None  # smallest equivalence class; None without quasi-identifiers
    l: int | None  # noqa: E741  fewest distinct sensitive values in a class
    classes: int
    rows: int


@dataclass
class Released:
    table: pa.Table
    risk: Risk
    rows_suppressed: int
    level: int  # 0: as in the trusted zone; n: the n-th step of the ladder
    settings: dict[str, object]


def class_ids(table: pa.Table, columns: list[str]) -> pa.Array:
    """One int64 id per equivalence class (nulls are a value of their own, as an attacker sees)."""
    ids = pa.array([0] * table.num_rows, pa.int64())
    for name in columns:
        encoded = pc.dictionary_encode(table.column(name).combine_chunks())
        radix = len(encoded.dictionary) + 1
        code = pc.fill_null(pc.cast(encoded.indices, pa.int64()), len(encoded.dictionary))
        ids = pc.add(pc.multiply(ids, radix), code)
        ids = pc.cast(pc.dictionary_encode(ids).indices, pa.int64())  # keep ids small
    return ids


def class_sizes(ids: pa.Array) -> pa.Array:
    """The size of each row's class, row by row."""
    counts = pc.value_counts(ids)
    position = pc.index_in(ids, counts.field("values"))
    return pc.take(counts.field("counts"), position)


def measure(table: pa.Table, quasi: list[str], sensitive: list[str]) -> Risk:
    if not quasi or table.num_rows == 0:
        return Risk(k=None, l=None, classes=0, rows=table.num_rows)
    ids = class_ids(table, quasi)
    counts = pc.value_counts(ids)
    l_value = None
    if sensitive:
        grouped = pa.table({"id": ids, **{s: table.column(s) for s in sensitive}})
        diversity = grouped.group_by("id").aggregate([(s, "count_distinct") for s in sensitive])
        l_value = min(pc.min(diversity.column(f"{s}_count_distinct")).as_py() for s in sensitive)
    return Risk(
        k=pc.min(counts.field("counts")).as_py(),
        l=l_value,
        classes=len(counts),
        rows=table.num_rows,
    )


def _small_rows(
    table: pa.Table, quasi: list[str], sensitive: list[str], k: int, l_min: int
) -> pa.Array:
    """Rows whose class is smaller than k, or less diverse than l."""
    ids = class_ids(table, quasi)
    small = pc.less(class_sizes(ids), k)
    for s in sensitive if l_min > 1 else []:
        pairs = pa.table({"id": ids, "s": table.column(s)})
        diversity = pairs.group_by("id").aggregate([("s", "count_distinct")])
        poor = diversity.filter(pc.less(diversity.column("s_count_distinct"), l_min)).column("id")
        small = pc.or_(small, pc.is_in(ids, poor))
    return small


def _coarsen(
    table: pa.Table, policy: PrivacyPolicy, level: int, timezone: str
) -> tuple[pa.Table, dict]:
    settings: dict[str, object] = {}
    for name, steps in policy.release.ladder.items():
        if level == 0 or not steps:
            continue
        step = steps[min(level, len(steps)) - 1]
        rule = policy.rule(name)
        values = table.column(name).combine_chunks()
        if step == "suppress":
            out = pa.nulls(len(values), values.type)
        elif isinstance(rule, Band):
            out = reband(values, int(step))
        elif isinstance(rule, Truncate):
            out = truncate(values, str(step), timezone)
        elif isinstance(rule, Snap):
            out = snap(values, float(step), rule.axis, rule.reference_lat)
        else:
            raise ValueError(f"release.ladder.{name}: cannot coarsen a {rule.technique} column")
        table = table.set_column(table.column_names.index(name), name, out)
        settings[name] = step
    return table, settings


def release_gate(
    table: pa.Table, policy: PrivacyPolicy | None, *, feed_id: str, timezone: str
) -> Released:
    """Generalize along the ladder, then suppress small classes, until k and l hold.

    Raises:
        ReleaseRefused: no step of the ladder gets there within ``max_suppression``.
    """

    if policy is None:
        return Released(table, measure(table, [], []), 0, 0, {})
    quasi = [c for c in policy.of_class(ColumnClass.quasi) if c in table.column_names]
    sensitive = [c for c in policy.of_class(ColumnClass.sensitive) if c in table.column_names]
    gate = policy.release
    if not quasi or table.num_rows == 0:
        return Released(table, measure(table, quasi, sensitive), 0, 0, {})
    levels = max((len(s) for s in gate.ladder.values()), default=0)
    best = None
    for level in range(levels + 1):
        candidate, settings = _coarsen(table, policy, level, timezone)
        small = _small_rows(candidate, quasi, sensitive, gate.k, gate.l)
        withheld = pc.sum(pc.cast(small, pa.int64())).as_py() or 0
        share = withheld / candidate.num_rows
        best = (share, level) if best is None or share < best[0] else best
        if share <= gate.max_suppression:
            kept = candidate.filter(pc.invert(small))
            risk = measure(kept, quasi, sensitive)
            if kept.num_rows and risk.k >= gate.k and (risk.l is None or risk.l >= gate.l):
                return Released(kept, risk, withheld, level, settings)
    raise ReleaseRefused(
        f"feed {feed_id}: the open release cannot reach k ≥ {gate.k}"
        + (f" and l ≥ {gate.l}" if gate.l > 1 else "")
        + f" over {', '.join(quasi)}: even at ladder step {best[1]} of {levels}, "
        f"{best[0]:.1%} of {table.num_rows} rows sit in smaller classes, more than the "
        f"{gate.max_suppression:.0%} that may be suppressed; nothing was released"
    )
