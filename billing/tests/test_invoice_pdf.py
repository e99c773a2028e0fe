"""The invoice as PDF: the legal e-invoice fields in Vietnamese with the font embedded, to
provider staff and to the billed agency's admin only."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.services import membership_grant
from billing.accounts import subscription_start
from billing.models import Gateway, Invoice, Plan
from billing.tests.gateway_helpers import make_payer, make_plan, this_period
from billing.tests.test_einvoices import issue_for
from tests.fixtures.mfa import mfa_login
from tests.pdftext import embedded_fonts, page_texts


@pytest.fixture
def plan(db: None) -> Plan:
    return make_plan()


def test_the_invoice_pdf_carries_the_legal_fields(
    make_agency: Any, plan: Plan, admin_user: Any, django_user_model: Any
) -> None:
    payer = make_payer("UBND tỉnh Ninh Bình", "2700000001", Gateway.BANK_TRANSFER)
    agency = make_agency("xa-gia-vien", name="Xã Gia Viễn")
    subscription_start(agency=agency, billing_account=payer, starts_on=this_period(timezone.now()))
    not_ours = issue_for(
        make_agency, make_payer("UBND tỉnh Thái Bình", "1000000001", Gateway.BANK_TRANSFER)
    )
    invoice = Invoice.objects.get(billing_account=payer)
    staff = mfa_login(Client(HTTP_HOST="localhost"), admin_user)
    response = staff.get(f"/console/billing/invoices/{invoice.pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert (
        f"1{invoice.series}-{invoice.legal_number_display}.pdf" in response["Content-Disposition"]
    )
    body = b"".join(response.streaming_content)
    assert any("DejaVuSerif" in f for f in embedded_fonts(body))
    text = " ".join(page_texts(body))
    assert "\x00" not in text  # every character has its glyph
    for expected in (
        "HÓA ĐƠN GIÁ TRỊ GIA TĂNG",
        invoice.series,
        invoice.legal_number_display,
        "0109999999",
        "2700000001",
        "UBND tỉnh Ninh Bình",
        "Ba triệu bốn trăm mười nghìn đồng",
        "3.410.000 đ",  # DejaVu Serif has no "₫"
        "Xã Gia Viễn",
    ):
        assert expected in text, expected

    user = django_user_model.objects.create_user(email="qt@giavien.vn", password="x")
    membership_grant(user=user, agency=agency, roles=["admin"])
    admin = mfa_login(Client(HTTP_HOST="xa-gia-vien.localhost"), user)
    assert admin.get(f"/quan-tri/thanh-toan/hoa-don/{invoice.pk}/pdf/").status_code == 200
    assert admin.get(f"/quan-tri/thanh-toan/hoa-don/{not_ours.pk}/pdf/").status_code == 404
