"""allauth adapter: how it asks for the password again, and who counts as one client.

allauth asks for the password a second time before anything touches two-factor settings
(``MFA_REAUTHENTICATION_REQUIRED``). Staff are sent to set up TOTP straight after signing
in, so a password typed within the re-authentication timeout counts for *adding a first*
authenticator and for the recovery codes shown right after it (the session that just
activated TOTP). Any other session with an authenticator re-authenticates as usual.

Its mails are the agency's (``send_mail``): confirming an address, choosing a password and
the like are rendered from the agency's notification templates (its own words if it wrote
them, Vietnamese defaults otherwise), signed with and sent from its name; on the provider's
host, with the platform's. allauth's other mails, should any be turned on, are rendered in
Vietnamese with the agency's name (templates/account/email/base_*.txt).

Failed sign-ins are counted per account and per client for the whole platform: the
counters sit in a platform-wide key space (``config.cache.make_key``), the account's
counter is named by the address alone (allauth adds the host, which would give every
agency's host a fresh budget), and the client is told apart the way our own rate limits
do it (``core.ratelimit.client_ip``: only trusted proxies' X-Forwarded-For).
"""

from __future__ import annotations

import time
from typing import Any

from allauth.account import app_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.authentication import get_authentication_records
from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils import translation

from accounts import mail
from accounts.mfa import SESSION_KEY, user_has_totp
from accounts.models import Role
from core.mail import agency_name, sender_address
from core.ratelimit import client_ip

# allauth's mails that are the agency's account mails, and the link each one carries.
ACCOUNT_MAILS = {
    "account/email/email_confirmation_signup": (mail.ACCOUNT_CONFIRM, "activate_url"),
    "account/email/email_confirmation": (mail.ACCOUNT_CONFIRM, "activate_url"),
    "account/email/password_reset_key": (mail.PASSWORD_RESET, "password_reset_url"),
    "account/email/unknown_account": (mail.UNKNOWN_ACCOUNT, "signup_url"),
    "account/email/account_already_exists": (mail.ACCOUNT_EXISTS, "password_reset_url"),
}


class AccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]  # allauth is untyped
    def get_client_ip(self, request: HttpRequest) -> str:
        return client_ip(request)

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        """Where a sign-in without a ``next`` page lands: staff on their work (the desk, or
        the agency's administration for an administrator only; the console for the
        provider's staff), citizens on the portal."""
        from accounts.permissions import agency_roles

        roles = agency_roles(request)
        if roles - {Role.ADMIN, Role.VIEWER}:
            return reverse("desk-worklist")
        if Role.ADMIN in roles:
            return reverse("agencyadmin-dashboard")
        if getattr(request, "agency", None) is None and request.user.is_staff:
            return reverse("console-home")
        return str(super().get_login_redirect_url(request))

    def get_from_email(self) -> str:
        return sender_address()

    def format_email_subject(self, subject: str) -> str:
        return f"[{agency_name() or settings.PLATFORM_NAME}] {subject}"

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        known = ACCOUNT_MAILS.get(template_prefix)
        if known is None:
            with translation.override(settings.LANGUAGE_CODE):
                name = agency_name() or settings.PLATFORM_NAME
                super().send_mail(template_prefix, email, {**context, "agency_name": name})
            return
        key, link_name = known
        user = context.get("user")
        person = (getattr(user, "full_name", "") or "").strip() if user is not None else ""
        mail.account_mail_send(
            key=key,
            to=email,
            context={
                "email": email,
                "link": str(context.get(link_name) or context.get("signup_url") or ""),
                "person_name": person or "ông/bà",
            },
        )

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
