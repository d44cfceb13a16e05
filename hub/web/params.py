"""Query parameters several routes declare alike, documented once."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Header, Query

LIMIT = "Rows (JSON: 100 by default, at most 10,000; CSV and Parquet: all by default)."
FROM = "The time column at or after this instant (ISO 8601; UTC without an offset)."
TO = "The time column before this instant (ISO 8601; UTC without an offset)."
MAX_ROW = 2**31 - 1  # offsets and page numbers: what every catalog backend's integer holds
SNAPSHOT_ID = {"ge": 0, "le": 2**63 - 1}  # Iceberg snapshot ids are positive 64-bit integers
Version = Annotated[
    int | None,
    Query(
        description="A published version (snapshot id; the catalog's version works too).",
        **SNAPSHOT_ID,
    ),
]
Since = Annotated[
    int | None, Query(description="Only the changes after this version.", **SNAPSHOT_ID)
]
Lang = Annotated[Literal["ko", "en"], Query(description="Page language.")]
ApiKey = Annotated[str | None, Header(description="The partner's API key.")]
Purpose = Annotated[str | None, Query(description="Why (restricted datasets).")]
