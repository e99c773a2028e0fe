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
