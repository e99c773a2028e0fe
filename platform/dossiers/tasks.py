"""Celery tasks of dossiers: thin wrappers around the services, safe to run twice."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="dossiers.tasks.fee_national_reconcile_daily", acks_late=True)
def fee_national_reconcile_daily() -> dict[str, str]:
    """Yesterday's reconciliation files of the national payment platform, agency by agency."""
    from dossiers.fees import fee_national_reconcile_for_each_agency

    return fee_national_reconcile_for_each_agency()
