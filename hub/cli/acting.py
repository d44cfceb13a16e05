"""Who runs a ``hub`` command: a named, signed-in person, never an anonymous shell user.

``--as LOGIN`` with the password from ``HUB_AS_PASSWORD`` (scripts) or a prompt; the duty
matrix is then asked for the command's permission, and a refusal is an audit entry.
"""

from __future__ import annotations

import os
from typing import Annotated, NamedTuple

import typer

from catalog import audit, people
from hub.core.settings import HubSettings, get_settings
from hub.registry.roles import Permission, RolePolicy, load_roles

As = Annotated[
    str | None,
    typer.Option("--as", help="Act as this account (password: HUB_AS_PASSWORD or a prompt)."),
]


def acting(
    url: str, policy: RolePolicy, login: str | None, permission: Permission, what: str
) -> people.Person:
    """The signed-in person allowed ``permission``, or a refused (and audited) command."""
    if not login:
        raise people.AccessDenied(f"{what}: say who acts (--as LOGIN); the CLI is never anonymous")
    password = os.environ.get("HUB_AS_PASSWORD") or typer.prompt(
        f"password of {login}", hide_input=True
    )
    person = people.authenticate(url, login, password)
    if person is None:
        _refused(url, what, login, "sign-in failed")
        raise people.AccessDenied(f"{what}: wrong password, or no enabled account {login!r}")
    try:
        people.require(policy, person, permission)
    except people.AccessDenied as exc:
        _refused(url, what, login, exc.message)
        raise
    audit.act_as(person.login)  # what the command records, it records as them
    return person


class Acting(NamedTuple):
    settings: HubSettings
    policy: RolePolicy
    person: people.Person


def signed(permission: Permission, what: str, login: str | None) -> Acting:
    """The settings, the duty matrix and the person a command runs as (see ``acting``)."""
    settings = get_settings()
    policy = load_roles(settings.roles_file)
    return Acting(settings, policy, acting(settings.catalog_url, policy, login, permission, what))


def _refused(url: str, what: str, login: str, reason: str) -> None:
    audit.record(
        url,
        "access_refused",
        what,
        purpose="access control",
        who=login,
        detail={"reason": reason, "channel": "cli"},
    )
