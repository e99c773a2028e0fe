"""Stripe webhooks: signature on the raw body, stored once, out-of-order and replay safety,
unknown types ignored, amounts that do not match flagged (money received is still recorded)."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from billing.gateways import gateway_for
from billing.models import (
    BillingEvent,
    Gateway,
    GatewayObject,
    Invoice,
    InvoiceStatus,
    Payment,
    Plan,
    WebhookEvent,
    WebhookStatus,
)
from billing.tests.gateway_helpers import (
    close_running_month,
    make_payer,
    make_plan,
    record_usage,
    subscribe,
)
from billing.webhooks import webhook_event_process, webhook_events_due
from tests.fakes.stripe_server import FakeStripe
from tests.fixtures.mfa import mfa_login

URL = "/billing/stripe/webhook/"


@pytest.fixture
def plan(db: None) -> Plan:
    return make_plan()


def post(client: Client, fake: FakeStripe, event: dict[str, Any], **kw: Any) -> Any:
    body = kw.pop("body", None) or json.dumps(event)
    signature = kw.pop("signature", None) or fake.sign(body)
    return client.post(URL, data=body, content_type="application/json",
                       HTTP_STRIPE_SIGNATURE=signature)  # fmt: skip


def process_all() -> dict[str, str]:
    return {
        e.event_id: webhook_event_process(event_id=e.pk)
        for e in WebhookEvent.objects.order_by("id")
    }


@pytest.fixture
def sent_invoice(make_agency: Any, plan: Plan, fake_stripe: FakeStripe) -> Invoice:
    moment = timezone.now() - dt.timedelta(minutes=5)
    payer = make_payer("UBND tỉnh X", "0101234567")
    agency = make_agency(provision=False)
    subscribe(agency, payer, moment)
    record_usage(agency, moment, 9)
    close_running_month(moment)
    invoice = Invoice.objects.get(billing_account=payer)
    gateway_for(payer).invoice_send(invoice=invoice)
    invoice.refresh_from_db()
    return invoice


@pytest.mark.usefixtures("english")
def test_bad_signatures_are_refused_and_nothing_is_stored(
    db: None, client: Client, fake_stripe: FakeStripe
) -> None:
    event = fake_stripe.emit("invoice.paid", {"id": "in_x", "object": "invoice"})
    body = json.dumps(event)
    tampered = body.replace("in_x", "in_y")
    old = fake_stripe.sign(body, timestamp=int(time.time()) - 3600)
    for kwargs in (
        {"body": tampered, "signature": fake_stripe.sign(body)},  # body changed after signing
        {"signature": fake_stripe.sign(body, secret="whsec_someone_else")},
        {"signature": old},  # replayed outside the tolerance
        {"signature": "t=1,v0=abc"},
    ):
        response = post(client, fake_stripe, event, **kwargs)
        assert response.status_code == 400
        assert b"signature is invalid" in response.content
    assert client.post(URL, data=body, content_type="application/json").status_code == 400
    assert client.get(URL).status_code == 405
    assert WebhookEvent.objects.count() == 0


def test_unknown_types_are_stored_and_ignored_and_replays_stored_once(
    db: None, client: Client, fake_stripe: FakeStripe
) -> None:
    event = fake_stripe.emit("radar.early_fraud_warning.created", {"id": "issfr_1"})
    for _ in range(3):
        response = post(client, fake_stripe, event)
        assert response.status_code == 200
    stored = WebhookEvent.objects.get()
    assert stored.event_id == event["id"] and stored.deliveries == 3
    assert process_all() == {event["id"]: WebhookStatus.IGNORED}
    assert post(client, fake_stripe, event).json()["queued"] is False  # already handled


def test_paid_before_finalized_replayed_twice_applies_once(
    client: Client, fake_stripe: FakeStripe, sent_invoice: Invoice
) -> None:
    fake_stripe.invoice_pay(sent_invoice.stripe_invoice_id)
    events = [e for e in fake_stripe.events if e["type"].startswith("invoice.")]
    assert [e["type"] for e in events] == [
        "invoice.created", "invoice.finalized", "invoice.sent", "invoice.paid",
        "invoice.payment_succeeded",
    ]  # fmt: skip
    for event in reversed(events):  # newest first: paid arrives before finalized
        assert post(client, fake_stripe, event).status_code == 200
        webhook_event_process(event_id=WebhookEvent.objects.get(event_id=event["id"]).pk)
    for event in events:  # and everything once more
        assert post(client, fake_stripe, event).status_code == 200

    invoice = Invoice.objects.get(pk=sent_invoice.pk)
    assert invoice.status == InvoiceStatus.PAID and invoice.amount_paid == invoice.total
    (payment,) = Payment.objects.filter(invoice=invoice)
    assert payment.gateway == Gateway.STRIPE and payment.amount == invoice.total
    assert payment.reference == sent_invoice.stripe_invoice_id
    state = GatewayObject.objects.get(kind="invoice", key=str(invoice.pk))
    assert state.state == "paid"  # the late "finalized"/"sent"/"created" never regressed it
    statuses = dict(WebhookEvent.objects.values_list("event_id", "status"))
    assert set(statuses.values()) == {WebhookStatus.PROCESSED}
    assert WebhookEvent.objects.filter(deliveries=2).count() == len(events)
    assert "stale" in WebhookEvent.objects.get(event_id=events[1]["id"]).error
    assert process_all() == statuses  # processing again changes nothing


def test_amount_that_does_not_match_is_recorded_as_received_and_flagged(
    client: Client, fake_stripe: FakeStripe, sent_invoice: Invoice
) -> None:
    fake_stripe.invoice_pay(sent_invoice.stripe_invoice_id, amount=sent_invoice.total - 100_000)
    (paid,) = fake_stripe.events_of("invoice.paid")
    post(client, fake_stripe, paid)
    assert process_all() == {paid["id"]: WebhookStatus.FLAGGED}

    # The money Stripe collected is recorded (never dropped); what is still owed stays owed.
    invoice = Invoice.objects.get(pk=sent_invoice.pk)
    assert invoice.status == InvoiceStatus.ISSUED
    assert invoice.amount_paid == sent_invoice.total - 100_000 and invoice.balance == 100_000
    (payment,) = Payment.objects.filter(invoice=invoice)
    assert payment.gateway == Gateway.STRIPE and payment.amount == sent_invoice.total - 100_000
    flag = BillingEvent.objects.get(invoice=invoice, event="gateway_amount_mismatch")
    assert flag.detail["reason"] == "amount_paid"
    assert flag.detail["theirs"] == sent_invoice.total - 100_000


def test_other_currency_or_total_is_flagged(
    client: Client, fake_stripe: FakeStripe, sent_invoice: Invoice
) -> None:
    remote = fake_stripe.objects["invoice"][sent_invoice.stripe_invoice_id]
    remote["total"] = sent_invoice.total + 1
    fake_stripe.invoice_pay(sent_invoice.stripe_invoice_id)
    (paid,) = fake_stripe.events_of("invoice.paid")
    usd = fake_stripe.emit("invoice.voided", {**remote, "currency": "usd", "status": "void"})
    post(client, fake_stripe, paid)
    post(client, fake_stripe, usd)
    assert set(process_all().values()) == {WebhookStatus.FLAGGED}
    reasons = set(
        BillingEvent.objects.filter(event="gateway_amount_mismatch").values_list(
            "detail__reason", flat=True
        )
    )
    assert reasons == {"total", "currency"}
    # Stripe collected the amount due (ours): recorded, though its copy's total is flagged.
    invoice = Invoice.objects.get(pk=sent_invoice.pk)
    assert invoice.status == InvoiceStatus.PAID and invoice.amount_paid == sent_invoice.total


def test_a_failing_event_is_kept_for_retry(client: Client, fake_stripe: FakeStripe,
                                           sent_invoice: Invoice) -> None:  # fmt: skip
    broken = fake_stripe.emit(
        "invoice.updated", {"id": sent_invoice.stripe_invoice_id, "status": "exploded"}
    )
    post(client, fake_stripe, broken)
    stored = WebhookEvent.objects.get(event_id=broken["id"])
    assert webhook_event_process(event_id=stored.pk) == WebhookStatus.FAILED
    stored.refresh_from_db()
    assert stored.attempts == 1 and "exploded" in stored.error
    WebhookEvent.objects.filter(pk=stored.pk).update(
        received_at=timezone.now() - dt.timedelta(hours=1)
    )
    assert webhook_events_due() == [stored.pk]


def test_provider_staff_see_events_read_only(
    admin_client: Client, admin_user: Any, fake_stripe: FakeStripe
) -> None:
    mfa_login(admin_client, admin_user)  # provider staff use two-factor sign-in
    event = fake_stripe.emit("invoice.paid", {"id": "in_unknown", "object": "invoice"})
    post(admin_client, fake_stripe, event)
    page = admin_client.get("/admin/billing/webhookevent/")
    assert page.status_code == 200 and event["id"] in page.text
    stored = WebhookEvent.objects.get()
    assert admin_client.get(f"/admin/billing/webhookevent/{stored.pk}/change/").status_code == 200
    assert admin_client.get("/admin/billing/webhookevent/add/").status_code == 403
