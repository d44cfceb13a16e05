"""Turning source records into the feed's declared Arrow schema, row by row where it must.

The fast path casts whole columns; only a column that fails falls back to checking values one
by one, so a clean delivery pays nothing for the defect handling.
"""

from __future__ import annotations

import difflib
import json
import unicodedata
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from hub.core.delivery import Window
from hub.core.errors import DeliveryError
from hub.core.types import ColumnType
from hub.registry.spec import FeedSpec, FieldSpec, fields_schema

#: The quarantine table of every feed: the failing row as sent, and why it failed.
QUARANTINE_FIELDS = [
    FieldSpec(name="run_id", type="string", required=True),
    FieldSpec(name="window_start", type="timestamp", required=True),
    FieldSpec(name="source_object", type="string", required=True),
    FieldSpec(name="row_index", type="int64", required=True),
    FieldSpec(name="column", type="string"),
    FieldSpec(name="reason", type="string", required=True),
    FieldSpec(name="record", type="string", required=True),
]
QUARANTINE_SCHEMA = fields_schema(QUARANTINE_FIELDS)


@dataclass
class Conformed:
    valid: pa.Table
    rejects: pa.Table  # QUARANTINE_SCHEMA
    #: object key -> source columns the feed does not declare (recorded, never silent)
    unexpected: dict[str, list[str]] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return self.valid.num_rows + self.rejects.num_rows


def conform(
    feed: FeedSpec, source: pa.Table, *, window: Window, object_key: str, run_id: str
) -> Conformed:
    """Cast ``source`` to the feed's schema; rows that cannot be go to ``rejects`` with a reason.

    Raises:
        DeliveryError: a required column is missing from the delivery altogether.
    """
    n = source.num_rows
    reasons: list[tuple[pa.Array, str, str]] = []  # (bad mask, column, reason)
    columns: dict[str, pa.Array] = {}
    records = (source.schema.metadata or {}).get(b"hub.sparse") == b"1"
    if feed.text_normalization != "none":  # a header typed on macOS arrives decomposed too
        form = feed.text_normalization
        source = source.rename_columns(
            [unicodedata.normalize(form, c) for c in source.column_names]
        )
    drift = column_drift(feed, source.column_names)
    if drift.missing and source.num_columns and not (records and _absent_nulls(feed, drift)):
        raise DeliveryError(f"feed {feed.id}: file {object_key}: {drift.describe()}")
    for spec in feed.schema_:
        name = drift.found.get(spec.name)
        if name is None:  # a document with no records has no columns at all
            columns[spec.name] = pa.nulls(n, spec.arrow_type)
            continue
        raw = _missing_to_null(
            normalized(source.column(name).combine_chunks(), feed.text_normalization)
        )
        typed = _cast(raw, spec, feed.schedule.timezone)
        unreadable = pc.and_(pc.is_valid(raw), pc.is_null(typed))
        if pc.any(unreadable).as_py():
            reasons.append((unreadable, spec.name, f"cannot read as {spec.type.value}"))
        if pa.types.is_floating(typed.type):
            nonfinite = pc.invert(pc.fill_null(pc.is_finite(typed), True))
            if pc.any(nonfinite).as_py():
                # NaN or ±Infinity is never a reading: the row is quarantined, not published
                reasons.append((nonfinite, spec.name, "not a finite number (NaN or Infinity)"))
                typed = pc.if_else(nonfinite, pa.scalar(None, typed.type), typed)
        if spec.required:
            reasons.append((pc.is_null(typed), spec.name, "required value is empty"))
        columns[spec.name] = typed

    part = columns[feed.partition.column]
    part_type = feed.field(feed.partition.column).type
    # An upsert feed's rows are changes since the last watermark: they may touch any period.
    if part_type in (ColumnType.timestamp, ColumnType.date) and n and feed.load == "window":
        low, high = window_bounds(window, part_type, feed.schedule.timezone)
        outside = pc.or_(
            pc.is_null(part),  # a row without a partition value belongs to no window
            pc.or_(
                pc.less(part, pa.scalar(low, part.type)),
                pc.greater_equal(part, pa.scalar(high, part.type)),
            ),
        )
        reasons.append(
            (
                outside,
                feed.partition.column,
                f"outside the run window [{window.start.isoformat()}, {window.end.isoformat()})",
            )
        )

    typed_table = pa.table(columns)

    # a clean part (the usual case) pays for one ``any`` per check, not for a row loop
    filled = [(pc.fill_null(mask, False), column, reason) for mask, column, reason in reasons]
    marked = [(mask, column, reason) for mask, column, reason in filled if pc.any(mask).as_py()]
    valid, rejects = typed_table, QUARANTINE_SCHEMA.empty_table()
    if marked:
        bad = marked[0][0]
        first_reason: list[tuple[str, str] | None] = [None] * n
        for mask, column, reason in marked:
            for i in pc.indices_nonzero(mask).to_pylist():
                if first_reason[i] is None:
                    first_reason[i] = (column, reason)
            bad = pc.or_(bad, mask)
        valid = typed_table.filter(pc.invert(bad))
        rejects = _rejects(
            source, first_reason, window=window, object_key=object_key, run_id=run_id
        )
    valid = valid.cast(feed.arrow_schema)
    unexpected = {object_key: drift.unexpected} if drift.unexpected else {}
    return Conformed(valid=valid, rejects=rejects, unexpected=unexpected)


