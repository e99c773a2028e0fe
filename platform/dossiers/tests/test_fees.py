"""Paying a dossier's fee online (Stripe Checkout in VND, via the gateway interface): the portal
button, the signed webhook coming back to the right agency, amounts checked, replays harmless."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from billing.models import BillingEvent, WebhookEvent, WebhookStatus
from billing.webhooks import webhook_event_process
from dossiers.models import Dossier, DossierEvent, FeePayment, FeePaymentStatus
from lifecycle.fees import fee_checkout_start
from lifecycle.submit import Applicant, dossier_submit
from procedures.models import AgencyProcedure
from tenants.context import agency_context
from tests.fakes.stripe_server import FakeStripe

HOST = "xa-an-binh.localhost"
FEE = 50_000
BIRTH = {
    "child_full_name": "Nguyễn Văn B",
    "child_birth_date": "2026-11-20",
    "child_sex": "Nam",
    "birth_place": "Trạm y tế xã",
}
pytestmark = pytest.mark.django_db


@pytest.fixture
def dossier(commune: Any, citizen: Any) -> Dossier:
    from tests.files import pdf, png

    with agency_context(commune):
        birth = AgencyProcedure.objects.get(code="S-HT-001")
        result = dossier_submit(
            agency=commune,
            procedure=birth,
            applicant=Applicant.from_user(citizen),
            form_data=BIRTH,
            files={0: [pdf()], 1: [png("giay-chung-sinh.png")]},
            received_at=dt.datetime(2026, 11, 23, 9, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")),
        )
        Dossier.objects.filter(pk=result.dossier.pk).update(fee_amount=FEE)
        return Dossier.objects.get(pk=result.dossier.pk)


def deliver(fake: FakeStripe, event: dict[str, Any]) -> str:
    body = json.dumps(event)
    response = Client().post(
        "/billing/stripe/webhook/", data=body, content_type="application/json",
        HTTP_STRIPE_SIGNATURE=fake.sign(body),
    )  # fmt: skip
    assert response.status_code == 200
    return webhook_event_process(event_id=WebhookEvent.objects.get(event_id=event["id"]).pk)


def test_portal_button_leads_to_checkout_and_the_webhook_marks_it_paid(
    commune: Any, citizen: Any, dossier: Dossier, fake_stripe: FakeStripe
) -> None:
    client = Client(HTTP_HOST=HOST)
    client.force_login(citizen)
    page = client.get(f"/ho-so-cua-toi/{dossier.code}/")
    assert f"/ho-so-cua-toi/{dossier.code}/nop-phi/" in page.text

    response = client.post(f"/ho-so-cua-toi/{dossier.code}/nop-phi/")
    assert response.status_code == 302
    assert response["Location"].startswith("https://checkout.stripe.com/")
    again = client.post(f"/ho-so-cua-toi/{dossier.code}/nop-phi/")
    assert again["Location"] == response["Location"]  # the same session, not a second one
    with agency_context(commune):
        payment = FeePayment.objects.get()
    session = fake_stripe.objects["checkout.session"][payment.remote_id]
    assert session["amount_total"] == FEE and session["currency"] == "vnd"
    assert session["metadata"] == {
        "agency": commune.schema_name,
        "dossier": dossier.code,
        "reference": f"{commune.schema_name}:{dossier.code}:1",
    }

    fake_stripe.checkout_complete(payment.remote_id)
    (completed,) = fake_stripe.events_of("checkout.session.completed")
    assert deliver(fake_stripe, completed) == WebhookStatus.PROCESSED
    assert deliver(fake_stripe, completed) == WebhookStatus.PROCESSED  # a replay: no-op

    with agency_context(commune):
        paid = Dossier.objects.get(pk=dossier.pk)
        assert paid.fee_paid
        assert FeePayment.objects.get().status == FeePaymentStatus.PAID
        assert DossierEvent.objects.filter(dossier=paid, action="fee_paid_online").count() == 1
        with pytest.raises(ValidationError):
            fee_checkout_start(dossier=paid, success_url="https://a/", cancel_url="https://a/")
    page = client.get(f"/ho-so-cua-toi/{dossier.code}/")
    assert f"/ho-so-cua-toi/{dossier.code}/nop-phi/" not in page.text


def test_wrong_amount_is_flagged_and_another_agency_is_never_touched(
    commune: Any, make_agency: Any, dossier: Dossier, fake_stripe: FakeStripe
) -> None:
    other = make_agency("phuong-khac", name="Phường Khác")
    with agency_context(commune):
        payment = fee_checkout_start(
            dossier=dossier, success_url="https://a/", cancel_url="https://a/"
        )
    session = fake_stripe.checkout_complete(payment.remote_id)

    # The same session claimed for another agency: that agency has no such payment.
    elsewhere = fake_stripe.emit(
        "checkout.session.completed",
        {**session, "metadata": {**session["metadata"], "agency": other.schema_name}},
    )
    assert deliver(fake_stripe, elsewhere) == WebhookStatus.IGNORED
    # Less than the fee: flagged, never applied.
    short = fake_stripe.emit("checkout.session.completed", {**session, "amount_total": FEE - 1})
    assert deliver(fake_stripe, short) == WebhookStatus.FLAGGED
    flag = BillingEvent.objects.get(event="fee_amount_mismatch")
    assert flag.detail["agency"] == commune.schema_name and flag.detail["amount"] == FEE - 1

    with agency_context(commune):
        assert not Dossier.objects.get(pk=dossier.pk).fee_paid
        assert FeePayment.objects.get().status == FeePaymentStatus.FLAGGED
    with agency_context(other):
        assert not FeePayment.objects.exists()


def test_no_fee_nothing_to_pay(commune: Any, dossier: Dossier, fake_stripe: FakeStripe) -> None:
    with agency_context(commune):
        Dossier.objects.filter(pk=dossier.pk).update(fee_amount=0)
        with pytest.raises(ValidationError):
            fee_checkout_start(
                dossier=Dossier.objects.get(pk=dossier.pk),
                success_url="https://a/",
                cancel_url="https://a/",
            )
    assert not fake_stripe.objects["checkout.session"]
