"""Who is asking, and whether they may: the web side of the duty matrix.

A request is made by the person behind its sign-in cookie, else by the anonymous citizen. A
page that needs a permission calls ``permit``; a refusal is audited, then answered 303 to the
sign-in form (not signed in) or 403 (signed in, not allowed).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from catalog import audit, people, signins
from hub.registry.roles import Permission, RolePolicy, load_roles
from hub.web.deps import HubDep, client_of

SIGNIN_COOKIE = "hub_signin"

_policies: dict[str, RolePolicy] = {}


def policy_of(hub: HubDep) -> RolePolicy:
    """The duty matrix of the app's settings, read once per process."""
    path = str(hub.settings.roles_file)
    if path not in _policies:
        _policies[path] = load_roles(hub.settings.roles_file)
    return _policies[path]


async def person_of(request: Request, hub: HubDep) -> people.Person:
    """The signed-in person, or the anonymous citizen."""
    token = request.cookies.get(SIGNIN_COOKIE)
    if token:
        found = await run_in_threadpool(signins.signed_in, hub.settings.catalog_url, token)
        if found is not None:
            return found
    return people.anonymous(policy_of(hub))


PersonDep = Annotated[people.Person, Depends(person_of)]
PolicyDep = Annotated[RolePolicy, Depends(policy_of)]


def guarded_cookie(response: Response, request: Request, name: str, value: str) -> None:
    """A cookie script cannot read, no other site sends, and TLS alone carries when the
    request came over TLS (uvicorn takes the scheme from a trusted proxy's X-Forwarded-Proto)."""
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def check_form(request: Request, sent: str | None) -> None:
    """A state-changing form of a signed-in person carries the sign-in's CSRF token.

    Raises:
        HTTPException: 403 when it does not (a page of another site posting it).
    """
    if not signins.csrf_ok(request.cookies.get(SIGNIN_COOKIE), sent):
        raise HTTPException(403, detail="the form's CSRF token does not match this sign-in")


def permit(
    request: Request,
    hub: HubDep,
    policy: RolePolicy,
    person: people.Person,
    permission: Permission,
    **scope: str | None,
) -> None:
    """Let the request through, or audit the refusal and answer it.

    Raises:
        HTTPException: 303 to /login for the anonymous, 403 for a signed-in person.
    """
    try:
        people.require(policy, person, permission, **scope)
    except people.AccessDenied as exc:
        audit.record(
            hub.settings.catalog_url,
            "access_refused",
            request.url.path,
            purpose="access control",
            who=person.login or "anonymous",
            origin=client_of(request),
            detail={"reason": exc.message, "channel": "web", "permission": permission.value},
        )
        if not person.signed_in:
            lang = request.query_params.get("lang", "ko")
            raise HTTPException(303, headers={"Location": f"/login?lang={lang}"}) from None
        raise HTTPException(403, detail=exc.message) from None