@dataclass(frozen=True)
class ColumnDrift:
    """How a delivery's columns differ from the feed's declared source names."""

    found: dict[str, str]  # field name -> the source column that carries it
    missing: list[str]  # declared source names absent from the delivery
    unexpected: list[str]  # columns the feed neither declares nor ignores
    renamed: dict[str, str]  # missing source name -> the unexpected column it looks renamed to

    def describe(self) -> str:
        parts = [f"missing {', '.join(map(repr, self.missing))}"]
        if self.renamed:
            looks = ", ".join(f"{old!r} -> {new!r}" for old, new in self.renamed.items())
            parts.append(f"looks renamed: {looks}")
        if self.unexpected:
            parts.append(f"unexpected {', '.join(map(repr, self.unexpected))}")
        return (
            "the delivery's columns differ from the declared source names ("
            + "; ".join(parts)
            + "), so nothing is read from it; if the provider renamed a column, declare the "
            "new name under the field's aliases"
        )


def _absent_nulls(feed: FeedSpec, drift: ColumnDrift) -> bool:
    """Records (JSON, XML, entities) may leave out a null field: missing optional fields
    with nothing that looks like their new name are nulls there, not drift."""
    if drift.renamed:
        return False
    required = {f.source_name for f in feed.schema_ if f.required}
    return not required & set(drift.missing)


def column_drift(feed: FeedSpec, present: list[str]) -> ColumnDrift:
    """Match the delivery's columns to the declared fields by source name or alias."""
    have = set(present)
    found: dict[str, str] = {}
    missing: list[str] = []
    used: set[str] = set(feed.ignored_columns)
    for spec in feed.schema_:
        name = next((c for c in spec.source_names if c in have), None)
        if name is None:
            missing.append(spec.source_name)
        else:
            found[spec.name] = name
        used.update(spec.source_names)
    unexpected = [c for c in present if c not in used]
    return ColumnDrift(found, missing, unexpected, _renamings(missing, unexpected))


def _renamings(missing: list[str], unexpected: list[str]) -> dict[str, str]:
    """Pairs that look like one column renamed: similar names, or the only one of each left."""
    pairs: dict[str, str] = {}
    left = list(unexpected)
    for old in missing:
        close = difflib.get_close_matches(old, left, n=1, cutoff=0.4)
        if close:
            pairs[old] = close[0]
            left.remove(close[0])
    rest = [m for m in missing if m not in pairs]
    if len(rest) == 1 and len(left) == 1:
        pairs[rest[0]] = left[0]
    return pairs


def normalized(raw: pa.Array, form: str) -> pa.Array:
    """Text in one Unicode form (``form`` 'none' keeps it as sent); other types untouched."""
    if form == "none" or not (pa.types.is_string(raw.type) or pa.types.is_large_string(raw.type)):
        return raw
    return pc.utf8_normalize(raw, form=form)


def window_bounds(window: Window, column_type: ColumnType, timezone: str):
    """The window as values of the partition column: instants, or local dates for a date."""
    if column_type == ColumnType.date:
        from zoneinfo import ZoneInfo

        tz = ZoneInfo(timezone)
        return window.start.astimezone(tz).date(), window.end.astimezone(tz).date()
    return window.start, window.end


