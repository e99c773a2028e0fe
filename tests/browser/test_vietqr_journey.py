"""Issue 14's billing journey: an agency's admin opens the month's invoice (a legal VAT invoice)
and finds a VietQR to pay it by bank transfer; the provider's accountant imports the bank's
statement export on the console, and the invoice is marked paid."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.fakes.bank import FakeBank
from tests.fixtures.mfa import totp_code, totp_enable

pytestmark = pytest.mark.browser
SUBMIT = "main form button[type=submit]:not([form])"


@pytest.fixture
def billed(make_agency: Any) -> dict[str, Any]:
    from allauth.account.models import EmailAddress
    from django.utils import timezone

    from accounts.models import User
    from accounts.services import membership_grant
    from billing.accounts import subscription_start
    from billing.models import Gateway, Invoice
    from billing.tests.gateway_helpers import (
        close_running_month,
        make_payer,
        make_plan,
        this_period,
    )

    make_plan()
    agency = make_agency("xa-an-lac", name="Xã An Lạc", code="AL")
    payer = make_payer("UBND tỉnh Hải Dương", "0800123456", Gateway.BANK_TRANSFER)
    subscription_start(agency=agency, billing_account=payer, starts_on=this_period(timezone.now()))
    close_running_month(timezone.now())
    admin = User.objects.create_user("quantri@anlac.gov.vn", "mat-khau-quan-tri-2026")
    EmailAddress.objects.create(user=admin, email=admin.email, verified=True, primary=True)
    membership_grant(user=admin, agency=agency, roles=["admin"])
    staff = User.objects.create_user("ketoan@motcua.vn", "mat-khau-ke-toan-2026", is_staff=True)
    EmailAddress.objects.create(user=staff, email=staff.email, verified=True, primary=True)
    return {
        "invoice": Invoice.objects.get(billing_account=payer),
        "admin_totp": totp_enable(admin),
        "staff_totp": totp_enable(staff),
    }


def sign_in(page: Any, start: str, login: str, password: str, secret: str, then: str) -> None:
    page.goto(start)
    page.wait_for_url(re.compile(r".*/accounts/login/.*"))
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill(password)
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r".*/accounts/2fa/authenticate/.*"))
    page.locator("input[name=code]").fill(totp_code(secret))
    page.locator(SUBMIT).first.click()
    page.wait_for_url(re.compile(then))


def test_agency_sees_a_vietqr_and_the_statement_import_marks_the_invoice_paid(
    browser: Any, live_server: Any, billed: dict[str, Any], settings: Any, tmp_path: Any
) -> None:
    from billing.vietqr import vietqr_parse

    invoice = billed["invoice"]
    port = urlsplit(live_server.url).port
    portal = f"http://xa-an-lac.localhost:{port}"
    agency_page = browser.new_context(locale="vi-VN", viewport={"width": 390, "height": 844})
    agency_page.set_default_timeout(15_000)
    page = agency_page.new_page()

    # The agency's admin opens the invoice from the subscription page.
    sign_in(page, portal + "/quan-tri/thanh-toan/", "quantri@anlac.gov.vn",
            "mat-khau-quan-tri-2026", billed["admin_totp"], r".*/thanh-toan/$")  # fmt: skip
    page.locator(f"a[href='/quan-tri/thanh-toan/hoa-don/{invoice.pk}/']").click()
    page.wait_for_url(re.compile(rf".*/hoa-don/{invoice.pk}/$"))
    assert page.locator(".invoice-number").inner_text() == invoice.legal_number_display
    qr = page.locator(".vietqr svg")
    qr.wait_for()
    assert qr.is_visible() and qr.bounding_box()["width"] >= 100
    assert page.locator(".vietqr-memo").inner_text() == invoice.number
    payload = _payload(invoice)
    assert vietqr_parse(payload).amount == invoice.total == 3_410_000

    # The province's treasury pays by transfer; the bank's export arrives at the provider.
    bank = FakeBank(account_number=settings.BILLING_SELLER["bank_account"], secret="unused")
    bank.book(
        invoice.total, f"KBNN HAI DUONG CHUYEN TIEN TT HOA DON {invoice.number} MST 0800123456"
    )
    statement = tmp_path / "sao-ke-thang.csv"
    statement.write_bytes(bank.statement_csv())

    console = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
    console.set_default_timeout(15_000)
    staff = console.new_page()
    public = f"http://localhost:{port}"
    sign_in(staff, f"{public}/accounts/login/?next=/console/billing/sao-ke/", "ketoan@motcua.vn",
            "mat-khau-ke-toan-2026", billed["staff_totp"], r".*/sao-ke/$")  # fmt: skip
    staff.locator("input[name=statement]").set_input_files(str(statement))
    staff.locator("form[enctype] button[type=submit]").click()
    staff.locator(".msg-success").wait_for()
    assert staff.locator(".badge-line-applied").count() == 1

    # The invoice is paid: no QR any more.
    page.reload()
    page.locator(".badge-paid").first.wait_for()
    assert page.locator(".vietqr").count() == 0
    assert page.locator(".invoice-balance").inner_text().startswith("0")
    agency_page.close()
    console.close()


def _payload(invoice: Any) -> str:
    from billing.selectors import invoice_payment_qr

    qr = invoice_payment_qr(invoice=invoice)
    assert qr is not None
    return qr.payload
