"""The mails about a person's account, handed to the app that writes them.

``accounts`` sits below ``notifications`` (which owns the agencies' message templates), so it
names an account mail by its template key and hands it to the sender named in
``settings.ACCOUNT_MAIL_SENDER`` (``notifications.services.account_mail_send``), the way
Django names its e-mail backend in a setting."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

# Template keys (``notifications.models.TemplateKey`` values; its tests hold them equal).
ACCOUNT_CONFIRM = "account_confirm"
PASSWORD_RESET = "password_reset"  # noqa: S105 - a template key, not a password
UNKNOWN_ACCOUNT = "unknown_account"
ACCOUNT_EXISTS = "account_exists"
STAFF_INVITATION = "staff_invitation"
KEYS = (ACCOUNT_CONFIRM, PASSWORD_RESET, UNKNOWN_ACCOUNT, ACCOUNT_EXISTS, STAFF_INVITATION)


def account_mail_send(*, key: str, to: str, context: dict[str, Any]) -> None:
    """Send an account mail now (the person is waiting for it)."""
    if key not in KEYS:
        raise ValueError(f"not an account mail: {key}")
    import_string(settings.ACCOUNT_MAIL_SENDER)(key=key, to=to, context=context)
