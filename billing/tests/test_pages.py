"""Billing pages: who may see them, what they show, and bad input on the provider's forms."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from accounts.services import membership_grant
from billing.accounts import billing_account_create, subscription_start
from billing.invoicing import billing_month_close
from billing.models import Invoice, Metric, Payment
from billing.pricing import RateInput, plan_create
from billing.services import usage_record
from tests.fixtures.mfa import mfa_login

HOST = "xa-an-binh.localhost"


@pytest.fixture
def billed(commune: Any, make_agency: Any) -> dict[str, Any]:
    plan_create(
        code="xa", name="Xã tiêu chuẩn", agency_kind="commune", monthly_fee=1_500_000,
        rates=[RateInput(metric=Metric.DOSSIER_RECEIVED, included=Decimal(5), unit_price=2_000)],
        effective_from=dt.date(2026, 1, 1), is_default=True,
    )  # fmt: skip
    payer = billing_account_create(
        name="UBND TP Hải Phòng", tax_code="0200000002", address="Hải Phòng", email="kt@example.vn"
    )
    neighbour = make_agency("xa-ben-canh", name="Xã Bên Cạnh")
    other_payer = billing_account_create(
        name="UBND Khác", tax_code="0300000002", address="x", email="khac@example.vn"
    )
    subscription_start(agency=commune, billing_account=payer, starts_on=dt.date(2026, 9, 1))
    subscription_start(agency=neighbour, billing_account=other_payer, starts_on=dt.date(2026, 9, 1))
    now = timezone.now()
    with transaction.atomic():
        for i in range(8):
            usage_record(agency=commune, metric=Metric.DOSSIER_RECEIVED, occurred_at=now,
                         idempotency_key=f"page-{i}")  # fmt: skip
    billing_month_close(period_start=dt.date(2026, 10, 1))
    return {
        "commune": commune,
        "neighbour": neighbour,
        "invoice": Invoice.objects.get(billing_account=payer),
        "other_invoice": Invoice.objects.get(billing_account=other_payer),
    }


def admin_of(agency: Any, django_user_model: Any, email: str) -> Client:
    user = django_user_model.objects.create_user(email=email, password="x")
    membership_grant(user=user, agency=agency, roles=["admin"])
    client = Client(HTTP_HOST=f"{agency.slug}.localhost")
    mfa_login(client, user)
    return client


@pytest.mark.django_db
def test_agency_admin_sees_own_usage_projection_and_invoice_share(
    billed: Any, django_user_model: Any, citizen: Any
) -> None:
    assert Client(HTTP_HOST=HOST).get("/quan-tri/thanh-toan/").status_code == 302
    as_citizen = Client(HTTP_HOST=HOST)
    as_citizen.force_login(citizen)
    assert as_citizen.get("/quan-tri/thanh-toan/").status_code == 403

    page = admin_of(billed["commune"], django_user_model, "qt@example.vn").get(
        "/quan-tri/thanh-toan/"
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "Xã tiêu chuẩn" in html and "UBND TP Hải Phòng" in html
    assert billed["invoice"].number in html
    assert billed["other_invoice"].number not in html
    assert "<svg" in html  # the daily chart
    assert page.context["summary"].metrics[0].used == 8

    neighbour_page = admin_of(billed["neighbour"], django_user_model, "qt2@example.vn").get(
        "/quan-tri/thanh-toan/"
    )
    assert billed["invoice"].number not in neighbour_page.content.decode()


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_provider_records_payment_and_bad_input_changes_nothing(
    billed: Any, django_user_model: Any, admin_user: Any
) -> None:
    invoice = billed["invoice"]
    anonymous = Client(HTTP_HOST="localhost")
    assert anonymous.get("/console/billing/").status_code == 302
    staff = Client(HTTP_HOST="localhost")
    mfa_login(staff, admin_user)
    overview = staff.get("/console/billing/").content.decode()
    assert invoice.number in overview and "<svg" in overview
    assert invoice.number in staff.get(f"/console/billing/invoices/{invoice.pk}/").content.decode()

    url = f"/console/billing/invoices/{invoice.pk}/payment/"
    too_much = staff.post(url, {"amount": invoice.total + 1, "received_on": "2026-11-20",
                                "reference": "FT9"}, follow=True)  # fmt: skip
    assert "balance" in too_much.content.decode()
    broken = staff.post(
        url, {"amount": "abc", "received_on": "20/11", "reference": ""}, follow=True
    )
    assert "Enter a whole number" in broken.content.decode()
    assert not Payment.objects.exists()

    staff.post(url, {"amount": invoice.total, "received_on": "2026-11-20", "reference": "FT9"})
    invoice.refresh_from_db()
    assert invoice.status == "paid"
