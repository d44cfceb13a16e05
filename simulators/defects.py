"""Value defects a provider's data typically carries, injected on request into generated records.

Channel faults (HTTP errors, truncated files) live with each channel; these are the defects
inside well-formed deliveries that the quality gate exists for: out-of-range readings, missing
hours, duplicate ids, bad codes and late (stale) records. Rows are picked from the seed, so a
test knows exactly which rows it broke.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import numpy as np
import pyarrow as pa

Kind = Literal["out_of_range", "bad_code", "duplicate_id", "missing_hour", "late", "swap"]


@dataclass(frozen=True)
class Defect:
    """``column`` is the provider's field name; ``rows`` how many records to break.

    - out_of_range / bad_code: set the field to ``value``;
    - duplicate_id: copy the field from another record, so two records share it;
    - missing_hour: drop every record whose time field (``column``, ``fmt``) is in hour ``hour``;
    - late: move the time field back by ``shift`` (a delivery of stale records);
    - swap: exchange the field with ``other`` (e.g. a return time before the rental time).
    """

    kind: Kind
    column: str
    rows: int = 1
    value: Any = None
    other: str | None = None
    hour: int | None = None
    fmt: str = "%Y-%m-%d %H:%M:%S"
    shift: timedelta | float = timedelta(days=1)  # or seconds, as JSON sends it
    seed: int = 0


def picked(n: int, defect: Defect) -> list[int]:
    """The record positions a defect breaks (sorted, distinct)."""
    rng = np.random.default_rng([defect.seed, n, len(defect.kind)])
    return sorted(rng.choice(n, size=min(defect.rows, n), replace=False).tolist())


def inject(records: list[dict[str, Any]], defects: list[Defect]) -> list[dict[str, Any]]:
    """A copy of ``records`` with each defect applied in turn."""
    out = [dict(r) for r in records]
    for d in defects:
        if d.kind == "missing_hour":
            out = [r for r in out if datetime.strptime(r[d.column], d.fmt).hour != d.hour]
            continue
        rows = picked(len(out), d)
        for i in rows:
            record = out[i]
            if d.kind in ("out_of_range", "bad_code"):
                record[d.column] = d.value
            elif d.kind == "duplicate_id":
                record[d.column] = out[(i + 1) % len(out)][d.column]
            elif d.kind == "late":
                shift = d.shift if isinstance(d.shift, timedelta) else timedelta(seconds=d.shift)
                when = datetime.strptime(record[d.column], d.fmt) - shift
                record[d.column] = when.strftime(d.fmt)
            elif d.kind == "swap" and d.other:
                record[d.column], record[d.other] = record[d.other], record[d.column]
    return out


def inject_table(table: pa.Table, defects: list[Defect]) -> pa.Table:
    """The same on an Arrow table of text fields (a file export before it is written)."""
    if not defects:
        return table
    return pa.Table.from_pylist(inject(table.to_pylist(), defects), schema=table.schema)
