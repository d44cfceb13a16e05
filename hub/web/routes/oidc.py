"""Sign-in with the city's identity provider (OpenID Connect, authorization code flow with
PKCE), by Authlib's client: ``/login/oidc`` sends the person to the IdP, ``/login/oidc/callback``
takes them back. The IdP proves who someone is (its ``iss|sub``); only an account made in the
hub with that subject (``hub users add --oidc-subject``) gives them roles. The state and nonce
travel in a short-lived signed cookie; the sign-in itself is the same as with a password.
"""

from __future__ import annotations

import secrets
from typing import Any

from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.starlette_client import OAuth
from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.middleware.sessions import SessionMiddleware

from catalog import people, signins
from hub.core.settings import HubSettings, run_time_secret
from hub.web.access import SIGNIN_COOKIE, guarded_cookie
from hub.web.deps import HubDep, client_of
from hub.web.params import Lang

router = APIRouter()
# Pages for people, not machines: left out of /openapi.json.

STATE_COOKIE = "hub_oidc_state"


def enable(app: FastAPI, settings: HubSettings) -> None:
    """Register the city IdP with Authlib and the signed state cookie, when one is set."""
    if not settings.oidc_issuer:
        return
    secret = (
        settings.web_session_secret
        or run_time_secret(settings, "web-session", lambda: {"secret": secrets.token_urlsafe(32)})[
            "secret"
        ]
    )
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie=STATE_COOKIE,
        max_age=600,  # a sign-in at the IdP takes minutes, not hours
        same_site="lax",  # the IdP's redirect back is a top-level navigation from its site
        https_only=settings.production,
    )
    oauth = OAuth()
    oauth.register(
        "city",
        server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        client_kwargs={"scope": "openid profile email", "code_challenge_method": "S256"},
    )
    app.state.oidc = oauth


def _client(request: Request) -> Any:
    oauth = getattr(request.app.state, "oidc", None)
    if oauth is None:
        raise HTTPException(404, detail="no identity provider is set (HUB_OIDC_ISSUER)")
    return oauth.city


@router.get("/login/oidc", include_in_schema=False)
async def oidc_login(request: Request, lang: Lang = "ko") -> Response:
    request.session["lang"] = lang
    back = str(request.url_for("oidc_callback"))
    response: Response = await _client(request).authorize_redirect(request, back)
    return response


@router.get("/login/oidc/callback", include_in_schema=False)
async def oidc_callback(request: Request, hub: HubDep) -> Response:
    url, client = hub.settings.catalog_url, client_of(request)
    lang = request.session.pop("lang", "ko")
    try:
        token = await _client(request).authorize_access_token(request)
    except OAuthError as exc:
        reason = f"the identity provider's answer was refused: {exc.error}"
        await run_in_threadpool(signins.refused, url, "(oidc)", client, reason, by="oidc")
        raise HTTPException(400, detail=reason) from None
    claims = token.get("userinfo") or {}
    subject = f"{claims.get('iss')}|{claims.get('sub')}"
    person = await run_in_threadpool(people.by_subject, url, subject)
    if person is None:
        reason = f"no enabled hub account for the IdP subject {subject}"
        await run_in_threadpool(signins.refused, url, subject, client, reason, by="oidc")
        raise HTTPException(403, detail=reason)
    cookie = await run_in_threadpool(signins.start, url, person, client, "oidc")
    response = RedirectResponse(f"/me?lang={lang}", status_code=303)
    guarded_cookie(response, request, SIGNIN_COOKIE, cookie)
    return response
