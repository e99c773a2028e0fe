"""Celery tasks of the tenants app: thin wrappers around the services."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import OperationalError

from tenants import services
from tenants.models import Agency


@shared_task(
    name="tenants.tasks.agency_provision",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def agency_provision(agency_id: int) -> dict[str, Any]:
    """Provision one agency; safe to run twice (the service is idempotent)."""
    result = services.agency_provision(agency=Agency.objects.get(pk=agency_id))
    return {
        "agency": result.agency.slug,
        "via": result.created_via,
        "seconds": round(result.seconds, 3),
        "repaired": result.repaired,
    }
