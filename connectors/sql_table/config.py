"""Options of a SQL-table delivery, as written under ``delivery.options`` in a feed file."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SqlTableConfig(BaseModel):
    """Which table of which database, and the column that says what changed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(
        description="sqlite:///path or postgresql://user:pass@host:port/db; '${VAR}' is read "
        "from the environment at run time, so feed files hold no secrets."
    )
    table: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
    cursor_column: str = Field(
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="A timestamp that grows whenever a row changes (e.g. updated_at).",
    )
    columns: list[str] = Field(
        default_factory=list, description="Columns to read; all of them when empty."
    )
    part_rows: int = Field(default=250_000, ge=1, description="Rows per landed Parquet part.")


CONFIG = SqlTableConfig
