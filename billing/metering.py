"""Daily metering of what is not an action: storage held (GB-day) and active staff seats.

Each reading is a ledger row keyed by agency, metric and day, so re-running a day is a no-op.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from billing.models import Metric
from billing.services import usage_record
from tenants.context import for_each_agency, public_context
from tenants.models import Agency, AgencyStatus

GB = Decimal(1_000_000_000)
BILLED_STATUSES = (AgencyStatus.ACTIVE, AgencyStatus.SUSPENDED)


def agency_storage_bytes() -> int:
    """Bytes of dossier and draft files the agency holds; run in its schema."""
    from dossiers.models import DossierDocument, DraftDocument

    total = 0
    for model in (DossierDocument, DraftDocument):
        total += model.objects.aggregate(n=Sum("size"))["n"] or 0
    return total


@dataclass
class MeteringReport:
    day: dt.date
    storage_rows: int = 0
    seat_rows: int = 0


def _reading_time(day: dt.date) -> dt.datetime:
    # The reading belongs to the day it measures: noon local time, far from either midnight.
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def usage_meter_day(*, day: dt.date) -> MeteringReport:
    """Record storage and staff seats of every billed agency for one day (idempotent)."""
    report = MeteringReport(day=day)
    storage = for_each_agency(lambda _agency: agency_storage_bytes(), statuses=BILLED_STATUSES)
    with public_context():
        agencies = {a.schema_name: a for a in Agency.objects.filter(status__in=BILLED_STATUSES)}
        seats = dict(
            Agency.objects.filter(status__in=BILLED_STATUSES, memberships__is_active=True)
            .annotate(n=Count("memberships__user", distinct=True))
            .values_list("pk", "n")
        )
        when = _reading_time(day)
        with transaction.atomic():
            for schema, size in storage.items():
                agency = agencies[schema]
                if usage_record(
                    agency=agency,
                    metric=Metric.STORAGE_GB_DAY,
                    quantity=(Decimal(size) / GB).quantize(Decimal("0.0001")),
                    occurred_at=when,
                    idempotency_key=f"storage:{agency.pk}:{day.isoformat()}",
                ):
                    report.storage_rows += 1
            for agency in agencies.values():
                count = seats.get(agency.pk, 0)
                if count and usage_record(
                    agency=agency,
                    metric=Metric.STAFF_SEAT_DAY,
                    quantity=count,
                    occurred_at=when,
                    idempotency_key=f"seats:{agency.pk}:{day.isoformat()}",
                ):
                    report.seat_rows += 1
    return report
