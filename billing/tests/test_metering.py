"""Daily metering: storage held and staff seats become ledger rows, once per day."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.services import membership_grant
from billing.metering import usage_meter_day
from billing.models import Metric, UsageEvent
from dossiers.models import DossierDocument
from lifecycle.submit import Applicant, dossier_submit
from procedures.models import AgencyProcedure
from tenants.context import agency_context
from tests.files import pdf

DAY = dt.date(2026, 10, 7)
BIRTH_FORM = {
    "child_full_name": "Nguyễn Văn B",
    "child_birth_date": "2026-11-20",
    "child_sex": "Nam",
    "birth_place": "Bệnh viện Việt Tiệp",
}


@pytest.mark.django_db
def test_storage_and_seats_are_metered_once_per_day(
    commune: Any, make_agency: Any, citizen: Any, django_user_model: Any
) -> None:
    empty = make_agency()
    officer = django_user_model.objects.create_user(email="can-bo@example.vn", password="x")
    membership_grant(user=officer, agency=commune, roles=["officer"])
    with agency_context(commune):
        dossier_submit(
            agency=commune,
            procedure=AgencyProcedure.objects.get(code="S-HT-001"),
            applicant=Applicant.from_user(citizen),
            form_data=BIRTH_FORM,
            files={0: [pdf(size=3_000_000)], 1: [pdf("giay-chung-sinh.pdf", size=2_000_000)]},
        )
        held = sum(DossierDocument.objects.values_list("size", flat=True))
    assert held >= 5_000_000

    first = usage_meter_day(day=DAY)
    again = usage_meter_day(day=DAY)

    assert (first.storage_rows, first.seat_rows) == (2, 1)
    assert (again.storage_rows, again.seat_rows) == (0, 0)
    storage = UsageEvent.objects.get(agency=commune, metric=Metric.STORAGE_GB_DAY)
    assert storage.quantity == (Decimal(held) / Decimal(10**9)).quantize(Decimal("0.0001"))
    assert UsageEvent.objects.get(agency=empty, metric=Metric.STORAGE_GB_DAY).quantity == 0
    assert UsageEvent.objects.get(agency=commune, metric=Metric.STAFF_SEAT_DAY).quantity == 1
    assert not UsageEvent.objects.filter(agency=empty, metric=Metric.STAFF_SEAT_DAY).exists()


@pytest.mark.django_db
def test_commands_refuse_bad_arguments() -> None:
    with pytest.raises(CommandError, match="2026-10"):
        call_command("billing_close_month", "--period", "10/2026")
    with pytest.raises(CommandError, match="2026-10-31"):
        call_command("billing_meter_day", "--day", "yesterday")
