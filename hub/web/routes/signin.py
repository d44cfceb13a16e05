"""Staff sign-in on the web: ``/login``, ``/logout`` and ``/me``, in Korean and English.

The sign-in cookie is HttpOnly, SameSite=Strict, and Secure whenever the request came over TLS
(uvicorn takes the scheme from a trusted proxy's X-Forwarded-Proto); the sign-in itself lives
in the catalog (``catalog.signins``). Forms carry a CSRF token: before sign-in a double-submit cookie, after it
a token derived from the sign-in's secret.
"""

from __future__ import annotations

import secrets
from html import escape
from typing import Annotated

from fastapi import APIRouter, Cookie, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from catalog import signins
from hub.core import html
from hub.web.access import SIGNIN_COOKIE, PolicyDep, guarded_cookie
from hub.web.deps import HubDep, client_of
from hub.web.params import Lang

router = APIRouter()
# Pages for people, not machines: left out of /openapi.json.

LOGIN_CSRF_COOKIE = "hub_login_csrf"

WORDS = {
    "ko": {
        "title": "직원 로그인",
        "login": "아이디",
        "password": "비밀번호",
        "go": "로그인",
        "wrong": "아이디 또는 비밀번호가 맞지 않습니다.",
        "me": "내 계정",
        "roles": "역할",
        "out": "로그아웃",
        "stale": "양식이 만료되었습니다. 다시 시도해 주세요.",
        "idp": "시 통합인증(SSO)으로 로그인",
    },
    "en": {
        "title": "Staff sign-in",
        "login": "Login",
        "password": "Password",
        "go": "Sign in",
        "wrong": "The login or the password is not right.",
        "me": "My account",
        "roles": "Roles",
        "out": "Sign out",
        "stale": "The form has expired. Please try again.",
        "idp": "Sign in with the city's single sign-on",
    },
}


def _login_page(
    request: Request, lang: str, csrf: str, problem: str = "", status: int = 200
) -> HTMLResponse:
    w = WORDS[lang]
    idp = (
        f'<p><a href="/login/oidc?lang={lang}">{w["idp"]}</a></p>'
        if getattr(request.app.state, "oidc", None)
        else ""
    )
    note = f'<p class="fail" role="alert">{escape(problem)}</p>' if problem else ""
    body = (
        f"<h1>{w['title']}</h1>{note}"
        f'<form method="post" action="/login?lang={lang}">'
        f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
        f'<p><label>{w["login"]}<br><input name="login" required maxlength="63" '
        f'autocomplete="username"></label></p>'
        f'<p><label>{w["password"]}<br><input name="password" type="password" required '
        f'maxlength="200" autocomplete="current-password"></label></p>'
        f'<p><button type="submit">{w["go"]}</button></p></form>{idp}'
    )
    return HTMLResponse(html.page(w["title"], body, lang=lang), status_code=status)


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
    w, url, client = WORDS[lang], hub.settings.catalog_url, client_of(request)
    fresh = secrets.token_urlsafe(24)
    if not hub_login_csrf or not secrets.compare_digest(hub_login_csrf, csrf):
        page = _login_page(request, lang, fresh, w["stale"], 403)
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
            page = _login_page(request, lang, fresh, w["wrong"], 401)
    guarded_cookie(page, request, LOGIN_CSRF_COOKIE, fresh)
    return page


@router.get("/me", response_class=HTMLResponse, include_in_schema=False)
def me(
    hub: HubDep,
    policy: PolicyDep,
    lang: Lang = "ko",
    hub_signin: Annotated[str | None, Cookie()] = None,
) -> Response:
    person = signins.signed_in(hub.settings.catalog_url, hub_signin)
    if person is None:
        return RedirectResponse(f"/login?lang={lang}", status_code=303)
    w = WORDS[lang]
    roles = "".join(
        f"<li>{escape(getattr(policy.roles[r].title, lang))} ({escape(r)})</li>"
        for r in person.roles
        if r in policy.roles
    )
    body = (
        f"<h1>{w['me']}</h1><p>{escape(person.name)} ({escape(person.login)})</p>"
        f"<h2>{w['roles']}</h2><ul>{roles}</ul>"
        f'<form method="post" action="/logout?lang={lang}">'
        f'<input type="hidden" name="csrf" value="{signins.csrf_token(hub_signin or "")}">'
        f'<button type="submit">{w["out"]}</button></form>'
    )
    return HTMLResponse(html.page(w["me"], body, lang=lang))


@router.post("/logout", include_in_schema=False)
def logout(
    request: Request,
    hub: HubDep,
    csrf: Annotated[str, Form(max_length=100)],
    lang: Lang = "ko",
    hub_signin: Annotated[str | None, Cookie()] = None,
) -> Response:
    if not signins.csrf_ok(hub_signin, csrf):
        return HTMLResponse(WORDS[lang]["stale"], status_code=403)
    signins.sign_out(hub.settings.catalog_url, hub_signin, client_of(request))
    redirect = RedirectResponse(f"/?lang={lang}", status_code=303)
    redirect.delete_cookie(SIGNIN_COOKIE, path="/")
    return redirect
