"""Bank transfers matched to invoices the way people type memos; partial, combined and
over-payments; the rest queued for staff; nothing applied twice."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from billing.accounts import subscription_start
from billing.gateways.bank_transfer import bank_transfer_record
from billing.invoicing import billing_month_close, previous_period
from billing.models import (
    BankStatementLine,
    BillingAccount,
    Gateway,
    Invoice,
    InvoiceStatus,
    LineStatus,
    Overpayment,
    OverpaymentStatus,
    Payment,
    Plan,
    StatementSource,
)
from billing.pricing import month_start
from billing.reconciliation import (
    IncomingTransfer,
    memo_references,
    statement_line_dismiss,
    statement_line_receive,
    statement_line_resolve,
)
from billing.tests.gateway_helpers import close_running_month, make_payer, make_plan

pytestmark = pytest.mark.usefixtures("english")
FULL = 3_410_000  # the plan's monthly fee, 3.100.000 ₫, with 10 % VAT


@pytest.fixture
def plan(db: None) -> Plan:
    return make_plan()


def invoices_of(make_agency: Any, payer: BillingAccount, months: int = 1) -> list[Invoice]:
    """``months`` issued invoices of the payer: the months before (closed), then this one."""
    now = timezone.now()
    this = month_start(timezone.localdate(now))
    periods = [this]
    for _ in range(months - 1):
        periods.insert(0, previous_period(periods[0]))
    agency = make_agency(provision=False)
    subscription_start(agency=agency, billing_account=payer, starts_on=periods[0])
    for period in periods[:-1]:
        billing_month_close(period_start=period)
    close_running_month(now)
    return list(Invoice.objects.filter(billing_account=payer).order_by("period_start"))


def receive(amount: int, memo: str, txn: str = "") -> BankStatementLine:
    line, created = statement_line_receive(
        transfer=IncomingTransfer(
            booked_on=timezone.localdate(), amount=amount, memo=memo, bank_transaction_id=txn
        ),
        source=StatementSource.WEBHOOK,
    )
    assert created
    return line


def variants(invoice: Invoice, payer: BillingAccount) -> dict[str, str]:
    number = str(invoice.number)
    year, seq = number[2:6], int(number.split("-")[1])
    return {
        "exact": number,
        "digits only": f"{year}{seq:06d}",
        "spaced and short": f"HD {year} {seq}",
        "lower case in a sentence": f"UBND xã An Bình chuyển tiền thanh toán hđ{year}-{seq:06d}"
        " phí tháng",
        "wrapped by the bank": f"MBVCB.5123456789.012345.UBND TINH X CK HD{year}{seq:06d}.CT tu"
        " 0011001234567 toi 0011004099999",
        "the payer's tax code": f"UBND TINH BINH DUONG MST {payer.tax_code} TT PHI DICH VU",
    }


@pytest.mark.parametrize(
    "variant",
    ["exact", "digits only", "spaced and short", "lower case in a sentence",
     "wrapped by the bank", "the payer's tax code"],
)  # fmt: skip
def test_memos_as_people_type_them_pay_the_invoice(
    make_agency: Any, plan: Plan, variant: str
) -> None:
    payer = make_payer("UBND tỉnh Bình Dương", "3700000001", Gateway.BANK_TRANSFER)
    (invoice,) = invoices_of(make_agency, payer)
    assert invoice.total == FULL

    line = receive(FULL, variants(invoice, payer)[variant], txn="FT26336000001")

    invoice.refresh_from_db()
    assert line.status == LineStatus.APPLIED, line.reason
    assert invoice.status == InvoiceStatus.PAID and invoice.balance == 0
    (payment,) = Payment.objects.filter(invoice=invoice)
    assert payment.reference == "FT26336000001" and payment.statement_line == line


def test_memo_references() -> None:
    refs = memo_references("tt HD2026-000010, hd 2026 11 va 2026000012 MST 0101234567-001")
    assert refs.named == ["HD2026-000010", "HD2026-000011"]
    assert refs.digits == ["HD2026-000012"]
    assert "0101234567-001" in refs.tax_codes


def test_one_transfer_for_two_invoices_pays_oldest_first(make_agency: Any, plan: Plan) -> None:
    payer = make_payer("UBND tỉnh Đồng Nai", "3600000001", Gateway.BANK_TRANSFER)
    older, newer = invoices_of(make_agency, payer, months=2)

    # The memo names the newer first; the money settles the older first, the rest the newer.
    line = receive(FULL + 1_000_000, f"TT {newer.number} {older.number}", txn="FT1")

    older.refresh_from_db()
    newer.refresh_from_db()
    assert line.status == LineStatus.APPLIED
    assert older.status == InvoiceStatus.PAID
    assert newer.status == InvoiceStatus.ISSUED and newer.balance == FULL - 1_000_000
    paid = dict(Payment.objects.values_list("reference", "amount"))
    assert paid == {f"FT1/{older.number}": FULL, f"FT1/{newer.number}": 1_000_000}
    assert line.invoice_numbers == [older.number, newer.number]


def test_partial_payment_leaves_the_invoice_open(make_agency: Any, plan: Plan) -> None:
    payer = make_payer("UBND tỉnh Long An", "1100000001", Gateway.BANK_TRANSFER)
    (invoice,) = invoices_of(make_agency, payer)
    receive(1_000_000, f"Tam ung {invoice.number}", txn="FT2")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.ISSUED
    assert invoice.amount_paid == 1_000_000 and invoice.balance == FULL - 1_000_000
    receive(invoice.balance, f"Phan con lai {invoice.number}", txn="FT3")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID


def test_overpayment_and_paid_twice_are_flagged(make_agency: Any, plan: Plan) -> None:
    payer = make_payer("UBND tỉnh Tây Ninh", "3900000001", Gateway.BANK_TRANSFER)
    (invoice,) = invoices_of(make_agency, payer)
    receive(FULL + 500_000, invoice.number or "", txn="FT4")
    receive(FULL, f"thanh toan lai {invoice.number}", txn="FT5")  # paid again

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID and invoice.amount_paid == FULL
    excess = sorted(Overpayment.objects.values_list("amount", "status"))
    assert excess == [(500_000, OverpaymentStatus.OPEN), (FULL, OverpaymentStatus.OPEN)]


def test_unmatched_transfers_are_queued_then_resolved_by_staff(
    make_agency: Any, plan: Plan
) -> None:
    payer = make_payer("UBND tỉnh Bến Tre", "1300000001", Gateway.BANK_TRANSFER)
    stranger = make_payer("UBND tỉnh Vĩnh Long", "1500000001", Gateway.BANK_TRANSFER)
    (invoice,) = invoices_of(make_agency, payer)
    year = str(invoice.number)[2:6]

    nothing = receive(FULL, "chuyen tien dich vu", txn="FT6")
    unknown = receive(FULL, f"TT HD{year}-999999", txn="FT7")
    conflict = receive(FULL, f"TT {invoice.number} MST {stranger.tax_code}", txn="FT8")

    assert {nothing.status, unknown.status, conflict.status} == {LineStatus.QUEUED}
    assert "no invoice" in nothing.reason
    assert f"HD{year}-999999" in unknown.reason
    assert stranger.tax_code in conflict.reason
    assert not Payment.objects.exists()

    with pytest.raises(ValidationError, match="Enter the invoice numbers"):
        statement_line_resolve(line=nothing, invoices="không rõ")
    statement_line_resolve(line=nothing, invoices=str(invoice.number), actor_email="kt@p.vn")
    with pytest.raises(ValidationError, match="already handled"):
        statement_line_resolve(line=nothing, invoices=str(invoice.number))
    with pytest.raises(ValidationError, match="Say why"):
        statement_line_dismiss(line=unknown, note=" ")
    statement_line_dismiss(line=unknown, note="Hoàn trả cho người chuyển", actor_email="kt@p.vn")

    invoice.refresh_from_db()
    nothing.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID and nothing.status == LineStatus.RESOLVED
    assert BankStatementLine.objects.get(pk=unknown.pk).status == LineStatus.DISMISSED
    assert Payment.objects.count() == 1


def test_nothing_is_applied_twice(make_agency: Any, plan: Plan) -> None:
    payer = make_payer("UBND tỉnh Cà Mau", "2000000001", Gateway.BANK_TRANSFER)
    (invoice,) = invoices_of(make_agency, payer)
    transfer = IncomingTransfer(
        booked_on=timezone.localdate(), amount=1_000, memo=str(invoice.number),
        bank_transaction_id="FT9",
    )  # fmt: skip
    first, created = statement_line_receive(transfer=transfer, source=StatementSource.WEBHOOK)
    again, created_again = statement_line_receive(transfer=transfer, source=StatementSource.FILE)
    assert created and not created_again and again.pk == first.pk
    assert Payment.objects.filter(invoice=invoice).count() == 1

    # Staff recorded a transfer by hand before the statement came: it is not applied again.
    bank_transfer_record(
        invoice=invoice, amount=2_000, received_on=timezone.localdate(), reference="FT10"
    )
    line = receive(2_000, str(invoice.number), txn="FT10")
    assert line.status == LineStatus.RECORDED
    invoice.refresh_from_db()
    assert invoice.amount_paid == 3_000


def test_same_content_without_transaction_ids(make_agency: Any, plan: Plan) -> None:
    """Two equal transfers on one day, from an export without transaction ids: both count,
    each once, whatever the number of imports."""
    payer = make_payer("UBND tỉnh Hậu Giang", "6300000001", Gateway.BANK_TRANSFER)
    (invoice,) = invoices_of(make_agency, payer)
    day = timezone.localdate()
    lines = [
        IncomingTransfer(booked_on=day, amount=1_000, memo=str(invoice.number), occurrence=n)
        for n in (1, 2)
    ]
    for _ in range(2):
        for transfer in lines:
            statement_line_receive(transfer=transfer, source=StatementSource.FILE)
    invoice.refresh_from_db()
    assert invoice.amount_paid == 2_000
    assert BankStatementLine.objects.count() == 2
