"""Legal e-invoices: VAT and the legal fields on every issued invoice, the tax authority's XML,
signed with the provider's certificate, sent through the e-invoice provider (a stateful fake on
loopback that verifies the signature and grants the tax authority's code), and corrections by
replacement and adjustment invoices referencing the original."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.test import Client
from django.utils import timezone
from lxml import etree

from accounts.services import membership_grant
from billing.accounts import subscription_start
from billing.corrections import AdjustmentLine, invoice_adjust, invoice_replace
from billing.einvoice.services import einvoice_retry, einvoice_send, einvoices_send_due
from billing.einvoice.signing import credentials_load, xml_verify
from billing.einvoice.xml import invoice_xml
from billing.invoicing import credit_note_issue, payment_record
from billing.models import (
    Adjustment,
    BillingAccount,
    EInvoiceStatus,
    EInvoiceTransmission,
    Gateway,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Plan,
)
from billing.pricing import plan_create
from billing.reconciliation import IncomingTransfer, statement_line_receive
from billing.tests.gateway_helpers import close_running_month, make_payer, make_plan, this_period
from billing.vat import series_symbol
from tests.fakes.certificates import SigningIdentity
from tests.fakes.einvoice_provider import FakeEInvoiceProvider
from tests.fixtures.mfa import mfa_login

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def plan(db: None) -> Plan:
    return make_plan()


def issue_for(make_agency: Any, payer: BillingAccount, **agency: Any) -> Invoice:
    subscription_start(
        agency=make_agency(provision=False, **agency),
        billing_account=payer,
        starts_on=this_period(timezone.now()),
    )
    close_running_month(timezone.now())
    return Invoice.objects.get(billing_account=payer, kind=InvoiceKind.ORIGINAL)


def test_issued_invoice_carries_the_legal_fields(make_agency: Any, plan: Plan) -> None:
    payer = make_payer("UBND tỉnh Bắc Ninh", "2300000001", Gateway.BANK_TRANSFER)
    invoice = issue_for(make_agency, payer)
    today = timezone.localdate(invoice.issued_at)
    assert invoice.form_symbol == "1"
    assert invoice.series == series_symbol(today) == f"C{today.year % 100:02d}TAA"
    assert re.fullmatch(r"\d{8}", invoice.legal_number_display)
    assert (invoice.subtotal, invoice.vat_amount, invoice.total) == (3_100_000, 310_000, 3_410_000)
    assert invoice.amount_in_words == "Ba triệu bốn trăm mười nghìn đồng"
    assert invoice.seller_tax_code == "0109999999" and invoice.seller_bank_account
    assert invoice.payer_tax_code == "2300000001"
    assert invoice.einvoice_status == EInvoiceStatus.PENDING
    assert {line.vat_rate for line in invoice.lines.all()} == {"10"}


def test_numbers_are_gapless_per_series_and_a_kct_plan_has_no_vat(
    make_agency: Any, plan: Plan
) -> None:
    exempt = plan_create(
        code="kct", name="Phần mềm — không chịu thuế", agency_kind="department",
        monthly_fee=2_000_000, rates=[], effective_from=this_period(timezone.now()),
        is_default=True, vat_rate="KCT",
    )  # fmt: skip
    payers = [make_payer(f"UBND {i}", f"40000000{i:02d}", Gateway.BANK_TRANSFER) for i in range(3)]
    for payer in payers[:2]:
        subscription_start(agency=make_agency(provision=False), billing_account=payer,
                           starts_on=this_period(timezone.now()))  # fmt: skip
    subscription_start(agency=make_agency(provision=False, kind="department"),
                       billing_account=payers[2], starts_on=this_period(timezone.now()),
                       plan=exempt)  # fmt: skip
    close_running_month(timezone.now())
    invoices = list(Invoice.objects.order_by("legal_number"))
    numbers = [int(i.legal_number or 0) for i in invoices]
    assert numbers == list(range(numbers[0], numbers[0] + 3))
    kct = Invoice.objects.get(billing_account=payers[2])
    assert (kct.subtotal, kct.vat_amount, kct.total) == (2_000_000, 0, 2_000_000)
    assert "<TSuat>KCT</TSuat>" in etree.tostring(invoice_xml(kct), encoding="unicode")


def test_a_plans_vat_rate_changes_the_next_invoices_only(make_agency: Any, plan: Plan) -> None:
    from billing.invoicing import invoices_prepare
    from billing.pricing import plan_vat_rate_set

    payer = make_payer("UBND tỉnh Lào Cai", "5300000001", Gateway.BANK_TRANSFER)
    subscription_start(agency=make_agency(provision=False), billing_account=payer,
                       starts_on=this_period(timezone.now()))  # fmt: skip
    draft = Invoice.objects.get(pk=invoices_prepare(period_start=this_period(timezone.now()))
                                .invoice_ids[0])  # fmt: skip
    assert draft.vat_amount == 310_000
    with pytest.raises(ValidationError, match="Unknown VAT rate"):
        plan_vat_rate_set(plan=plan, vat_rate="7")
    plan_vat_rate_set(plan=plan, vat_rate="KCT", actor_email="kt@motcua.vn")
    redrafted = Invoice.objects.get(
        pk=invoices_prepare(period_start=this_period(timezone.now())).invoice_ids[0]
    )
    assert (redrafted.vat_amount, redrafted.total) == (0, 3_100_000)


def test_xml_signed_sent_and_coded_by_the_tax_authority(
    make_agency: Any, plan: Plan, einvoice_provider: FakeEInvoiceProvider, signing: SigningIdentity
) -> None:
    payer = make_payer("UBND tỉnh Hưng Yên", "0900000001", Gateway.BANK_TRANSFER)
    invoice = issue_for(make_agency, payer, name="Xã Tân Dân")

    assert einvoice_send(invoice_id=invoice.pk) == EInvoiceStatus.ACCEPTED
    invoice.refresh_from_db()
    assert len(invoice.tax_authority_code) == 34
    transmission = EInvoiceTransmission.objects.get(invoice=invoice)
    # The XML is the tax authority's structure, signed over DLHDon by the provider's key.
    signed = xml_verify(transmission.signed_xml.encode(), ca_pem_file=str(signing.ca_pem_path))
    assert signed.findtext("TTChung/KHMSHDon") == "1"
    assert signed.findtext("TTChung/KHHDon") == invoice.series
    assert signed.findtext("TTChung/SHDon") == invoice.legal_number_display
    assert signed.findtext("NDHDon/NBan/MST") == "0109999999"
    assert signed.findtext("NDHDon/NMua/MST") == "0900000001"
    assert signed.findtext("NDHDon/TToan/TgTCThue") == "3100000"
    assert signed.findtext("NDHDon/TToan/TgTThue") == "310000"
    assert signed.findtext("NDHDon/TToan/TgTTTBSo") == "3410000"
    assert signed.findtext("NDHDon/TToan/TgTTTBChu") == "Ba triệu bốn trăm mười nghìn đồng"
    assert "Xã Tân Dân" in (signed.findtext("NDHDon/DSHHDVu/HHDVu/THHDVu") or "")
    assert signed.findtext("NDHDon/DSHHDVu/HHDVu/TSuat") == "10%"
    authority = etree.fromstring(transmission.authority_xml.encode())
    assert authority.findtext("MCCQT") == invoice.tax_authority_code
    assert "PRIVATE KEY" not in transmission.signed_xml

    # Sent again: nothing changes. The code is written once: the database refuses a rewrite.
    assert einvoice_send(invoice_id=invoice.pk) == EInvoiceStatus.ACCEPTED
    assert einvoice_provider.posts == 1
    with pytest.raises(DatabaseError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(tax_authority_code="X" * 34)
    with pytest.raises(DatabaseError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(vat_amount=0)


def test_outage_pending_code_and_a_refusal(
    make_agency: Any, plan: Plan, einvoice_provider: FakeEInvoiceProvider, settings: Any,
    other_ca: SigningIdentity,
) -> None:  # fmt: skip
    first = issue_for(make_agency, make_payer("UBND A", "0800000001", Gateway.BANK_TRANSFER))
    # The provider is down: the invoice waits and is sent again with the same key later.
    einvoice_provider.fail_next(1)
    assert einvoice_send(invoice_id=first.pk).startswith("retry")
    first.refresh_from_db()
    assert first.einvoice_status == EInvoiceStatus.PENDING
    # The tax authority answers later: pending, then coded when asked.
    einvoice_provider.delay_codes = True
    assert einvoices_send_due().outcomes == {first.number: EInvoiceStatus.SENT}
    assert einvoices_send_due().outcomes == {first.number: EInvoiceStatus.ACCEPTED}
    assert einvoice_provider.posts == 2  # one lost to the outage, one accepted: no duplicate
    einvoice_provider.delay_codes = False

    # Signed with a certificate the tax authority does not trust: refused, shown, resent.
    second = issue_for(make_agency, make_payer("UBND B", "0800000002", Gateway.BANK_TRANSFER))
    good = (settings.EINVOICE_SIGNING_P12, settings.EINVOICE_SIGNING_PASSWORD)
    settings.EINVOICE_SIGNING_P12 = str(other_ca.p12_path)
    settings.EINVOICE_SIGNING_PASSWORD = other_ca.password
    assert einvoice_send(invoice_id=second.pk) == EInvoiceStatus.REJECTED
    assert "signature" in EInvoiceTransmission.objects.get(invoice=second).last_error
    with pytest.raises(ValidationError):
        einvoice_retry(invoice=first)
    settings.EINVOICE_SIGNING_P12, settings.EINVOICE_SIGNING_PASSWORD = good
    einvoice_retry(invoice=second)
    assert einvoice_send(invoice_id=second.pk) == EInvoiceStatus.ACCEPTED
    assert einvoice_provider.numbers(second.series) == sorted(
        [int(first.legal_number or 0), int(second.legal_number or 0)]
    )


def test_wrong_certificate_password_is_reported_not_raised(
    make_agency: Any, plan: Plan, einvoice_provider: FakeEInvoiceProvider, settings: Any
) -> None:
    invoice = issue_for(make_agency, make_payer("UBND C", "0800000003", Gateway.BANK_TRANSFER))
    settings.EINVOICE_SIGNING_PASSWORD = "wrong"
    assert "password is wrong" in einvoice_send(invoice_id=invoice.pk)
    assert not EInvoiceTransmission.objects.exists()
    with pytest.raises(Exception, match="password is wrong"):
        credentials_load()


def test_replacement_and_adjustments_reference_the_original(
    make_agency: Any, plan: Plan, einvoice_provider: FakeEInvoiceProvider, signing: SigningIdentity
) -> None:
    payer = make_payer("UBND tỉnh Hà Nam", "0700000001", Gateway.BANK_TRANSFER)
    original = issue_for(make_agency, payer)
    assert einvoice_send(invoice_id=original.pk) == EInvoiceStatus.ACCEPTED

    # Wrong address: the payer is corrected, the invoice replaced; the original is void.
    BillingAccount.objects.filter(pk=payer.pk).update(address="Số 9 Lê Lợi, Phủ Lý, Hà Nam")
    with pytest.raises(ValidationError, match="Say why"):
        invoice_replace(invoice=original, reason=" ")
    replacement = invoice_replace(invoice=original, reason="Sai địa chỉ người mua")
    original.refresh_from_db()
    assert original.status == InvoiceStatus.VOID
    assert replacement.kind == InvoiceKind.REPLACEMENT and replacement.original == original
    assert replacement.payer_address == "Số 9 Lê Lợi, Phủ Lý, Hà Nam"
    assert replacement.total == original.total
    assert replacement.legal_number == original.legal_number + 1  # type: ignore[operator]
    assert einvoice_send(invoice_id=replacement.pk) == EInvoiceStatus.ACCEPTED
    related = _signed(replacement, signing).find("TTChung/TTHDLQuan")
    assert related is not None and related.findtext("TCHDon") == "1"
    assert related.findtext("KHHDCLQuan") == original.series
    assert related.findtext("SHDCLQuan") == original.legal_number_display
    assert related.findtext("NLHDCLQuan") == timezone.localdate(original.issued_at).isoformat()

    # A memo naming the replaced invoice pays its replacement.
    statement_line_receive(
        transfer=IncomingTransfer(booked_on=timezone.localdate(), amount=1_000_000,
                                  memo=f"TT {original.number}", bank_transaction_id="FT77"),
        source="webhook",
    )  # fmt: skip
    replacement.refresh_from_db()
    assert replacement.amount_paid == 1_000_000
    with pytest.raises(ValidationError, match="adjustment invoice instead"):
        invoice_replace(invoice=replacement, reason="lại sai")

    # Overbilled by 200.000 ₫ before VAT: a decrease lowers what is owed.
    decrease = invoice_adjust(
        invoice=replacement, direction=Adjustment.DECREASE,
        lines=[AdjustmentLine(position=1, amount=200_000, description="Giảm phí tháng")],
        reason="Tính thừa phí thuê bao",
    )  # fmt: skip
    replacement.refresh_from_db()
    assert (decrease.subtotal, decrease.vat_amount, decrease.total) == (-200_000, -20_000, -220_000)
    assert decrease.status == InvoiceStatus.PAID and decrease.is_decrease
    assert decrease.amount_in_words == "Hai trăm hai mươi nghìn đồng"
    assert replacement.balance == 3_410_000 - 1_000_000 - 220_000
    assert einvoice_send(invoice_id=decrease.pk) == EInvoiceStatus.ACCEPTED
    signed = _signed(decrease, signing)
    assert signed.findtext("TTChung/TTHDLQuan/TCHDon") == "2"
    assert signed.findtext("TTChung/TTHDLQuan/SHDCLQuan") == replacement.legal_number_display
    assert signed.findtext("NDHDon/TToan/TgTTTBSo") == "-220000"

    # Underbilled: an increase is a new amount to pay, with its own number.
    increase = invoice_adjust(
        invoice=replacement, direction=Adjustment.INCREASE,
        lines=[AdjustmentLine(position=1, amount=50_000)], reason="Thiếu phí",
    )  # fmt: skip
    assert increase.status == InvoiceStatus.ISSUED and increase.total == 55_000
    assert einvoice_send(invoice_id=increase.pk) == EInvoiceStatus.ACCEPTED
    with pytest.raises(ValidationError, match="can still be reduced"):
        invoice_adjust(
            invoice=replacement,
            direction=Adjustment.DECREASE,
            lines=[AdjustmentLine(position=1, amount=99_000_000)],
            reason="x",
        )
    with pytest.raises(ValidationError, match="no such line"):
        invoice_adjust(invoice=replacement, direction=Adjustment.INCREASE,
                       lines=[AdjustmentLine(position=99, amount=1)], reason="x")  # fmt: skip
    with pytest.raises(ValidationError, match="adjustment"):
        invoice_adjust(invoice=increase, direction=Adjustment.INCREASE,
                       lines=[AdjustmentLine(position=1, amount=1)], reason="x")  # fmt: skip
    with pytest.raises(ValidationError, match="cannot take a payment"):
        payment_record(invoice=decrease, amount=1, received_on=timezone.localdate(),
                       reference="FT-X")  # fmt: skip
    assert einvoice_provider.numbers(original.series) == list(
        range(original.legal_number, original.legal_number + 4)  # type: ignore[arg-type, operator]
    )


def test_credit_notes_still_work_for_history(make_agency: Any, plan: Plan) -> None:
    invoice = issue_for(make_agency, make_payer("UBND D", "0600000001", Gateway.BANK_TRANSFER))
    note = credit_note_issue(invoice=invoice, amount=10_000, reason="Cũ")
    invoice.refresh_from_db()
    assert note.number.startswith("GC") and invoice.balance == 3_400_000


def _signed(invoice: Invoice, signing: SigningIdentity) -> Any:
    xml = EInvoiceTransmission.objects.get(invoice=invoice).signed_xml.encode()
    return xml_verify(xml, ca_pem_file=str(signing.ca_pem_path))


# --- the pages: legal fields, VietQR, corrections on the console ----------------------------


def test_invoice_pages_show_the_legal_fields_and_the_vietqr(
    make_agency: Any, plan: Plan, admin_user: Any, django_user_model: Any
) -> None:
    payer = make_payer("UBND tỉnh Ninh Bình", "2700000001", Gateway.BANK_TRANSFER)
    agency = make_agency("xa-gia-vien", name="Xã Gia Viễn")
    subscription_start(agency=agency, billing_account=payer, starts_on=this_period(timezone.now()))
    other = make_payer("UBND tỉnh Thái Bình", "1000000001", Gateway.BANK_TRANSFER)
    not_ours = issue_for(make_agency, other)
    invoice = Invoice.objects.get(billing_account=payer)
    staff = mfa_login(Client(HTTP_HOST="localhost"), admin_user)

    page = staff.get(f"/console/billing/invoices/{invoice.pk}/").content.decode()
    for text in ("VAT INVOICE", "Form symbol", invoice.series, invoice.legal_number_display,
                 "Ba triệu bốn trăm mười nghìn đồng", "0109999999", "2700000001",
                 "Tax authority code", "3.100.000 ₫", "310.000 ₫", "3.410.000 ₫",
                 'class="vietqr"', "<svg", "Issue an adjustment invoice"):  # fmt: skip
        assert text in page, text
    assert "Issue a credit note" not in page

    # The agency's admin sees only invoices that bill the agency.
    user = django_user_model.objects.create_user(email="qt@giavien.vn", password="x")
    membership_grant(user=user, agency=agency, roles=["admin"])
    admin = mfa_login(Client(HTTP_HOST="xa-gia-vien.localhost"), user)
    assert admin.get(f"/quan-tri/thanh-toan/hoa-don/{not_ours.pk}/").status_code == 404
    own = admin.get(f"/quan-tri/thanh-toan/hoa-don/{invoice.pk}/").content.decode()
    assert invoice.legal_number_display in own and 'class="vietqr"' in own
    assert str(invoice.number) in own and "0011004099999" in own  # memo and account
    listing = admin.get("/quan-tri/thanh-toan/").content.decode()
    assert f"/quan-tri/thanh-toan/hoa-don/{invoice.pk}/" in listing

    # Through the console: an increase for the agency's line, then its page and its QR.
    done = staff.post(
        f"/console/billing/invoices/{invoice.pk}/adjust/",
        {"direction": "increase", "position": 1, "amount": "100000", "description": "",
         "reason": "Thiếu phí"},
        follow=True,
    ).content.decode()  # fmt: skip
    assert "The adjustment invoice" in done and "Adjustment invoice (increase)" in done
    refused = staff.post(
        f"/console/billing/invoices/{invoice.pk}/adjust/",
        {"direction": "decrease", "position": 1, "amount": "999999999", "reason": "x"},
        follow=True,
    ).content.decode()
    assert "can still be reduced by" in refused


def test_a_signing_certificate_that_cannot_sign_is_shown_to_staff(
    einvoice_provider: FakeEInvoiceProvider, signing: SigningIdentity, settings: Any,
    admin_user: Any,
) -> None:  # fmt: skip
    """Invoices wait unsent while the certificate cannot sign: the console says why, the
    provider's health check is degraded, and an expiry is told a month ahead."""
    import time_machine

    from billing.einvoice.services import einvoice_signing_problem

    staff = mfa_login(Client(HTTP_HOST="localhost"), admin_user)
    assert einvoice_signing_problem() == ""
    assert "E-invoices cannot be signed" not in staff.get("/console/billing/").content.decode()
    assert Client(HTTP_HOST="localhost").get("/health/").json()["checks"]["einvoice_signing"]["ok"]

    settings.EINVOICE_SIGNING_PASSWORD = "wrong"
    page = staff.get("/console/billing/").content.decode()
    assert "E-invoices cannot be signed" in page and "password is wrong" in page
    health = Client(HTTP_HOST="localhost").get("/health/")
    assert health.status_code == 200 and health.json()["status"] == "degraded"
    assert "password is wrong" in health.json()["checks"]["einvoice_signing"]["error"]

    settings.EINVOICE_SIGNING_PASSWORD = signing.password
    ends = signing.certificate.not_valid_after_utc
    with time_machine.travel(ends - dt.timedelta(days=10), tick=False):
        assert einvoice_signing_problem() == f"the signing certificate expires on {ends:%Y-%m-%d}"
    with time_machine.travel(ends + dt.timedelta(days=1), tick=False):
        assert einvoice_signing_problem() == f"the signing certificate expired on {ends:%Y-%m-%d}"
    settings.EINVOICE_PROVIDER_URL = ""  # no provider: nothing to sign with, nothing to say
    settings.EINVOICE_SIGNING_P12 = ""
    assert einvoice_signing_problem() == ""
