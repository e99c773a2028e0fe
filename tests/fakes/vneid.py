"""A stateful fake VNeID on loopback: a real OpenID Connect provider (what vneid.provider speaks).

``GET /.well-known/openid-configuration`` (discovery), ``GET /authorize`` (authorization code
flow; PKCE S256 required; the ``redirect_uri`` must be one registered for the client; the person
is the one ``sign_in_as`` chose, as if they had confirmed in the VNeID app), ``POST /token``
(``client_secret_post``; the code is single-use, bound to the client, the redirect URI and the
PKCE verifier; answers an RS256 ID token carrying the nonce), ``GET /userinfo`` (Bearer) with
``name``, ``personal_id`` (CCCD, 12 digits), ``birthdate``, ``address`` and ``identity_level``,
``GET /jwks``. ``tamper_next(...)`` makes the next token answer carry a bad ID token (forged
signature, expired, another audience, another nonce) to test the refusals.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakes.base import JsonFakeServer


@dataclass
class Citizen:
    sub: str
    name: str
    personal_id: str
    birthdate: str
    address: str
    email: str
    identity_level: int = 2

    def userinfo(self) -> dict[str, Any]:
        return {
            "sub": self.sub,
            "name": self.name,
            "personal_id": self.personal_id,
            "birthdate": self.birthdate,
            "address": {"formatted": self.address, "country": "VN"},
            "identity_level": self.identity_level,
            "email": self.email,
            "email_verified": True,
        }


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str
    citizen: Citizen
    used: bool = False


@dataclass
class _Client:
    secret: str
    redirect_uris: list[str] = field(default_factory=list)


class FakeVNeID(JsonFakeServer):
    def __init__(self, *, port: int = 0) -> None:
        super().__init__(port=port)
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "vneid-" + secrets.token_hex(4)
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.clients: dict[str, _Client] = {}
            self.grants: dict[str, _Grant] = {}
            self.tokens: dict[str, Citizen] = {}
            self.citizen: Citizen | None = None
            self.tamper: str = ""
            self.log: list[str] = []

    def register_client(self, client_id: str, secret: str, redirect_uris: list[str]) -> None:
        with self._lock:
            self.clients[client_id] = _Client(secret, list(redirect_uris))

    def sign_in_as(self, citizen: Citizen) -> None:
        self.citizen = citizen

    def tamper_next(self, how: str) -> None:
        """``forged``, ``expired``, ``audience`` or ``nonce``: the next ID token is bad so."""
        self.tamper = how

    # --- protocol ------------------------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "userinfo_endpoint": f"{self.url}/userinfo",
            "jwks_uri": f"{self.url}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
            "scopes_supported": ["openid", "profile", "email"],
            "claims_supported": [
                "sub", "name", "personal_id", "birthdate", "address", "identity_level", "email",
            ],
        }  # fmt: skip

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        client = self.clients.get(query.get("client_id", ""))
        redirect_uri = query.get("redirect_uri", "")
        if client is None or redirect_uri not in client.redirect_uris:
            return 400, {}, {"error": "invalid_request", "error_description": "redirect_uri"}
        if query.get("response_type") != "code" or ("openid" not in query.get("scope", "").split()):
            return 400, {}, {"error": "invalid_scope"}
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return 400, {}, {"error": "invalid_request", "error_description": "PKCE S256 required"}
        if self.citizen is None:
            return 400, {}, {"error": "login_required"}
        code = secrets.token_urlsafe(24)
        with self._lock:
            self.grants[code] = _Grant(
                query["client_id"], redirect_uri, query["code_challenge"],
                query.get("nonce", ""), self.citizen,
            )  # fmt: skip
        target = f"{redirect_uri}?{urlencode({'code': code, 'state': query.get('state', '')})}"
        return 302, {"Location": target}, {}

    def id_token(self, grant: _Grant, client_id: str) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.url,
            "sub": grant.citizen.sub,
            "aud": client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": grant.nonce,
            "jti": secrets.token_hex(8),
            "name": grant.citizen.name,
            "identity_level": grant.citizen.identity_level,
        }
        key: Any = self.key
        how, self.tamper = self.tamper, ""
        if how == "forged":
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        elif how == "expired":
            claims.update(iat=now - 900, exp=now - 600)
        elif how == "audience":
            claims["aud"] = "another-service"
        elif how == "nonce":
            claims["nonce"] = secrets.token_urlsafe(24)
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": self.kid})

    def token(self, form: dict[str, str]) -> tuple[int, Any]:
        client = self.clients.get(form.get("client_id", ""))
        if client is None or form.get("client_secret") != client.secret:
            return 401, {"error": "invalid_client"}
        with self._lock:
            grant = self.grants.get(form.get("code", ""))
            if grant is None or grant.used or form.get("grant_type") != "authorization_code":
                return 400, {"error": "invalid_grant"}
            grant.used = True
        if grant.client_id != form["client_id"] or grant.redirect_uri != form.get("redirect_uri"):
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri"}
        verifier = form.get("code_verifier", "").encode()
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
        if challenge.decode() != grant.challenge:
            return 400, {"error": "invalid_grant", "error_description": "PKCE verifier"}
        access = secrets.token_urlsafe(24)
        self.tokens[access] = grant.citizen
        return 200, {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": self.id_token(grant, form["client_id"]),
        }

    def respond(
        self, method: str, path: str, headers: Any, body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        url = urlparse(path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.log.append(f"{method} {url.path}")
        if url.path == "/.well-known/openid-configuration":
            return 200, {}, self.discovery()
        if url.path == "/jwks":
            return 200, {}, self.jwks()
        if url.path == "/authorize" and method == "GET":
            return self.authorize(query)
        if url.path == "/token" and method == "POST":
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            status, payload = self.token(form)
            return status, {"Cache-Control": "no-store"}, payload
        if url.path == "/userinfo":
            bearer = (headers.get("Authorization") or "").removeprefix("Bearer ")
            citizen = self.tokens.get(bearer)
            if citizen is None:
                return 401, {"WWW-Authenticate": "Bearer"}, {"error": "invalid_token"}
            return 200, {}, citizen.userinfo()
        return 404, {}, {"error": "not_found"}
