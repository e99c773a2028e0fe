"""allauth adapter: how it asks for the password again, and who counts as one client.

allauth asks for the password a second time before anything touches two-factor settings
(``MFA_REAUTHENTICATION_REQUIRED``). Staff are sent to set up TOTP straight after signing
in, so a password typed within the re-authentication timeout counts for *adding a first*
authenticator and for the recovery codes shown right after it (the session that just
activated TOTP). Any other session with an authenticator re-authenticates as usual.

Failed sign-ins are counted per account and per client for the whole platform: the
counters sit in a platform-wide key space (``config.cache.make_key``), the account's
counter is named by the address alone (allauth adds the host, which would give every
agency's host a fresh budget), and the client is told apart the way our own rate limits
do it (``ops.ratelimit.client_ip``: only trusted proxies' X-Forwarded-For).
"""

from __future__ import annotations

import time
from typing import Any

from allauth.account import app_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.authentication import get_authentication_records
from django.http import HttpRequest

from accounts.mfa import SESSION_KEY, user_has_totp
from ops.ratelimit import client_ip


class AccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]  # allauth is untyped
    def get_client_ip(self, request: HttpRequest) -> str:
        return client_ip(request)

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        # One person, one account on every host: the key is the address alone.
        login = credentials.get("email", credentials.get("username", ""))
        return f"login:{str(login).strip().lower()}"

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        required = bool(super().is_reauthentication_required(app=app, **kwargs))
        request = self.request
        if not required or app != "allauth.mfa" or request is None:
            return required
        user = request.user
        if not user.is_authenticated:
            return required
        if user_has_totp(user) and request.session.get(SESSION_KEY) != str(user.pk):
            return required
        passwords = [
            r for r in get_authentication_records(request, user) if r.get("method") == "password"
        ]
        recent = bool(passwords) and (
            time.time() - float(passwords[-1]["at"]) < app_settings.REAUTHENTICATION_TIMEOUT
        )
        return not recent
