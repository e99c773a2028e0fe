"""The demo province that `dev.py up` seeds: complete, idempotent, billable."""

from __future__ import annotations

from typing import Any

import pytest

from billing.invoicing import invoices_prepare
from billing.models import Invoice, Subscription
from billing.pricing import month_start
from onboarding.demo import demo_province_seed
from procedures.models import AgencyProcedure
from tenants.context import agency_context
from tenants.models import AgencyStatus


@pytest.mark.django_db
def test_demo_province_is_complete_and_idempotent() -> None:
    messages: list[str] = []
    first = demo_province_seed(communes=1, report=messages.append)
    again = demo_province_seed(communes=1)

    assert [a.pk for a in first] == [a.pk for a in again]
    assert len(first) == 4  # three departments or centres and one commune
    assert all(a.status == AgencyStatus.ACTIVE for a in again)
    for agency in again:
        with agency_context(agency):
            assert AgencyProcedure.objects.filter(published_version__isnull=False).exists(), (
                agency.slug,
                messages,
            )
    # One payer rents the service for every demo agency; its invoice comes from the ledger.
    assert Subscription.objects.filter(agency__in=first, ends_on__isnull=True).count() == 4
    assert Subscription.objects.values("billing_account").distinct().count() == 1
    period = month_start(Subscription.objects.first().starts_on)
    report = invoices_prepare(period_start=period)
    invoice: Any = Invoice.objects.get(pk=report.invoice_ids[0])
    assert invoice.lines.filter(kind="subscription").count() == 4
    assert any("imported the sample national catalog" in m for m in messages)
