"""Invoices computed from the ledger: proration, overage, idempotent drafts, immutable issue."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import InternalError, ProgrammingError, connection, transaction
from django.utils import timezone

from billing.accounts import billing_account_create, subscription_end, subscription_start
from billing.invoicing import (
    billing_month_close,
    credit_note_issue,
    invoices_issue,
    invoices_prepare,
    payment_record,
)
from billing.models import Invoice, InvoiceLine, InvoiceStatus, Metric, Plan, UsageDaily
from billing.pricing import RateInput, plan_create, plan_price_change
from billing.services import usage_record

pytestmark = pytest.mark.usefixtures("english")

OCT = dt.date(2026, 10, 1)
NOV = dt.date(2026, 11, 1)
GuardError = (InternalError, ProgrammingError)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def use(agency: Any, when: dt.datetime, n: int, metric: str = Metric.DOSSIER_RECEIVED) -> None:
    with transaction.atomic():
        for i in range(n):
            usage_record(
                agency=agency,
                metric=metric,
                occurred_at=when,
                idempotency_key=f"{agency.pk}-{metric}-{when.isoformat()}-{i}",
            )


@pytest.fixture
def plan(db: None) -> Plan:
    return plan_create(
        code="xa-test",
        name="Xã — thử nghiệm",
        agency_kind="commune",
        monthly_fee=3_100_000,
        rates=[
            RateInput(metric=Metric.DOSSIER_RECEIVED, included=Decimal(310), unit_price=2_000),
            RateInput(metric=Metric.SMS_SENT, included=Decimal(0), unit_price=800),
        ],
        effective_from=dt.date(2026, 1, 1),
        is_default=True,
    )


@pytest.fixture
def payer(db: None) -> Any:
    return billing_account_create(
        name="UBND tỉnh Thử Nghiệm",
        tax_code="0101234567",
        address="1 Đường Trần Phú",
        email="ketoan@example.vn",
    )


def lines_of(invoice: Invoice, agency: Any) -> dict[str, InvoiceLine]:
    return {(line.metric or "fee"): line for line in invoice.lines.filter(agency=agency)}


def test_proration_overage_and_period_boundaries(make_agency: Any, plan: Plan, payer: Any) -> None:
    early = make_agency(provision=False)
    joiner = make_agency(provision=False)
    subscription_start(agency=early, billing_account=payer, starts_on=dt.date(2026, 9, 1))
    subscription_start(agency=joiner, billing_account=payer, starts_on=dt.date(2026, 10, 11))
    use(early, at(dt.date(2026, 10, 5)), 100)
    use(early, at(dt.date(2026, 9, 30)), 50)  # September: not in October's invoice
    use(joiner, at(dt.date(2026, 10, 20)), 250)
    use(joiner, at(dt.date(2026, 10, 21)), 3, Metric.SMS_SENT)
    # 00:30 on 1 November in Hà Nội is still 31 October in UTC: it belongs to November.
    use(joiner, timezone.make_aware(dt.datetime(2026, 11, 1, 0, 30)), 7)

    report = invoices_prepare(period_start=OCT)

    assert report.drafted == 1
    invoice = Invoice.objects.get(pk=report.invoice_ids[0])
    full, partial = lines_of(invoice, early), lines_of(invoice, joiner)
    assert full["fee"].amount == 3_100_000 and full["fee"].active_days == 31
    assert full[Metric.DOSSIER_RECEIVED].quantity == 100
    assert full[Metric.DOSSIER_RECEIVED].amount == 0
    # 21 of 31 days: fee and included quantity are both prorated.
    assert partial["fee"].active_days == 21
    assert partial["fee"].amount == 2_100_000
    assert partial[Metric.DOSSIER_RECEIVED].included == Decimal(210)
    assert partial[Metric.DOSSIER_RECEIVED].billable == Decimal(40)
    assert partial[Metric.DOSSIER_RECEIVED].amount == 80_000
    assert partial[Metric.SMS_SENT].amount == 2_400
    assert invoice.subtotal == 3_100_000 + 2_100_000 + 80_000 + 2_400
    assert invoice.subtotal == sum(line.amount for line in invoice.lines.all())
    # VAT at the plan's default 10 %, on top.
    assert invoice.vat_amount == 528_240 and invoice.total == invoice.subtotal + 528_240
    # The rollup equals the ledger, day by day.
    assert UsageDaily.objects.get(agency=joiner, metric=Metric.DOSSIER_RECEIVED,
                                  day=dt.date(2026, 10, 20)).quantity == 250  # fmt: skip


def test_leaving_mid_month_and_usage_after_leaving(
    make_agency: Any, plan: Plan, payer: Any
) -> None:
    leaver = make_agency(provision=False)
    subscription_start(agency=leaver, billing_account=payer, starts_on=dt.date(2026, 1, 1))
    use(leaver, at(dt.date(2026, 10, 3)), 400)
    use(leaver, at(dt.date(2026, 10, 25)), 99)  # after leaving: not billed to this payer
    subscription_end(agency=leaver, ends_on=dt.date(2026, 10, 10))

    invoice = Invoice.objects.get(pk=invoices_prepare(period_start=OCT).invoice_ids[0])
    line = lines_of(invoice, leaver)
    assert line["fee"].amount == 1_000_000  # 10 of 31 days
    assert line[Metric.DOSSIER_RECEIVED].quantity == 400
    assert line[Metric.DOSSIER_RECEIVED].billable == 300  # 400 - 310 × 10/31


def test_redrafting_is_idempotent_and_issued_invoices_stay(
    make_agency: Any, plan: Plan, payer: Any
) -> None:
    agency = make_agency(provision=False)
    subscription_start(agency=agency, billing_account=payer, starts_on=dt.date(2026, 1, 1))
    use(agency, at(dt.date(2026, 10, 2)), 320)
    invoices_prepare(period_start=OCT)
    use(agency, at(dt.date(2026, 10, 3)), 5)  # a late ledger row: the re-draft picks it up
    second = invoices_prepare(period_start=OCT)
    assert Invoice.objects.filter(period_start=OCT).count() == 1
    invoice = Invoice.objects.get(pk=second.invoice_ids[0])
    assert lines_of(invoice, agency)[Metric.DOSSIER_RECEIVED].billable == 15

    (issued,) = invoices_issue(invoices=[invoice])
    third = invoices_prepare(period_start=OCT)
    assert third.drafted == 0 and third.skipped_issued == 1
    issued.refresh_from_db()
    assert issued.subtotal == 3_100_000 + 30_000 and issued.total == 3_443_000


def test_issue_numbers_snapshot_and_database_guards(make_agency: Any, plan: Plan) -> None:
    payers = [
        billing_account_create(name=f"UBND {i}", tax_code=f"010000000{i}", address="x",
                               email=f"p{i}@example.vn")
        for i in range(3)
    ]  # fmt: skip
    for payer in payers:
        agency = make_agency(provision=False)
        subscription_start(agency=agency, billing_account=payer, starts_on=dt.date(2026, 1, 1))
    report = billing_month_close(period_start=OCT)
    assert report.issued == 3
    invoices = list(Invoice.objects.filter(period_start=OCT).order_by("number"))
    numbers = [int(str(i.number).split("-")[1]) for i in invoices]
    assert numbers == list(range(numbers[0], numbers[0] + 3))
    first = invoices[0]
    assert first.status == InvoiceStatus.ISSUED and first.due_on is not None

    # The payer renames itself: the issued invoice keeps the details it was issued with.
    payer = first.billing_account
    old_name = payer.name
    payer.name = "Tên mới"
    payer.save()
    first.refresh_from_db()
    assert first.payer_name == old_name

    with pytest.raises(GuardError), transaction.atomic():
        Invoice.objects.filter(pk=first.pk).update(total=1)
    with pytest.raises(GuardError), transaction.atomic():
        InvoiceLine.objects.filter(invoice=first).update(amount=0)
    with pytest.raises(GuardError), transaction.atomic():
        InvoiceLine.objects.filter(invoice=first).delete()
    with pytest.raises(GuardError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM billing_invoice WHERE id = %s", [first.pk])
    use(agency, at(dt.date(2026, 10, 9)), 1)
    with pytest.raises(GuardError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE billing_usageevent SET quantity = 0")
    first.refresh_from_db()
    assert first.subtotal == 3_100_000 and first.total == 3_410_000


def test_price_change_waits_for_the_next_period(make_agency: Any, plan: Plan, payer: Any) -> None:
    agency = make_agency(provision=False)
    subscription_start(agency=agency, billing_account=payer, starts_on=dt.date(2026, 1, 1))
    plan_price_change(
        plan=plan,
        monthly_fee=4_000_000,
        rates=[RateInput(metric=Metric.DOSSIER_RECEIVED, included=Decimal(0), unit_price=1)],
        today=dt.date(2026, 10, 15),
    )
    october = Invoice.objects.get(pk=invoices_prepare(period_start=OCT).invoice_ids[0])
    november = Invoice.objects.get(pk=invoices_prepare(period_start=NOV).invoice_ids[0])
    assert lines_of(october, agency)["fee"].amount == 3_100_000
    assert lines_of(november, agency)["fee"].amount == 4_000_000
    assert set(lines_of(november, agency)) == {"fee", Metric.DOSSIER_RECEIVED}


def test_payments_and_credit_notes(make_agency: Any, plan: Plan, payer: Any) -> None:
    agency = make_agency(provision=False)
    subscription_start(agency=agency, billing_account=payer, starts_on=dt.date(2026, 1, 1))
    billing_month_close(period_start=OCT)
    invoice = Invoice.objects.get(period_start=OCT)

    with pytest.raises(ValidationError, match="balance"):
        payment_record(invoice=invoice, amount=invoice.total + 1, received_on=NOV, reference="FT1")
    payment_record(invoice=invoice, amount=1_000_000, received_on=NOV, reference="FT1")
    with pytest.raises(ValidationError, match="already recorded"):
        payment_record(invoice=invoice, amount=1, received_on=NOV, reference="FT1")
    note = credit_note_issue(invoice=invoice, amount=100_000, reason="Sai số lượng SMS")
    assert note.number.startswith("GC")
    invoice.refresh_from_db()
    assert invoice.balance == 3_410_000 - 1_000_000 - 100_000
    payment_record(invoice=invoice, amount=invoice.balance, received_on=NOV, reference="FT2")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID and invoice.balance == 0
    assert invoice.total == 3_410_000  # the credit note never rewrote the invoice


def test_bad_input_is_refused(make_agency: Any, plan: Plan, payer: Any) -> None:
    with pytest.raises(ValidationError):
        billing_account_create(name="X", tax_code="12345", address="x", email="a@example.vn")
    with pytest.raises(ValidationError):
        billing_account_create(name="Y", tax_code="0101234567", address="x", email="b@example.vn")
    department = make_agency(provision=False, kind="department")
    with pytest.raises(ValidationError):
        subscription_start(agency=department, billing_account=payer, starts_on=OCT, plan=plan)
    with pytest.raises(ValidationError):
        invoices_prepare(period_start=dt.date(2026, 10, 2))
    with pytest.raises(ValidationError):
        plan_price_change(
            plan=plan,
            monthly_fee=1,
            rates=[RateInput(metric="nonsense", included=Decimal(1), unit_price=1)],
        )
    commune = make_agency(provision=False)
    first = subscription_start(agency=commune, billing_account=payer, starts_on=OCT)
    assert subscription_start(agency=commune, billing_account=payer, starts_on=NOV) == first
