"""Who a message is from: the active agency's name with the platform's sending address.

Here at the bottom because every app that sends mail (accounts' sign-in mails, notifications'
channels) signs it the same way."""

from __future__ import annotations

from email.utils import parseaddr

from django.conf import settings
from django.db import connection


def agency_name() -> str:
    """The active agency's name; empty on the provider's own host."""
    return str(getattr(getattr(connection, "tenant", None), "name", "") or "")


def sender_address() -> str:
    """The From of a message: the active agency's name (the platform's on the provider's own
    host) with the platform's sending address."""
    name = agency_name() or str(settings.PLATFORM_NAME)
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    # Unencoded: Django's mail encodes the name (RFC 2047) when it sends the message.
    return f'"{quoted}" <{parseaddr(settings.DEFAULT_FROM_EMAIL)[1]}>'
