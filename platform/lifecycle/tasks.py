"""Celery tasks of the lifecycle: thin wrappers around its services, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from lifecycle.fees import fee_national_reconcile_for_each_agency


@shared_task(name="lifecycle.tasks.fee_national_reconcile_daily", acks_late=True)
def fee_national_reconcile_daily() -> dict[str, str]:
    """Yesterday's reconciliation files of the national payment platform, agency by agency."""
    return fee_national_reconcile_for_each_agency()
