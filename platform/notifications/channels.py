"""Delivery channels behind one interface, found by name in a registry.

``email`` goes through Django's mail; ``sms`` through an ``SmsProvider`` chosen by the
``NOTIFICATIONS_SMS_PROVIDER`` setting (dotted path). A channel raises ``DeliveryError`` when
the message may go through on a later attempt, ``PermanentDeliveryError`` when it never will.
"""

from __future__ import annotations

import functools
from typing import Protocol

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.module_loading import import_string

from core.mail import sender_address
from notifications.models import ChannelName, Notification


class DeliveryError(Exception):
    """The message did not go out this time; try again later."""


class PermanentDeliveryError(DeliveryError):
    """The message can never go out as it is (bad recipient, refused text)."""


class Channel(Protocol):
    name: str

    def deliver(self, notification: Notification, *, idempotency_key: str) -> str:
        """Send; return the provider's message id (may be empty)."""
        ...


class SmsProvider(Protocol):
    def send(self, *, to: str, text: str, idempotency_key: str) -> str:
        """Hand one SMS to the provider; return its message id. Raises DeliveryError."""
        ...


class EmailChannel:
    name: str = ChannelName.EMAIL

    def deliver(self, notification: Notification, *, idempotency_key: str) -> str:
        message = EmailMessage(
            subject=notification.subject,
            body=notification.body,
            from_email=sender_address(),
            to=[notification.recipient],
            headers={"X-MotCua-Notification": idempotency_key},
        )
        try:
            message.send(fail_silently=False)
        except OSError as exc:  # SMTP and socket errors
            raise DeliveryError(f"mail: {exc}") from exc
        return ""


class SmsChannel:
    name: str = ChannelName.SMS

    def deliver(self, notification: Notification, *, idempotency_key: str) -> str:
        return sms_provider().send(
            to=notification.recipient, text=notification.body, idempotency_key=idempotency_key
        )


@functools.cache
def _provider(path: str) -> SmsProvider:
    provider: SmsProvider = import_string(path)()
    return provider


def sms_provider() -> SmsProvider:
    return _provider(settings.NOTIFICATIONS_SMS_PROVIDER)


CHANNELS: dict[str, Channel] = {
    ChannelName.EMAIL.value: EmailChannel(),
    ChannelName.SMS.value: SmsChannel(),
}


def channel_get(name: str) -> Channel:
    return CHANNELS[name]
