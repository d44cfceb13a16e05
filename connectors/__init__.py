"""Connectors: how bytes arrive, one package per delivery kind, imported only when used.

Each kind provides a typed config model (light to import, so feed files validate fast), a
``fetch`` that hands raw parts to the landing sink byte-for-byte, and a ``read`` that turns one
landed part into an Arrow table of source records. ``connectors.kinds`` says where each lives.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.guard import GuardedReader, guarded, guarded_fetch
from connectors.kinds import MODULES, Kind, kind, load

if TYPE_CHECKING:
    from connectors.base import Fetcher

__all__ = ["Kind", "fetcher", "reader"]


def fetcher(name: str) -> Fetcher:
    """The kind's fetch, wrapped so no bare library exception escapes it."""
    return guarded_fetch(load(MODULES[kind(name)][1], "fetch"), kind(name).value)


def reader(name: str) -> GuardedReader:
    """The kind's reader, wrapped so any failure is a ``DeliveryError`` naming feed and file."""
    return guarded(load(MODULES[kind(name)][1], "read"), kind(name).value)
