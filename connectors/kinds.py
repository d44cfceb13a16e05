"""The delivery kinds a feed may declare, and where each kind's modules live.

A declaration (it imports nothing of the project): the registry reads it to validate a feed's
``delivery`` options without importing any connector's working code.
"""

from __future__ import annotations

from enum import StrEnum
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel


class Kind(StrEnum):
    http_api = "http_api"
    file_drop = "file_drop"
    ngsi_ld = "ngsi_ld"
    sql_table = "sql_table"
    object_store = "object_store"


#: kind -> (its config module, its connector module); each connector module exports fetch and
#: read (see connectors.base), each config module CONFIG.
MODULES: dict[Kind, tuple[str, str]] = {
    Kind.http_api: ("connectors.http_api.config", "connectors.http_api.connector"),
    Kind.file_drop: ("connectors.file_drop.config", "connectors.file_drop.connector"),
    Kind.ngsi_ld: ("connectors.ngsi_ld.config", "connectors.ngsi_ld.connector"),
    Kind.sql_table: ("connectors.sql_table.config", "connectors.sql_table.connector"),
    Kind.object_store: ("connectors.object_store.config", "connectors.object_store.connector"),
}


def kind(name: str) -> Kind:
    """The kind called ``name``; an unknown name lists the known ones."""
    try:
        return Kind(name)
    except ValueError:
        known = ", ".join(k.value for k in Kind)
        raise ValueError(f"unknown connector {name!r}; known connectors: {known}") from None


def load(module: str, attr: str) -> Any:
    return getattr(import_module(module), attr)


def config_model(name: str) -> type[BaseModel]:
    """The options model of a connector kind (imports only pydantic)."""
    return load(MODULES[kind(name)][0], "CONFIG")
