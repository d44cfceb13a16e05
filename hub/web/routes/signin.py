"""Staff sign-in on the web: ``/login``, ``/logout`` and ``/me``, in Korean and English.

The sign-in cookie is HttpOnly, SameSite=Strict, and Secure whenever the request came over TLS
(uvicorn takes the scheme from a trusted proxy's X-Forwarded-Proto); the sign-in itself lives
in the catalog (``catalog.signins``). Forms carry a CSRF token: before sign-in a double-submit cookie, after it
a token derived from the sign-in's secret.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Cookie, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from catalog import signins
from hub.web.access import SIGNIN_COOKIE, PolicyDep, guarded_cookie
from hub.web.deps import HubDep, client_of
from hub.web.params import Lang
from hub.web.templating import N_, gettext, respond

router = APIRouter()
# Pages for people, not machines: left out of /openapi.json.

LOGIN_CSRF_COOKIE = "hub_login_csrf"

#: Why a sign-in form is shown again (catalog words).
STALE = N_("The form has expired. Please try again.")
WRONG = N_("The login or the password is not right.")


def _login_page(
    request: Request, lang: str, csrf: str, problem: str = "", status: int = 200
) -> HTMLResponse:
    idp = bool(getattr(request.app.state, "oidc", None))
    return respond(
        request,
        "login.html",
        lang,
        N_("Staff sign-in"),
        status,
        csrf=csrf,
        problem=problem,
        idp=idp,
    )


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_form(request: Request, lang: Lang = "ko") -> Response:
    csrf = secrets.token_urlsafe(24)
    page = _login_page(request, lang, csrf)
    guarded_cookie(page, request, LOGIN_CSRF_COOKIE, csrf)
    return page


@router.post("/login", response_class=HTMLResponse, include_in_schema=False)
async def login(
    request: Request,
    hub: HubDep,
    login: Annotated[str, Form(max_length=63)],
    password: Annotated[str, Form(max_length=200)],
    csrf: Annotated[str, Form(max_length=100)],
    lang: Lang = "ko",
    hub_login_csrf: Annotated[str | None, Cookie()] = None,
) -> Response:
    url, client = hub.settings.catalog_url, client_of(request)
    fresh = secrets.token_urlsafe(24)
    if not hub_login_csrf or not secrets.compare_digest(hub_login_csrf, csrf):
        page = _login_page(request, lang, fresh, gettext(lang, STALE), 403)
    else:
        try:
            done = await run_in_threadpool(signins.sign_in, url, login, password, client)
        except signins.Throttled as exc:
            page = _login_page(request, lang, fresh, exc.message, 429)
            page.headers["Retry-After"] = str(exc.retry_after)
        else:
            if done is not None:
                redirect = RedirectResponse(f"/me?lang={lang}", status_code=303)
                guarded_cookie(redirect, request, SIGNIN_COOKIE, done[0])
                redirect.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
                return redirect
            page = _login_page(request, lang, fresh, gettext(lang, WRONG), 401)
    guarded_cookie(page, request, LOGIN_CSRF_COOKIE, fresh)
    return page


@router.get("/me", response_class=HTMLResponse, include_in_schema=False)
def me(
    request: Request,
    hub: HubDep,
    policy: PolicyDep,
    lang: Lang = "ko",
    hub_signin: Annotated[str | None, Cookie()] = None,
) -> Response:
    person = signins.signed_in(hub.settings.catalog_url, hub_signin)
    if person is None:
        return RedirectResponse(f"/login?lang={lang}", status_code=303)
    roles = [(getattr(policy.roles[r].title, lang), r) for r in person.roles if r in policy.roles]
    csrf = signins.csrf_token(hub_signin or "")
    return respond(
        request, "me.html", lang, N_("My account"), person=person, roles=roles, csrf=csrf
    )


@router.post("/logout", include_in_schema=False)
def logout(
    request: Request,
    hub: HubDep,
    csrf: Annotated[str, Form(max_length=100)],
    lang: Lang = "ko",
    hub_signin: Annotated[str | None, Cookie()] = None,
) -> Response:
    if not signins.csrf_ok(hub_signin, csrf):
        return HTMLResponse(gettext(lang, STALE), status_code=403)
    signins.sign_out(hub.settings.catalog_url, hub_signin, client_of(request))
    redirect = RedirectResponse(f"/?lang={lang}", status_code=303)
    redirect.delete_cookie(SIGNIN_COOKIE, path="/")
    return redirect
