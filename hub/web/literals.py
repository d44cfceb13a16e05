"""A filter's value, from the text of a request to the typed value a column compares with.

One parser for both filter languages: the records API's ``?column=value`` (against Iceberg
types) and NGSI-LD's ``q`` (against Arrow types). Each maps its column types to a ``Kind``;
the text means the same thing in both.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from enum import Enum
from typing import Any

from hub.core.time import as_utc

_INTEGER = re.compile(r"^[-+]?\d+$")
_NUMBER = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")


class Kind(Enum):
    """What a column holds, as far as reading a value for it goes."""

    INTEGER = "integer"
    NUMBER = "number"  # a finite decimal number
    BOOLEAN = "boolean"
    DATE = "date"
    INSTANT = "instant"  # a time with a zone: compared in UTC
    LOCAL_TIME = "local time"  # a time without a zone: its UTC wall-clock time
    TEXT = "text"


def parse_literal(text: str, kind: Kind) -> Any:
    """The value ``text`` stands for in a column of ``kind``.

    Numbers are plain decimals (no ``inf``/``nan``), booleans ``true``/``false`` in any case,
    dates and times ISO 8601; a time without an offset is UTC.

    Raises:
        ValueError: the text is no value of that kind.
    """
    if kind is Kind.INTEGER:
        if not _INTEGER.match(text):
            raise ValueError(f"{text!r} is not an integer")
        return int(text)
    if kind is Kind.NUMBER:
        number = float(text) if _NUMBER.match(text) else math.nan
        if not math.isfinite(number):
            raise ValueError(f"{text!r} is not a finite number")
        return number
    if kind is Kind.BOOLEAN:
        if text.lower() not in ("true", "false"):
            raise ValueError(f"{text!r} is not true or false")
        return text.lower() == "true"
    if kind is Kind.DATE:
        return date.fromisoformat(text)
    if kind in (Kind.INSTANT, Kind.LOCAL_TIME):
        try:
            moment = as_utc(datetime.fromisoformat(text))
        except OverflowError as exc:  # an offset past the calendar's ends
            raise ValueError(f"{text!r} is out of range") from exc
        return moment if kind is Kind.INSTANT else moment.replace(tzinfo=None)
    return text
