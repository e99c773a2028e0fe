"""allauth adapter: one change to how it asks for the password again.

allauth asks for the password a second time before anything touches two-factor settings
(``MFA_REAUTHENTICATION_REQUIRED``). Staff are sent to set up TOTP straight after signing
in, so a password typed within the re-authentication timeout counts for *adding a first*
authenticator. Removing or replacing one still needs a fresh re-authentication.
"""

from __future__ import annotations

import time
from typing import Any

from allauth.account import app_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.authentication import get_authentication_records

from accounts.mfa import user_has_totp


class AccountAdapter(DefaultAccountAdapter):
    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        required = bool(super().is_reauthentication_required(app=app, **kwargs))
        request = self.request
        if not required or app != "allauth.mfa" or request is None:
            return required
        user = request.user
        if not user.is_authenticated or user_has_totp(user):
            return required
        passwords = [
            r for r in get_authentication_records(request, user) if r.get("method") == "password"
        ]
        recent = bool(passwords) and (
            time.time() - float(passwords[-1]["at"]) < app_settings.REAUTHENTICATION_TIMEOUT
        )
        return not recent
