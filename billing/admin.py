"""Provider staff's view of the gateways' plumbing: webhook events, the meter-event outbox, the
Stripe object mirror and overpayments. Read-only: every change goes through billing's services
(overpayments are resolved on the console's billing page)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from billing.models import (
    GatewayObject,
    MeterEventOutbox,
    Overpayment,
    WebhookEvent,
    WebhookStatus,
)
from core.admin import ReadOnlyModelAdmin as ReadOnlyAdmin


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "event_type", "status", "attempts", "deliveries", "received_at"]
    list_filter = ["status", "gateway", "event_type"]
    search_fields = ["event_id", "event_type"]
    actions = ["retry"]

    @admin.action(description=_("Process again (failed or stuck events)"))
    def retry(self, request: HttpRequest, queryset: Any) -> None:
        from billing.tasks import webhook_event_process_task

        for pk in queryset.filter(
            status__in=[WebhookStatus.RECEIVED, WebhookStatus.FAILED]
        ).values_list("pk", flat=True):
            webhook_event_process_task.delay(pk)


@admin.register(MeterEventOutbox)
class MeterEventOutboxAdmin(ReadOnlyAdmin):
    list_display = [
        "idempotency_key", "agency", "metric", "quantity", "status", "attempts",
        "next_attempt_at", "generation",
    ]  # fmt: skip
    list_filter = ["status", "metric"]
    search_fields = ["idempotency_key"]


@admin.register(GatewayObject)
class GatewayObjectAdmin(ReadOnlyAdmin):
    list_display = ["gateway", "kind", "key", "remote_id", "state", "updated_at"]
    list_filter = ["gateway", "kind"]
    search_fields = ["key", "remote_id"]


@admin.register(Overpayment)
class OverpaymentAdmin(ReadOnlyAdmin):
    list_display = ["invoice", "billing_account", "amount", "applied", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["invoice__number", "payment__reference", "billing_account__name"]
