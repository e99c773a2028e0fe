"""The dossier register (Form 07): dossiers filtered by period, procedure, status, channel,
timeliness and a search on code or applicant, read in the active agency's schema."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from dossiers.models import OPEN_STATUSES, Dossier, Outcome

# Timeliness filter values: the completed outcomes plus the open dossiers already past due.
OVERDUE = "overdue"


@dataclass(frozen=True)
class RegisterFilter:
    received_from: dt.date | None = None
    received_to: dt.date | None = None
    procedure_id: int | None = None
    status: str = ""
    channel: str = ""
    timeliness: str = ""
    search: str = ""


def register_dossiers(
    filters: RegisterFilter, *, today: dt.date | None = None
) -> QuerySet[Dossier]:
    """The register's rows, newest first, with the procedure and the process joined in."""
    qs = Dossier.objects.select_related("procedure", "process")
    if filters.received_from:
        qs = qs.filter(received_at__date__gte=filters.received_from)
    if filters.received_to:
        qs = qs.filter(received_at__date__lte=filters.received_to)
    if filters.procedure_id:
        qs = qs.filter(procedure_id=filters.procedure_id)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.timeliness == OVERDUE:
        qs = qs.filter(status__in=OPEN_STATUSES, due_date__lt=today or timezone.localdate())
    elif filters.timeliness in Outcome.values:
        qs = qs.filter(process__outcome=filters.timeliness)
    if filters.search:
        term = filters.search.strip()
        qs = qs.filter(
            Q(code__icontains=term)
            | Q(applicant_name__icontains=term)
            | Q(applicant_id_number=term)
        )
    return qs.order_by("-received_at", "-id")


def register_rows(qs: QuerySet[Dossier]) -> QuerySet[Any]:
    """Flat values for the spreadsheet export (no model instances: bounded memory)."""
    return qs.values_list(
        "code",
        "received_at",
        "channel",
        "procedure__code",
        "procedure__name",
        "applicant_name",
        "applicant_id_number",
        "applicant_address",
        "due_date",
        "status",
        "completed_at",
        "process__outcome",
        "process__returned_at",
        "fee_amount",
        "fee_paid",
    )