def _cast(raw: pa.Array, field: FieldSpec, timezone: str) -> pa.Array:
    target = field.arrow_type
    if pa.types.is_null(raw.type):
        return pa.nulls(len(raw), target)
    if field.type == ColumnType.timestamp:
        return _timestamp(raw, field, timezone)
    if field.type == ColumnType.date and pa.types.is_string(raw.type) and field.format:
        return pc.cast(pc.strptime(raw, format=field.format, unit="s", error_is_null=True), target)
    try:
        return pc.cast(raw, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return _cast_each(raw, target)


def _missing_to_null(raw: pa.Array) -> pa.Array:
    """Korean agency APIs send "-" or "" for a missing reading: that is a null, not an error."""
    if not (pa.types.is_string(raw.type) or pa.types.is_large_string(raw.type)):
        return raw
    raw = pc.utf8_trim_whitespace(raw)
    return pc.if_else(pc.is_in(raw, pa.array(["", "-"], raw.type)), pa.scalar(None, raw.type), raw)


def _timestamp(raw: pa.Array, field: FieldSpec, timezone: str) -> pa.Array:
    target = field.arrow_type
    if pa.types.is_timestamp(raw.type):
        if raw.type.tz is None:  # naive source times are the city's local time
            raw = pc.assume_timezone(raw, timezone, ambiguous="earliest", nonexistent="earliest")
        return pc.cast(raw, target)
    if not (pa.types.is_string(raw.type) or pa.types.is_large_string(raw.type)):
        return pa.nulls(len(raw), target)
    parsed = (
        pc.strptime(raw, format=field.format, unit="us", error_is_null=True)
        if field.format
        else _iso_timestamps(raw)
    )
    if parsed.type.tz is None:
        parsed = pc.assume_timezone(parsed, timezone, ambiguous="earliest", nonexistent="earliest")
    return pc.cast(parsed, target)


def _iso_timestamps(raw: pa.Array) -> pa.Array:
    """ISO 8601 text, with an offset (an instant) or without (local time): whole column first."""
    for target in (pa.timestamp("us", tz="UTC"), pa.timestamp("us")):
        try:
            return pc.cast(raw, target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
    return _cast_each(raw, pa.timestamp("us"))


def _cast_each(raw: pa.Array, target: pa.DataType) -> pa.Array:
    """Value-by-value cast: unreadable values become null (and are reported by the caller)."""
    out = []
    for value in raw:
        try:
            out.append(pc.cast(pa.array([value.as_py()], raw.type), target)[0].as_py())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            out.append(None)
    return pa.array(out, target)


def drop_duplicate_keys(
    feed: FeedSpec, valid: pa.Table, *, window: Window, run_id: str
) -> Conformed:
    """Keep the first row of each key across the whole delivery; later ones are rejected."""
    if not feed.key or not valid.num_rows:
        return Conformed(valid, QUARANTINE_SCHEMA.empty_table())
    dup = _duplicates(valid, feed.key)
    if not pc.any(dup).as_py():
        return Conformed(valid, QUARANTINE_SCHEMA.empty_table())
    rows = pc.indices_nonzero(dup).to_pylist()
    reasons: list[tuple[str, str] | None] = [None] * valid.num_rows
    for i in rows:
        reasons[i] = (",".join(feed.key), "duplicate key")
    rejects = rejects_for(valid, reasons, window=window, run_id=run_id)
    return Conformed(valid.filter(pc.invert(dup)), rejects)


def _duplicates(table: pa.Table, key: list[str]) -> pa.Array:
    """True for every row whose key already appeared earlier in the table.

    Each key column is dictionary-encoded and the codes combined into one int64, so the
    common case (no duplicates) is one distinct count; only a table that has duplicates pays
    for finding which rows they are.
    """
    n = table.num_rows
    combined: pa.Array | None = None
    radix = 1
    for name in key:
        encoded = pc.dictionary_encode(table.column(name).combine_chunks(), null_encoding="encode")
        cardinality = len(encoded.dictionary) + 1
        radix *= cardinality
        if radix >= 2**62:  # too many combinations for one int64: group on the columns
            return _first_seen(table.select(key), n)
        codes = pc.cast(encoded.indices, pa.int64())
        combined = codes if combined is None else pc.add(pc.multiply(combined, cardinality), codes)
    if len(pc.unique(combined)) == n:
        return pc.fill_null(pa.nulls(n, pa.bool_()), False)
    return _first_seen(pa.table({"__key": combined}), n)


def _first_seen(keys: pa.Table, n: int) -> pa.Array:
    indexed = keys.append_column("__row", pa.array(range(n), pa.int64()))
    firsts = indexed.group_by(keys.column_names, use_threads=False).aggregate([("__row", "min")])
    return pc.invert(pc.is_in(indexed.column("__row"), value_set=firsts.column("__row_min")))


def rejects_for(
    table: pa.Table, reasons: list[tuple[str, str] | None], *, window: Window, run_id: str
) -> pa.Table:
    """Quarantine rows for checks on the whole delivery (row_index is the row's position in it)."""
    return _rejects(table, reasons, window=window, object_key="(delivery)", run_id=run_id)


def _rejects(
    source: pa.Table,
    reasons: list[tuple[str, str] | None],
    *,
    window: Window,
    object_key: str,
    run_id: str,
) -> pa.Table:
    rows = [i for i, r in enumerate(reasons) if r is not None]
    if not rows:
        return QUARANTINE_SCHEMA.empty_table()
    records = source.take(rows).to_pylist()
    return pa.table(
        {
            "run_id": [run_id] * len(rows),
            "window_start": [window.start] * len(rows),
            "source_object": [object_key] * len(rows),
            "row_index": rows,
            "column": [reasons[i][0] for i in rows],
            "reason": [reasons[i][1] for i in rows],
            "record": [json.dumps(r, ensure_ascii=False, default=str) for r in records],
        },
        schema=QUARANTINE_SCHEMA,
    )
