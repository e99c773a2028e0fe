"""Celery tasks of billing: thin wrappers around the services, safe to run twice."""

from __future__ import annotations

import datetime as dt
from typing import Any

from celery import shared_task
from django.utils import timezone

from billing.invoicing import billing_month_close, previous_period
from billing.metering import usage_meter_day


@shared_task(name="billing.tasks.meter_yesterday", acks_late=True)
def meter_yesterday() -> dict[str, Any]:
    day = timezone.localdate() - dt.timedelta(days=1)
    report = usage_meter_day(day=day)
    return {"day": str(day), "storage": report.storage_rows, "seats": report.seat_rows}


@shared_task(name="billing.tasks.close_last_month", acks_late=True)
def close_last_month() -> dict[str, Any]:
    period = previous_period(timezone.localdate())
    report = billing_month_close(period_start=period)
    return {"period": str(period), "drafted": report.prepared.drafted, "issued": report.issued}


@shared_task(name="billing.tasks.dunning_daily", acks_late=True)
def dunning_daily() -> dict[str, Any]:
    from billing.dunning import dunning_run

    report = dunning_run()
    return {
        "reminders": len(report.reminders),
        "restricted": report.restricted,
        "reinstated": report.reinstated,
    }


@shared_task(
    name="billing.tasks.invoice_reminder_send",
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=8,
)
def invoice_reminder_send(event_id: int) -> str:
    from billing.notices import reminder_email_send

    return reminder_email_send(event_id=event_id)


# --- gateways: meter events, webhooks, Stripe invoices ---------------------------------------


@shared_task(
    name="billing.tasks.meter_events_push",
    acks_late=True,
    bind=True,
    max_retries=None,
    default_retry_delay=60,
)
def meter_events_push_task(self: Any) -> dict[str, Any]:
    """Report due ledger rows to Stripe Billing Meters; comes back when the next retry (each row
    backs off on its own, without a cap on attempts) or summary check is due."""
    from billing.outbox import meter_events_push, meter_outbox_next_due

    report = meter_events_push()
    if report.failed or report.waiting or report.resent:
        now = timezone.now()
        due = meter_outbox_next_due(now=now)
        if due is not None:
            raise self.retry(countdown=int(min(3600, max(30, (due - now).total_seconds()))))
    return {"queued": report.queued, "sent": report.sent, "batches": report.batches,
            "attention": report.attention, "to_verify": report.to_verify}  # fmt: skip


@shared_task(name="billing.tasks.webhook_event_process", acks_late=True, bind=True, max_retries=7)
def webhook_event_process_task(self: Any, event_id: int) -> str:
    from billing.models import WebhookStatus
    from billing.webhooks import webhook_event_process

    status = webhook_event_process(event_id=event_id)
    if status == WebhookStatus.FAILED:
        raise self.retry(countdown=min(3600, 30 * 2**self.request.retries))
    return status


@shared_task(name="billing.tasks.webhook_events_retry", acks_late=True)
def webhook_events_retry() -> int:
    """Safety net: events whose processing task was lost (a crash) or that failed."""
    from billing.webhooks import webhook_events_due

    due = webhook_events_due()
    for event_id in due:
        webhook_event_process_task.delay(event_id)
    return len(due)


@shared_task(name="billing.tasks.stripe_invoice_send", acks_late=True, bind=True, max_retries=10)
def stripe_invoice_send(self: Any, invoice_id: int) -> str:
    from billing.gateways import GatewayError, gateway_get
    from billing.models import Gateway, Invoice

    invoice = Invoice.objects.select_related("billing_account").get(pk=invoice_id)
    try:
        return gateway_get(Gateway.STRIPE).invoice_send(invoice=invoice)
    except GatewayError as exc:
        raise self.retry(exc=exc, countdown=min(3600, 60 * 2**self.request.retries)) from exc


@shared_task(
    name="billing.tasks.stripe_invoice_paid_out_of_band",
    acks_late=True,
    bind=True,
    max_retries=10,
)
def stripe_invoice_paid_out_of_band(self: Any, invoice_id: int) -> None:
    from billing.gateways import GatewayError, gateway_get
    from billing.models import Gateway, Invoice

    invoice = Invoice.objects.get(pk=invoice_id)
    try:
        gateway_get(Gateway.STRIPE).invoice_mark_paid_out_of_band(invoice=invoice)
    except GatewayError as exc:
        raise self.retry(exc=exc, countdown=min(3600, 60 * 2**self.request.retries)) from exc


@shared_task(name="billing.tasks.stripe_sync", acks_late=True)
def stripe_sync_task() -> dict[str, Any]:
    """Customers, subscriptions and issued invoices of Stripe payers, mirrored (idempotent)."""
    from billing.gateways.sync import stripe_sync

    report = stripe_sync()
    return {"customers": report.customers, "subscriptions": report.subscriptions,
            "invoices": report.invoices, "errors": report.errors[:20]}  # fmt: skip


# --- legal e-invoices -------------------------------------------------------------------------


@shared_task(name="billing.tasks.einvoices_send_due", acks_late=True)
def einvoices_send_due() -> dict[str, str]:
    from billing.einvoice.services import einvoices_send_due as send_due

    return send_due().outcomes


@shared_task(name="billing.tasks.einvoice_send", acks_late=True)
def einvoice_send(invoice_id: int) -> str:
    from billing.einvoice.services import einvoice_send as send

    return send(invoice_id=invoice_id)
