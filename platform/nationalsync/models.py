"""The national-portal outbox. Public schema.

One row per dossier status change (a ``DossierEvent`` with a ``to_status``) of any agency,
written in the same transaction as the event; a Celery task pushes it to the portal
(``NATIONAL_PORTAL_URL``) until the portal acknowledges it. The rows are also what the
portal should have: the reconciliation report compares them with what it acknowledged.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged by the portal")
    FAILED = "failed", _("Failed")


class PortalOutbox(models.Model):
    agency = models.ForeignKey(
        "tenants.Agency", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    event_id = models.BigIntegerField()
    # The idempotency key the portal dedupes by: the agency's schema and the event id.
    key = models.CharField(max_length=80, unique=True)
    dossier_id = models.BigIntegerField()
    # Filled in when sent: a new dossier's code is given after its first event is written.
    dossier_code = models.CharField(max_length=40, blank=True)
    payload: models.JSONField[dict[str, Any]] = models.JSONField()
    status = models.CharField(
        max_length=20, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    receipt = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("national portal outbox entry")
        verbose_name_plural = _("national portal outbox")
        constraints = [
            models.UniqueConstraint(fields=["agency", "event_id"], name="nationalsync_event")
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="nationalsync_due"),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.status}"
