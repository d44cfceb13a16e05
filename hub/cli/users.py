"""``hub users add|role|disable|list``: the staff accounts of the embedded sign-in.

Each command acts as a named person (``--as LOGIN``, password from ``HUB_AS_PASSWORD`` or a
prompt) and asks the duty matrix for ``users.manage``; a refusal is an audit entry. The one
exception is the very first account, an administrator, made by whoever installs the hub (the
audit entry names their login on the machine).
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from catalog import audit, people
from hub.cli.acting import As, acting, signed
from hub.core.settings import get_settings
from hub.registry.roles import Permission, load_roles

users_app = typer.Typer(no_args_is_help=True, help="Staff accounts and their roles.")

Roles = Annotated[list[str], typer.Option("--role", help="A role of policy/roles.yaml.")]


def _new_password(login: str) -> str | None:
    if os.environ.get("HUB_NEW_PASSWORD"):
        return os.environ["HUB_NEW_PASSWORD"]
    if not typer.confirm(f"set a local password for {login}? (no: city IdP sign-in only)"):
        return None
    return typer.prompt(f"password for {login}", hide_input=True, confirmation_prompt=True)


@users_app.command("add")
def users_add(
    login: str,
    name: Annotated[str, typer.Option(help="The person's name.")],
    role: Roles,
    as_: As = None,
    email: Annotated[str | None, typer.Option(help="Where to reach them.")] = None,
    department: Annotated[str | None, typer.Option(help="A steward's department id.")] = None,
    partner: Annotated[str | None, typer.Option(help="A partner's person: the agency.")] = None,
    oidc_subject: Annotated[
        str | None, typer.Option(help="The city IdP's issuer|sub for this person.")
    ] = None,
) -> None:
    """Add an account (the first one: an administrator, by whoever installs the hub)."""
    settings = get_settings()
    url, policy = settings.catalog_url, load_roles(settings.roles_file)
    if people.count(url) == 0 and not as_:
        if "administrator" not in role:
            raise people.AccountError(
                "the first account is an administrator (--role administrator)"
            )
        by = audit.actor()
    else:
        by = acting(url, policy, as_, Permission.users_manage, "users add").login
    people.add(
        url,
        policy,
        login=login,
        name=name,
        roles=role,
        by=by,
        password=_new_password(login),
        email=email,
        department_id=department,
        partner_id=partner,
        oidc_subject=oidc_subject,
    )
    typer.echo(f"account {login} added with roles {', '.join(role)}")


@users_app.command("role")
def users_role(login: str, role: Roles, as_: As = None) -> None:
    """Replace the roles of an account."""
    settings, policy, person = signed(Permission.users_manage, "users role", as_)
    url, by = settings.catalog_url, person.login
    people.set_roles(url, policy, login, role, by=by)
    typer.echo(f"{login} now holds {', '.join(role)}")


@users_app.command("disable")
def users_disable(login: str, as_: As = None) -> None:
    """Disable an account: it no longer signs in; its history stays."""
    settings, _, person = signed(Permission.users_manage, "users disable", as_)
    url, by = settings.catalog_url, person.login
    people.disable(url, login, by=by)
    typer.echo(f"{login} disabled")


@users_app.command("list")
def users_list(as_: As = None) -> None:
    """Every account with its roles and state."""
    url = signed(Permission.users_manage, "users list", as_).settings.catalog_url
    for row, roles in people.everyone(url):
        state = "disabled" if row.disabled_at else "enabled"
        reach = row.department_id or row.partner_id or "-"
        typer.echo(f"{row.login}\t{row.name}\t{','.join(roles)}\t{reach}\t{state}")
