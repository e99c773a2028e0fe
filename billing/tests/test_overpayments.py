"""Every payment that arrives is recorded: paid twice (a transfer, then a card on Stripe) gives
two payments and an overpayment flagged for staff, who resolve it in the console (refund
recorded, or credited to the payer's next invoice), audited."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from billing.accounts import subscription_start
from billing.gateways import gateway_for
from billing.gateways.bank_transfer import bank_reconciliation, bank_transfer_record
from billing.invoicing import billing_month_close, previous_period
from billing.models import (
    BillingEvent,
    Gateway,
    Invoice,
    InvoiceStatus,
    Overpayment,
    OverpaymentStatus,
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
from billing.webhooks import webhook_event_process
from tests.fakes.stripe_server import FakeStripe
from tests.fixtures.mfa import mfa_login

pytestmark = pytest.mark.usefixtures("english")
WEBHOOK = "/billing/stripe/webhook/"


@pytest.fixture
def plan(db: None) -> Plan:
    return make_plan()


def deliver(client: Client, fake: FakeStripe, event: dict[str, Any]) -> None:
    body = json.dumps(event)
    response = client.post(
        WEBHOOK, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=fake.sign(body)
    )
    assert response.status_code == 200


def process_all() -> dict[str, str]:
    return {
        e.event_type: webhook_event_process(event_id=e.pk)
        for e in WebhookEvent.objects.order_by("id")
    }


def staff_client(admin_user: Any) -> Client:
    staff = Client(HTTP_HOST="localhost")
    mfa_login(staff, admin_user)
    return staff


def test_paid_by_transfer_then_by_card_records_both_and_flags_the_excess(
    make_agency: Any, plan: Plan, fake_stripe: FakeStripe, admin_user: Any
) -> None:
    moment = timezone.now() - dt.timedelta(minutes=5)
    payer = make_payer("UBND tỉnh X", "0101234567")
    agency = make_agency(provision=False)
    subscribe(agency, payer, moment)
    record_usage(agency, moment, 8)  # 3 over the included 5
    close_running_month(moment)
    invoice = Invoice.objects.get(billing_account=payer)
    gateway_for(payer).invoice_send(invoice=invoice)
    invoice.refresh_from_db()

    # The province's treasury pays by transfer; the same morning its accountant also pays the
    # Stripe copy by card, before Stripe heard of the transfer (out of band).
    bank_transfer_record(
        invoice=invoice, amount=invoice.total, received_on=timezone.localdate(),
        reference="FT26336001", actor_email="ketoan@provider.vn",
    )  # fmt: skip
    fake_stripe.invoice_pay(invoice.stripe_invoice_id)
    web = Client(HTTP_HOST="localhost")
    paid_events = fake_stripe.events_of("invoice.paid", "invoice.payment_succeeded")
    for event in paid_events * 2:  # each delivered twice
        deliver(web, fake_stripe, event)
    outcome = process_all()

    invoice.refresh_from_db()
    payments = sorted(Payment.objects.filter(invoice=invoice).values_list("gateway", "amount"))
    assert payments == sorted([(Gateway.BANK_TRANSFER, invoice.total),
                               (Gateway.STRIPE, invoice.total)])  # fmt: skip
    assert invoice.status == InvoiceStatus.PAID and invoice.amount_paid == invoice.total
    (excess,) = Overpayment.objects.all()
    assert excess.amount == invoice.total and excess.status == OverpaymentStatus.OPEN
    assert excess.payment.gateway == Gateway.STRIPE
    assert excess.payment.reference == invoice.stripe_invoice_id
    assert outcome["invoice.paid"] == WebhookStatus.FLAGGED  # for staff, in the webhook log too
    assert outcome["invoice.payment_succeeded"] == WebhookStatus.PROCESSED  # the same payment
    assert BillingEvent.objects.filter(event="overpayment_flagged", invoice=invoice).count() == 1
    assert bank_reconciliation().mismatched == []  # the excess is kept apart, not applied

    # Provider staff see it on the billing page and record the refund they made.
    staff = staff_client(admin_user)
    page = staff.get("/console/billing/").content.decode()
    assert "Overpayments to resolve" in page and str(invoice.number) in page
    assert "3.106.000 ₫" in page  # 3.100.000 fee + 3 dossiers over the included 5
    url = f"/console/billing/overpayments/{excess.pk}/resolve/"
    refused = staff.post(url, {"action": "refund", "note": " "}, follow=True)
    assert "Say how the money was refunded" in refused.content.decode()
    staff.post(url, {"action": "refund", "note": "Hoàn tiền thẻ trên Stripe: re_3Q9xyz"})
    excess.refresh_from_db()
    assert excess.status == OverpaymentStatus.REFUNDED
    assert excess.resolved_by_email == admin_user.email
    audit = BillingEvent.objects.get(event="overpayment_refunded")
    assert audit.actor_email == admin_user.email and "re_3Q9xyz" in audit.detail["note"]
    again = staff.post(url, {"action": "credit"}, follow=True)
    assert "already resolved" in again.content.decode()
    assert Overpayment.objects.get().status == OverpaymentStatus.REFUNDED


def test_a_second_transfer_is_credited_to_the_next_invoice(
    make_agency: Any, plan: Plan, admin_user: Any
) -> None:
    last = previous_period(timezone.localdate())
    before = previous_period(last)
    payer = make_payer("UBND tỉnh Z", "0301234567", Gateway.BANK_TRANSFER)
    subscription_start(agency=make_agency(provision=False), billing_account=payer, starts_on=before)
    billing_month_close(period_start=before)
    first = Invoice.objects.get(billing_account=payer, period_start=before)
    staff = staff_client(admin_user)
    pay = f"/console/billing/invoices/{first.pk}/payment/"
    today = timezone.localdate().isoformat()
    staff.post(pay, {"amount": first.total, "received_on": today, "reference": "FT1"})
    # The treasury sends the same transfer again. Typed in without confirming: refused.
    refused = staff.post(pay, {"amount": first.total, "received_on": today, "reference": "FT2"},
                         follow=True).content.decode()  # fmt: skip
    assert "already settled" in refused and "overpayment" in refused
    assert Payment.objects.count() == 1
    staff.post(pay, {"amount": first.total, "received_on": today, "reference": "FT2",
                     "allow_overpayment": "on"})  # fmt: skip
    (excess,) = Overpayment.objects.all()
    assert excess.amount == first.total and excess.payment.reference == "FT2"
    assert bank_reconciliation().mismatched == []

    staff.post(f"/console/billing/overpayments/{excess.pk}/resolve/", {"action": "credit"})
    excess.refresh_from_db()
    assert excess.status == OverpaymentStatus.CREDIT  # no later invoice yet: it waits
    assert "Waiting for the payer" in staff.get("/console/billing/").content.decode()

    billing_month_close(period_start=last)
    second = Invoice.objects.get(billing_account=payer, period_start=last)
    assert second.status == InvoiceStatus.PAID and second.amount_paid == second.total
    (carried,) = Payment.objects.filter(invoice=second)
    assert carried.carried_from == excess and carried.amount == second.total
    excess.refresh_from_db()
    assert excess.applied == second.total == first.total
    assert excess.status == OverpaymentStatus.APPLIED
    events = set(BillingEvent.objects.values_list("event", flat=True))
    assert {"overpayment_flagged", "overpayment_credited", "overpayment_applied"} <= events
    assert BillingEvent.objects.get(event="overpayment_credited").actor_email == admin_user.email
    assert bank_reconciliation().mismatched == []
    sheet = staff.get(f"/console/billing/invoices/{second.pk}/").content.decode()
    assert f"credit carried from {first.number}" in sheet
