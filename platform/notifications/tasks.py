"""Celery tasks of notifications: thin, safe to run twice, in the sender's agency schema."""

from __future__ import annotations

from celery import shared_task

from notifications.services import DeliveryFailed, notification_deliver, notifications_resend_stale
from tenants.context import for_each_agency


@shared_task(
    name="notifications.tasks.notification_send",
    acks_late=True,
    autoretry_for=(DeliveryFailed,),
    retry_backoff=2,
    retry_backoff_max=600,
    retry_jitter=False,
    max_retries=8,
)
def notification_send(notification_id: int) -> str:
    return notification_deliver(notification_id=notification_id)


@shared_task(name="notifications.tasks.resend_stale", acks_late=True)
def resend_stale() -> dict[str, int]:
    return for_each_agency(lambda _agency: notifications_resend_stale())
