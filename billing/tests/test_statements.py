"""Bank statement exports (CSV, Excel) imported on the console and reconciled; files in the wrong
format refused with a message naming the problem and nothing applied; the bank's signed
notifications received once, tampered or replayed ones refused."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from billing.accounts import subscription_start
from billing.models import (
    BankStatementLine,
    Gateway,
    Invoice,
    InvoiceStatus,
    LineStatus,
    Payment,
    Plan,
    StatementImport,
)
from billing.statements import StatementFileError, parse_amount, statement_import, statement_parse
from billing.tests.gateway_helpers import close_running_month, make_payer, make_plan, this_period
from tests.fakes.bank import FakeBank
from tests.fixtures.mfa import mfa_login

pytestmark = pytest.mark.usefixtures("english")
FULL = 3_410_000


@pytest.fixture
def plan(db: None) -> Plan:
    return make_plan()


@pytest.fixture
def invoice(make_agency: Any, plan: Plan) -> Invoice:
    payer = make_payer("UBND tỉnh Quảng Ninh", "5700000001", Gateway.BANK_TRANSFER)
    agency = make_agency(provision=False)
    subscription_start(agency=agency, billing_account=payer, starts_on=this_period(timezone.now()))
    close_running_month(timezone.now())
    return Invoice.objects.get(billing_account=payer)


def offline_bank(settings: Any) -> FakeBank:
    return FakeBank(account_number=settings.BILLING_SELLER["bank_account"], secret="x")


AS_WRITTEN = ["3.410.000", "3,410,000", "3410000", "3.410.000,00", "+3,410,000.00",
              "3 410 000 VND", 3410000, 3410000.0]  # fmt: skip


@pytest.mark.parametrize("amount", AS_WRITTEN)
def test_amounts_as_banks_write_them(amount: object) -> None:
    assert parse_amount(amount) == 3_410_000


@pytest.mark.parametrize("amount", ["3.410.000,50", "abc", "12.5", "1,2,3"])
def test_amounts_that_are_not_whole_dong(amount: str) -> None:
    with pytest.raises(ValueError):
        parse_amount(amount)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_statement_export_marks_the_invoice_paid_once(
    invoice: Invoice, settings: Any, admin_user: Any, kind: str
) -> None:
    bank = offline_bank(settings)
    bank.book(-200_000, "Phi quan ly tai khoan")  # a debit: not a payment to us
    bank.book(FULL, f"UBND TINH QUANG NINH CHUYEN TIEN THANH TOAN {invoice.number}")
    bank.book(120_000, "chuyen nham")  # matches nothing: for staff
    data = bank.statement_csv() if kind == "csv" else bank.statement_xlsx()
    staff = mfa_login(Client(HTTP_HOST="localhost"), admin_user)

    page = staff.post(
        "/console/billing/sao-ke/",
        {"statement": _upload(f"saoke.{kind}", data)},
        follow=True,
    ).content.decode()

    assert "1 transfer(s) applied to invoices, 1 to resolve by hand" in page
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert "chuyen nham" in page  # queued for staff, shown on the page
    # The same export again (or the next one, overlapping): nothing new is applied.
    again = staff.post(
        "/console/billing/sao-ke/", {"statement": _upload(f"saoke.{kind}", data)}, follow=True
    ).content.decode()
    assert "0 transfer(s) applied to invoices, 0 to resolve by hand, 2 already known" in again
    assert Payment.objects.filter(invoice=invoice).count() == 1
    assert StatementImport.objects.count() == 2


def test_export_without_transaction_numbers_after_the_webhook(
    invoice: Invoice, settings: Any
) -> None:
    """A transfer the bank notified, then exported without its number: known, not re-applied."""
    from billing.models import StatementSource
    from billing.reconciliation import IncomingTransfer, statement_line_receive

    bank = offline_bank(settings)
    booking = bank.book(1_000_000, f"TT {invoice.number}")
    statement_line_receive(
        transfer=IncomingTransfer(
            booked_on=timezone.localdate(booking.booked_at), amount=booking.amount,
            memo=booking.memo, bank_transaction_id=booking.transaction_id,
        ),
        source=StatementSource.WEBHOOK,
    )  # fmt: skip
    report = statement_import(filename="x.csv", data=bank.statement_csv(with_reference=False))
    assert (report.applied, report.already_known) == (0, 1)
    invoice.refresh_from_db()
    assert invoice.amount_paid == 1_000_000


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "The file is empty"),
        (b"%PDF-1.7\n...", "looks like a PDF"),
        (b"PK\x03\x04garbage that is no workbook", "Excel file cannot be read"),
        ("Họ tên,Số điện thoại\nAn,0901234567\n".encode(), "No header row"),
        ("Ngày giao dịch;Nội dung;Ghi có\n32/13/2026;HD2026-000001;100000\n".encode(),
         "Row 2: “32/13/2026” is not a date"),
        ("Ngày giao dịch,Nội dung,Ghi có\n01/12/2026,HD2026-000001,\"100.000,5\"\n".encode(),
         "Row 2: the amount"),
        ("Ngày giao dịch,Nội dung,Ghi có\n".encode(), "no transaction rows"),
        ("Ngày,Nội dung,Số tiền\n01/12/2026,x,1\n".encode("utf-16-le") + b"\xff", "UTF-8"),
    ],
)  # fmt: skip
def test_files_in_the_wrong_format_are_refused(data: bytes, problem: str) -> None:
    with pytest.raises(StatementFileError, match=problem):
        statement_parse(data=data)


def test_a_bad_row_refuses_the_whole_file_nothing_applied(
    invoice: Invoice, admin_user: Any, settings: Any
) -> None:
    good = f"01/12/2026,FT1,{invoice.number},,{FULL}"
    data = (
        "Ngày giao dịch,Số tham chiếu,Nội dung,Ghi nợ,Ghi có\n"
        f"{good}\n02/12/2026,FT2,{invoice.number},,một triệu\n"
    ).encode()
    staff = mfa_login(Client(HTTP_HOST="localhost"), admin_user)
    page = staff.post(
        "/console/billing/sao-ke/", {"statement": _upload("saoke.csv", data)}, follow=True
    )
    assert page.status_code == 200
    text = page.content.decode()
    assert "was not imported, nothing was applied" in text and "Row 3" in text
    assert not BankStatementLine.objects.exists() and not Payment.objects.exists()
    refused = staff.post(
        "/console/billing/sao-ke/", {"statement": _upload("saoke.pdf", b"%PDF-1.4")}, follow=True
    ).content.decode()
    assert "is not a CSV or Excel file" in refused


def _upload(name: str, data: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


# --- the bank's webhook --------------------------------------------------------------------


def test_bank_notification_pays_the_invoice_once(invoice: Invoice, bank: FakeBank) -> None:
    booking = bank.transfer(FULL, f"CT tu 0011001234567 UBND TINH QN thanh toan {invoice.number}")
    assert bank.deliveries[-1].status == 200, bank.deliveries[-1].body
    assert json.loads(bank.deliveries[-1].body)["status"] == LineStatus.APPLIED
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID

    # The bank retries the same notification: a duplicate, nothing applied again.
    again = bank.deliver(bank.notification(booking))
    assert again.status == 200 and json.loads(again.body)["status"] == "duplicate"
    assert Payment.objects.filter(invoice=invoice).count() == 1


def test_tampered_replayed_or_foreign_notifications_are_refused(
    invoice: Invoice, bank: FakeBank
) -> None:
    booking = bank.book(FULL, f"TT {invoice.number}")
    body = bank.notification(booking)

    tampered = body.replace(str(FULL).encode(), b"99000000")
    assert bank.deliver(tampered, signature=bank.sign(body)).status == 400
    assert bank.deliver(body, signature=bank.sign(body, secret="not-the-secret")).status == 400
    stale = bank.sign(body, timestamp=int(time.time()) - 3600)  # a captured request, replayed
    replay = bank.deliver(body, signature=stale)
    assert replay.status == 400 and "tolerance" in replay.body
    assert bank.deliver(body, signature="").status == 400
    assert bank.deliver(b"not json", signature=bank.sign(b"not json")).status == 400
    assert not BankStatementLine.objects.exists() and not Payment.objects.exists()

    foreign = json.loads(body)
    foreign["data"]["account_number"] = "9999999999"
    foreign_body = json.dumps(foreign).encode()
    ignored = bank.deliver(foreign_body)
    assert ignored.status == 200 and json.loads(ignored.body)["status"] == "ignored"
    debit = bank.book(-50_000, "phi")
    assert json.loads(bank.deliver(bank.notification(debit)).body)["status"] == "ignored"
    assert not BankStatementLine.objects.exists()
    # The genuine one still goes through.
    assert json.loads(bank.deliver(body).body)["status"] == LineStatus.APPLIED


def test_unmatched_notification_is_queued_for_staff(
    invoice: Invoice, bank: FakeBank, admin_user: Any
) -> None:
    bank.transfer(FULL, "UBND TINH QN chuyen tien")
    assert json.loads(bank.deliveries[-1].body)["status"] == LineStatus.QUEUED
    staff = mfa_login(Client(HTTP_HOST="localhost"), admin_user)
    page = staff.get("/console/billing/sao-ke/").content.decode()
    assert "UBND TINH QN chuyen tien" in page and "names no invoice" in page
    line = BankStatementLine.objects.get()
    done = staff.post(
        f"/console/billing/sao-ke/{line.pk}/",
        {"action": "apply", "invoices": f"hd {invoice.number}", "note": "KT xác nhận"},
        follow=True,
    ).content.decode()
    assert "The transfer was applied to the invoices." in done
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    billing = staff.get("/console/billing/").content.decode()
    assert "Bank statements and transfers to resolve" in billing


def test_webhook_refused_when_not_configured(
    invoice: Invoice, bank: FakeBank, settings: Any
) -> None:
    settings.BANK_WEBHOOK_SECRET = ""
    booking = bank.book(FULL, str(invoice.number))
    delivery = bank.deliver(bank.notification(booking))
    assert delivery.status == 400 and "not configured" in delivery.body
