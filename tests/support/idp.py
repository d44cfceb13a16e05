"""A small OpenID Connect identity provider for tests: discovery, an authorization endpoint that
signs in one chosen person at once, a token endpoint that checks the client, the code and its
PKCE verifier, and ID tokens signed RS256 with joserfc (Authlib's JOSE library), served over
real HTTP so the hub's Authlib client talks to it as to a city's Keycloak."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.support.web import serving


@dataclass
class TestIdP:
    client_id: str = "city-data-hub"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    #: the ``sub`` the next authorization signs in
    subject: str = "kim-0001"
    issuer: str = ""
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, {"kid": "test-1"}))
    codes: dict[str, dict] = field(default_factory=dict)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
                Route("/jwks", self.jwks),
            ]
        )

    async def discovery(self, request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
            }
        )

    async def authorize(self, request: Request) -> Response:
        q = request.query_params
        if q.get("client_id") != self.client_id or q.get("code_challenge_method") != "S256":
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "sub": self.subject,
            "nonce": q.get("nonce"),
            "challenge": q["code_challenge"],
            "redirect_uri": q["redirect_uri"],
        }
        back = urlencode({"code": code, "state": q.get("state", "")})
        return RedirectResponse(f"{q['redirect_uri']}?{back}", status_code=302)

    async def token(self, request: Request) -> Response:
        form = await request.form()
        basic = request.headers.get("authorization", "")
        sent = base64.b64decode(basic.removeprefix("Basic ")).decode() if basic else ""
        if sent != f"{self.client_id}:{self.client_secret}":
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = self.codes.pop(str(form.get("code")), None)
        verifier = str(form.get("code_verifier", ""))
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        if grant is None or grant["challenge"] != challenge:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": grant["sub"],
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": grant["nonce"],
            "name": "김민지",
        }
        id_token = jwt.encode({"alg": "RS256", "kid": "test-1"}, claims, self.key)
        return JSONResponse(
            {
                "access_token": secrets.token_urlsafe(16),
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
            }
        )

    async def jwks(self, request: Request) -> Response:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})


@contextmanager
def identity_provider() -> Iterator[TestIdP]:
    """The test IdP served on a free loopback port; its issuer is its base URL."""
    idp = TestIdP()
    with serving(idp.app()) as base:
        idp.issuer = base
        yield idp
