"""Item 6: the merged agencies' subscriptions end pro-rata on the date, C's plan covers the
rest, and no usage is counted twice or lost."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from billing.accounts import billing_account_create, subscription_start
from billing.invoicing import invoices_prepare
from billing.models import InvoiceLine, Metric, Subscription, UsageDaily, UsageEvent
from billing.pricing import RateInput, plan_create
from billing.services import usage_record
from reorg import services

pytestmark = pytest.mark.django_db


def at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(10)))


def use(agency: Any, day: dt.date, n: int) -> None:
    with transaction.atomic():
        for i in range(n):
            usage_record(
                agency=agency,
                metric=Metric.DOSSIER_RECEIVED,
                occurred_at=at(day),
                idempotency_key=f"t-{agency.pk}-{day}-{i}",
            )


def test_subscriptions_end_pro_rata_and_usage_is_billed_once(world: Any) -> None:
    # A past month, so the whole period can be invoiced whatever today is.
    first = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    effective = first + dt.timedelta(days=10)  # the 11th
    plan = plan_create(
        code="xa-sap-nhap",
        name="Xã",
        agency_kind="commune",
        monthly_fee=3_100_000,
        rates=[RateInput(metric=Metric.DOSSIER_RECEIVED, included=Decimal(0), unit_price=1_000)],
        effective_from=first - dt.timedelta(days=400),
        is_default=True,
    )
    payer = billing_account_create(
        name="UBND tỉnh", tax_code="0101234567", address="1 Trần Phú", email="kt@example.vn"
    )
    for agency in (world.a, world.c, world.outsider):
        subscription_start(agency=agency, billing_account=payer, starts_on=first, plan=plan)
    use(world.a, first + dt.timedelta(days=2), 5)  # before the date: A's
    use(world.a, effective, 7)  # on the date: C's from now on
    use(world.a, effective + dt.timedelta(days=3), 2)
    use(world.c, first + dt.timedelta(days=4), 11)
    use(world.outsider, effective, 13)
    ledger_total = UsageEvent.objects.aggregate(n=Sum("quantity"))["n"]

    merge = services.merge_create(sources=[world.a], target=world.c, effective_on=effective)
    services.merge_run(merge)
    services.merge_run(merge)  # a re-run adds nothing

    ended = Subscription.objects.get(agency=world.a)
    assert ended.ends_on == effective - dt.timedelta(days=1)
    assert Subscription.objects.get(agency=world.c).ends_on is None
    # The ledger kept every row; the net per agency moved, the total did not change.
    assert UsageEvent.objects.aggregate(n=Sum("quantity"))["n"] == ledger_total
    net = {
        a.slug: UsageDaily.objects.filter(agency=a).aggregate(n=Sum("quantity"))["n"]
        for a in (world.a, world.c, world.outsider)
    }
    # dossier fixtures recorded usage too; compare the rows these tests added
    invoices_prepare(period_start=first)
    lines = InvoiceLine.objects.filter(metric=Metric.DOSSIER_RECEIVED)
    billed = {
        a.slug: lines.filter(agency=a).aggregate(n=Sum("quantity"))["n"] or 0
        for a in (world.a, world.c, world.outsider)
    }
    assert billed["xa-an-binh"] == 5
    assert billed["xa-hoa-binh"] == 11 + 7 + 2
    assert billed["xa-ngoai"] == 13
    assert net["xa-ngoai"] >= 13
    fee = InvoiceLine.objects.get(agency=world.a, kind="subscription")
    assert fee.active_days == 10
    days = (last - first).days + 1
    assert fee.amount == round(3_100_000 * 10 / days)
    assert InvoiceLine.objects.get(agency=world.c, kind="subscription").active_days == days
