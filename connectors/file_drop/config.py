"""Options of a file-drop delivery, as written under ``delivery.options`` in a feed file."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class FileDropConfig(BaseModel):
    """Where in the inbox a window's files are, and how to read them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    prefix: str = Field(
        description="Inbox prefix of one window's files; '{start:%Y%m%d}' formats the window."
    )
    pattern: str = Field(default="*", description="Glob the file names must match.")
    format: Literal["csv", "excel", "json", "jsonl", "parquet"]
    encoding: str = Field(
        default="utf-8", description="Text encoding (utf-8, utf-8-sig, cp949...) or 'auto'."
    )
    delimiter: str = ","
    sheet: str | None = Field(default=None, description="Excel sheet to read.")
    header_row: int = Field(default=0, ge=0, description="Rows above the header (titles).")
    records_path: str | None = Field(
        default=None, description="For JSON: dotted path to the list of records."
    )
    min_files: int = Field(default=1, ge=0, description="Fewer files than this: not delivered yet.")


CONFIG = FileDropConfig
