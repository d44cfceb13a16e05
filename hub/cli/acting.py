"""Who runs a ``hub`` command: a named, signed-in person, never an anonymous shell user.

``--as LOGIN`` with the password from ``HUB_AS_PASSWORD`` (scripts) or a prompt; the duty
matrix is then asked for the command's permission, and a refusal is an audit entry.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from catalog import audit, people
from hub.registry.roles import Permission, RolePolicy

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
    return person


def _refused(url: str, what: str, login: str, reason: str) -> None:
    audit.record(
        url,
        "access_refused",
        what,
        purpose="access control",
        who=login,
        detail={"reason": reason, "channel": "cli"},
    )
