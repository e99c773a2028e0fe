"""The usage ledger: one append-only row per billable event. Public schema."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class Metric(models.TextChoices):
    DOSSIER_RECEIVED = "dossier_received", _("Dossier received")
    DOSSIER_ONLINE = "dossier_online", _("Dossier received online")
    SMS_SENT = "sms_sent", _("SMS sent")
    STORAGE_GB_DAY = "storage_gb_day", _("Storage (GB-day)")
    STAFF_SEAT_DAY = "staff_seat_day", _("Active staff seat (day)")


class UsageEventQuerySet(models.QuerySet["UsageEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("the usage ledger is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("the usage ledger is append-only")


class UsageEvent(models.Model):
    """A billable event. ``idempotency_key`` makes a replay a no-op."""

    agency = models.ForeignKey("tenants.Agency", on_delete=models.PROTECT, related_name="+")
    metric = models.CharField(max_length=30, choices=Metric.choices)
    quantity = models.DecimalField(max_digits=14, decimal_places=4, default=1)
    occurred_at = models.DateTimeField(db_index=True)
    idempotency_key = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = UsageEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("usage event")
        verbose_name_plural = _("usage events")
        indexes = [models.Index(fields=["agency", "metric", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.agency_id} {self.metric} {self.quantity}"
