"""Connectors: how bytes arrive, one package per delivery kind, imported only when used.

Each kind provides a typed config model (light to import, so feed files validate fast), a
``fetch`` that hands raw parts to the landing sink byte-for-byte, and a ``read`` that turns one
landed part into an Arrow table of source records.
"""

from __future__ import annotations

from enum import StrEnum
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

    from connectors.base import Fetcher, Reader

__all__ = ["Kind", "config_model", "fetcher", "reader"]


class Kind(StrEnum):
    http_api = "http_api"
    file_drop = "file_drop"
    ngsi_ld = "ngsi_ld"
    sql_table = "sql_table"
    object_store = "object_store"


# kind -> module; each module exports CONFIG, fetch and read (see connectors.base).
_MODULES: dict[Kind, tuple[str, str]] = {
    Kind.http_api: ("connectors.http_api.config", "connectors.http_api.connector"),
    Kind.file_drop: ("connectors.file_drop.config", "connectors.file_drop.connector"),
    Kind.ngsi_ld: ("connectors.ngsi_ld.config", "connectors.ngsi_ld.connector"),
    Kind.sql_table: ("connectors.sql_table.config", "connectors.sql_table.connector"),
    Kind.object_store: ("connectors.object_store.config", "connectors.object_store.connector"),
}


def _kind(name: str) -> Kind:
    try:
        return Kind(name)
    except ValueError:
        known = ", ".join(k.value for k in Kind)
        raise ValueError(f"unknown connector {name!r}; known connectors: {known}") from None


def _load(module: str, attr: str) -> Any:
    return getattr(import_module(module), attr)


def config_model(kind: str) -> type[BaseModel]:
    """The options model of a connector kind (imports only pydantic)."""
    return _load(_MODULES[_kind(kind)][0], "CONFIG")


def fetcher(kind: str) -> Fetcher:
    return _load(_MODULES[_kind(kind)][1], "fetch")


def reader(kind: str) -> Reader:
    return _load(_MODULES[_kind(kind)][1], "read")
