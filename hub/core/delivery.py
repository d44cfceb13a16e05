"""What one delivery covers and carries: its window of source time and its raw parts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Window:
    """The half-open interval [start, end) of source time that one run covers."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a window needs time-zone-aware datetimes")
        if self.end <= self.start:
            raise ValueError(f"window end {self.end} is not after its start {self.start}")


@dataclass(frozen=True)
class RawPart:
    """One unit of a delivery as the source sent it: the bytes are never altered."""

    name: str
    data: bytes
    content_type: str
    source: str  # where it came from, with secrets redacted
    rows_reported: int | None = None
    #: (zone, key, etag) when the bytes already sit in the hub's object store: landing is then
    #: a server-side copy of exactly that version instead of a second upload.
    copy_source: tuple[str, str, str] | None = None
    #: an unusable answer kept so an engineer can see what the source sent; never read
    evidence: bool = False
