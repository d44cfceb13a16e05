"""The Seoul Business Agency's tenant register of its startup hubs: a source database table
that keeps changing, with an ``updated_at`` on every row.

``state_at(t)`` is the register as it stands at instant ``t``: tenants move in over time and
report every few months (employees, revenue, investment change, ``updated_at`` moves). Writing
``state_at`` for a later ``t`` is exactly what the agency's system does between two reads, so
the hub's incremental reads see realistic deltas, and the same ``t`` always gives the same rows.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

KST = ZoneInfo("Asia/Seoul")
TABLE = "startup_tenants"
EPOCH = datetime(2024, 1, 1, tzinfo=KST)
HUBS = [
    "서울창업허브 공덕",
    "서울창업허브 성수",
    "서울창업허브 M+",
    "서울바이오허브",
    "서울AI허브",
    "캠퍼스타운 관악",
]
INDUSTRIES = ["인공지능", "바이오·헬스", "핀테크", "모빌리티", "콘텐츠", "푸드테크", "환경·에너지"]


def business_number(serial: np.ndarray, sole: np.ndarray) -> pa.Array:
    """NTS business registration numbers with a valid check digit; 01-79 in the middle two
    digits marks a sole proprietor (personal data), 81-88 a corporation."""
    office = 101 + serial % 600
    kind = np.where(sole, 1 + serial % 79, 81 + serial % 8)
    body = (serial * 7919) % 10000
    digits = np.stack(
        [
            office // 100,
            office // 10 % 10,
            office % 10,
            kind // 10,
            kind % 10,
            body // 1000,
            body // 100 % 10,
            body // 10 % 10,
            body % 10,
        ]
    )
    weights = np.array([1, 3, 7, 1, 3, 7, 1, 3, 5])[:, None]
    total = (digits * weights).sum(axis=0) + digits[8] * 5 // 10
    check = (10 - total % 10) % 10
    text = [
        f"{o:03d}-{k:02d}-{b:04d}{c}" for o, k, b, c in zip(office, kind, body, check, strict=True)
    ]
    return pa.array(text, pa.large_string())


def state_at(at: datetime, tenants: int = 3_000, seed: int = 7) -> pa.Table:
    """The register at instant ``at``: every tenant that has moved in, as last reported."""
    rng = np.random.default_rng(seed)
    span = (datetime(2027, 1, 1, tzinfo=KST) - EPOCH).total_seconds()
    moved_in = np.sort(rng.uniform(0, span, tenants))
    period = rng.integers(30, 120, tenants) * 86_400.0  # each tenant reports every 1-4 months
    sole = rng.random(tenants) < 0.4
    base_staff = rng.integers(1, 40, tenants)
    base_revenue = rng.lognormal(19, 1.2, tenants)
    industry = rng.integers(0, len(INDUSTRIES), tenants)
    hub = rng.integers(0, len(HUBS), tenants)
    now = (at - EPOCH).total_seconds()
    present = moved_in <= now
    reports = np.floor((now - moved_in) / period).clip(min=0)
    updated = moved_in + reports * period
    idx = np.nonzero(present)[0]
    r = reports[idx]
    growth = 1 + 0.05 * r
    updated_at = [
        (EPOCH + timedelta(seconds=float(s))).isoformat(timespec="microseconds")
        for s in updated[idx]
    ]
    founded = [
        (EPOCH + timedelta(seconds=float(s)) - timedelta(days=400)).date().isoformat()
        for s in moved_in[idx]
    ]
    return pa.table(
        {
            "facility_id": pa.array([f"SBA-{h + 1:02d}" for h in hub[idx]], pa.large_string()),
            "hub": pa.array([HUBS[h] for h in hub[idx]], pa.large_string()),
            "tenant_id": pa.array([f"T{i:06d}" for i in idx], pa.large_string()),
            "biz_reg_no": business_number(idx, sole[idx]),
            "founded": pa.array(founded, pa.large_string()),
            "industry": pa.array([INDUSTRIES[i] for i in industry[idx]], pa.large_string()),
            "employees": pa.array((base_staff[idx] * growth).astype(np.int64)),
            "revenue": pa.array((base_revenue[idx] * growth).round(-4).astype(np.int64)),
            "investment": pa.array(
                np.where(r % 3 == 2, (base_revenue[idx] * 0.5).round(-6), 0).astype(np.int64)
            ),
            "updated_at": pa.array(updated_at, pa.large_string()),
        }
    )


def write_state(url: str, at: datetime, tenants: int = 3_000, seed: int = 7) -> int:
    """Make the source table hold the register as of ``at`` (SQLite or PostgreSQL)."""
    return write_rows(url, state_at(at, tenants, seed))


def write_rows(url: str, rows: pa.Table) -> int:
    """Make the source table hold exactly ``rows`` (a state altered by a test: rows deleted,
    cursors moved back, a key twice, a column gone)."""
    if url.startswith("sqlite:///"):
        import adbc_driver_sqlite.dbapi as driver

        target = url.removeprefix("sqlite:///")
        from pathlib import Path

        Path(target).parent.mkdir(parents=True, exist_ok=True)
    else:
        import adbc_driver_postgresql.dbapi as driver

        target = url
        rows = rows.set_column(
            rows.column_names.index("updated_at"),
            "updated_at",
            pc.cast(rows.column("updated_at"), pa.timestamp("us", tz="UTC")),
        )
    with driver.connect(target) as connection, connection.cursor() as cursor:
        cursor.adbc_ingest(TABLE, rows, mode="replace")
        connection.commit()
    return rows.num_rows
