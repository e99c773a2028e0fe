"""VNeID's OAuth2 adapter and its two views (start the sign-in, receive the code)."""

from __future__ import annotations

import logging
from typing import Any

import requests
from allauth.account.internal.decorators import login_not_required
from allauth.socialaccount.internal import jwtkit
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from allauth.utils import build_absolute_uri
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

NONCE_KEY = "vneid_nonces"


logger = logging.getLogger(__name__)


def _refuse(message: str) -> OAuth2Error:
    from vneid.provider import VNeIDError

    return VNeIDError(message)


class VNeIDAdapter(OpenIDConnectOAuth2Adapter):  # type: ignore[misc]  # allauth is untyped
    def __init__(self, request: HttpRequest, provider_id: str = "vneid") -> None:
        super().__init__(request, provider_id)

    def get_provider(self) -> Any:
        from allauth.socialaccount.adapter import get_adapter

        return get_adapter().get_provider(self.request, "vneid")

    def get_callback_url(self, request: HttpRequest, app: Any) -> str:
        # The host the person is on: every agency's portal signs in through the same app.
        return str(
            build_absolute_uri(request, reverse("vneid_callback"), self.redirect_uri_protocol)
        )

    def complete_login(self, request: HttpRequest, app: Any, token: Any, **kwargs: Any) -> Any:
        id_token = kwargs["response"].get("id_token")
        if not id_token:
            raise _refuse(_("VNeID sent no identity token."))
        claims = self._decode_id_token(app, id_token)
        userinfo = self._fetch_user_info(token.token)
        if str(userinfo.get("sub")) != str(claims.get("sub")):
            raise _refuse(_("VNeID's user information is about another person than its token."))
        return self.get_provider().sociallogin_from_response(
            request, {"userinfo": userinfo, "id_token": claims}
        )

    def _decode_id_token(self, app: Any, id_token: str) -> dict[str, Any]:
        from allauth.core.internal.deferred import jwt

        config = self.openid_config
        try:
            alg, key = jwtkit.fetch_key(id_token, config["jwks_uri"], jwtkit.lookup_kid_jwk)
            if alg != "RS256":
                raise _refuse(_("The VNeID identity token is not signed as agreed (RS256)."))
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key=key,
                algorithms=["RS256"],
                audience=app.client_id,
                issuer=config["issuer"],
                options={"require": ["exp", "iat", "sub", "aud", "iss", "nonce"]},
            )
        except jwt.ExpiredSignatureError:
            raise _refuse(
                _("The VNeID identity token has expired. Please sign in again.")
            ) from None
        except jwt.InvalidAudienceError:
            raise _refuse(_("The VNeID identity token was issued for another service.")) from None
        except jwt.InvalidIssuerError:
            raise _refuse(_("The VNeID identity token comes from an unknown issuer.")) from None
        except (jwt.InvalidSignatureError, jwt.DecodeError, KeyError):
            raise _refuse(_("The VNeID identity token's signature is not valid.")) from None
        except jwt.PyJWTError as exc:
            raise _refuse(
                _("The VNeID identity token was refused (%(why)s).") % {"why": exc}
            ) from None
        nonces = list(self.request.session.get(NONCE_KEY, []))
        if claims["nonce"] not in nonces:
            raise _refuse(_("The VNeID identity token does not belong to this sign-in."))
        nonces.remove(claims["nonce"])  # used once
        self.request.session[NONCE_KEY] = nonces
        return claims


def _unreachable(request: HttpRequest, exc: requests.RequestException) -> HttpResponse:
    """VNeID (its discovery, token or keys endpoint) did not answer: say so, change nothing.
    Not the person's mistake and not a bug of ours: a warning line, no stack trace."""
    logger.warning("VNeID unreachable: %s", exc.__class__.__name__)
    message = _("VNeID cannot be reached right now. Please try again in a few minutes.")
    response = render(request, "vneid/refused.html", {"message": message}, status=503)
    response["Retry-After"] = "60"
    response._has_been_logged = True  # type: ignore[attr-defined]  # our warning says it all
    return response


@login_not_required  # type: ignore[untyped-decorator]
def login(request: HttpRequest) -> HttpResponse:
    try:
        return OAuth2LoginView.adapter_view(VNeIDAdapter(request))(request)  # type: ignore[no-any-return]
    except requests.RequestException as exc:
        return _unreachable(request, exc)


@login_not_required  # type: ignore[untyped-decorator]
def callback(request: HttpRequest) -> HttpResponse:
    try:
        return OAuth2CallbackView.adapter_view(VNeIDAdapter(request))(request)  # type: ignore[no-any-return]
    except requests.RequestException as exc:
        return _unreachable(request, exc)
