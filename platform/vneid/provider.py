"""VNeID as an allauth OpenID Connect provider: PKCE, a nonce, and an ID token always verified.

allauth's generic OIDC provider skips the ID token's signature when the token came straight from
the token endpoint (allowed by OIDC Core §3.1.3.7 over TLS) and sends no nonce. For the national
identity we check both anyway: signature (RS256, the provider's JWKS), issuer, audience, expiry,
and the nonce this browser session was given, so a token minted for another client or another
sign-in is refused. Each refusal says why in words (``VNeIDError``).

One app (settings ``SOCIALACCOUNT_PROVIDERS["vneid"]``) serves every agency host: the redirect
URI is built from the request's host (``https://<agency host>/accounts/vneid/callback/``), and
each agency host is registered with VNeID as an allowed redirect URI when the agency goes live.
"""

from __future__ import annotations

import secrets
from typing import Any

from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.http import urlencode

from vneid.views import NONCE_KEY, VNeIDAdapter


class VNeIDError(OAuth2Error):  # type: ignore[misc]  # allauth is untyped
    """A refusal with the reason to show the person (translated where raised)."""


class VNeIDProvider(OpenIDConnectProvider):  # type: ignore[misc]
    id = "vneid"
    name = "VNeID"
    oauth2_adapter_class = VNeIDAdapter
    pkce_enabled_default = True

    def get_default_scope(self) -> list[str]:
        return ["openid", "profile", "email"]

    def get_login_url(self, request: HttpRequest, **kwargs: Any) -> str:
        url = reverse("vneid_login")
        return f"{url}?{urlencode(kwargs)}" if kwargs else url

    def get_callback_url(self) -> str:
        return reverse("vneid_callback")

    def get_oauth2_adapter(self, request: HttpRequest) -> VNeIDAdapter:
        return VNeIDAdapter(request)

    def redirect(
        self, request: HttpRequest, process: Any, next_url: Any = None, data: Any = None, **kw: Any
    ) -> HttpResponse:
        nonce = secrets.token_urlsafe(24)
        auth_params = kw.pop("auth_params", None) or self.get_auth_params()
        auth_params = {**auth_params, "nonce": nonce}
        # A few at once: two tabs may start a sign-in each.
        request.session[NONCE_KEY] = [*request.session.get(NONCE_KEY, []), nonce][-5:]
        return super().redirect(request, process, next_url, data, auth_params=auth_params, **kw)  # type: ignore[no-any-return]

    def extract_uid(self, data: dict[str, Any]) -> str:
        return str(data["id_token"]["sub"])


provider_classes = [VNeIDProvider]
