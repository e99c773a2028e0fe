"""The gateway plugins against the stateful fake Stripe server: customers, subscriptions,
meter events from the outbox, send_invoice invoices in VND, out-of-band payments, citizen fees,
bank transfers and their reconciliation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from billing.gateways import GatewayError, gateway_for, gateway_get
from billing.gateways.bank_transfer import StatementLine, bank_reconciliation, bank_transfer_record
from billing.gateways.stripe import StripeGateway, meter_event_name, meter_value
from billing.models import (
    BillingEvent,
    Gateway,
    GatewayObject,
    Invoice,
    InvoiceStatus,
    MeterEventOutbox,
    Metric,
    OutboxStatus,
    Plan,
    Subscription,
)
from billing.outbox import meter_events_push, meter_outbox_fill
from billing.tests.gateway_helpers import (
    close_running_month,
    ledger_total,
    make_payer,
    make_plan,
    record_usage,
    subscribe,
    this_period,
)
from tests.fakes.stripe_server import FakeStripe


@pytest.fixture
def plan(db: None) -> Plan:
    return make_plan()


@pytest.fixture
def moment() -> dt.datetime:
    return timezone.now() - dt.timedelta(minutes=5)


def test_registry_gives_each_account_its_rail(db: None, fake_stripe: FakeStripe) -> None:
    card = make_payer("UBND tỉnh Stripe", "0101234567")
    transfer = make_payer("UBND tỉnh Chuyển khoản", "0107654321", Gateway.BANK_TRANSFER)
    assert isinstance(gateway_for(card), StripeGateway)
    assert gateway_for(transfer).code == Gateway.BANK_TRANSFER
    with pytest.raises(GatewayError):
        gateway_get("paypal")
    with pytest.raises(GatewayError):
        gateway_for(transfer).fee_payment_create(
            amount=50_000, description="Lệ phí", reference="x", success_url="https://a/",
            cancel_url="https://a/", metadata={},
        )  # fmt: skip


def test_customer_and_subscription_sync_in_vnd(
    make_agency: Any, plan: Plan, fake_stripe: FakeStripe, moment: dt.datetime
) -> None:
    payer = make_payer("UBND tỉnh Stripe", "0101234567")
    agency = make_agency(provision=False)
    subscribe(agency, payer, moment)
    subscription = Subscription.objects.get(agency=agency)
    gateway = gateway_for(payer)

    remote_id = gateway.subscription_sync(subscription=subscription)
    again = gateway.subscription_sync(subscription=Subscription.objects.get(pk=subscription.pk))

    assert remote_id == again and remote_id.startswith("sub_")
    payer.refresh_from_db()
    (customer,) = fake_stripe.objects["customer"].values()
    assert payer.stripe_customer_id == customer["id"]
    assert customer["name"] == "UBND tỉnh Stripe"
    assert customer["metadata"]["tax_code"] == "0101234567"
    sub = fake_stripe.objects["subscription"][remote_id]
    assert sub["collection_method"] == "send_invoice"
    assert sub["pause_collection"] == {"behavior": "void"}  # Stripe never bills on its own
    prices = [item["price"] for item in sub["items"]["data"]]
    assert {p["currency"] for p in prices} == {"vnd"}
    fee = next(p for p in prices if p["recurring"]["usage_type"] == "licensed")
    assert fee["unit_amount"] == 3_100_000  # zero-decimal: 3.100.000 ₫
    metered = {p["recurring"]["meter"] for p in prices if p["recurring"]["usage_type"] == "metered"}
    assert len(metered) == 3 and len(fake_stripe.objects["billing.meter"]) == 3
    storage = next(p for p in prices if p["nickname"].endswith(Metric.STORAGE_GB_DAY))
    assert storage["tiers"][0] == {**storage["tiers"][0], "up_to": 10_000, "unit_amount": 0}
    assert len(fake_stripe.objects["customer"]) == 1
    assert len(fake_stripe.objects["subscription"]) == 1
    # A lost mapping (a restored database): the existing meter is adopted, not duplicated.
    GatewayObject.objects.filter(kind="meter").delete()
    fake_stripe.idempotency.clear()  # and Stripe's idempotency keys have expired
    assert StripeGateway().meter_ensure(metric=Metric.SMS_SENT) in metered
    assert len(fake_stripe.objects["billing.meter"]) == 3


def test_outbox_reports_stripe_payers_usage_once(
    make_agency: Any, plan: Plan, fake_stripe: FakeStripe, moment: dt.datetime
) -> None:
    payer_x = make_payer("UBND tỉnh X", "0101234567")
    payer_y = make_payer("UBND tỉnh Y", "0201234567")
    by_transfer = make_payer("UBND tỉnh Z", "0301234567", Gateway.BANK_TRANSFER)
    a1, a2, b1, c1 = (make_agency(provision=False) for _ in range(4))
    for agency, payer in ((a1, payer_x), (a2, payer_x), (b1, payer_y), (c1, by_transfer)):
        subscribe(agency, payer, moment)
    record_usage(a1, moment, 7)
    record_usage(a2, moment, 4)
    record_usage(a2, moment, 3, Metric.SMS_SENT)
    record_usage(b1, moment, 5)
    record_usage(b1, moment, 1, Metric.STORAGE_GB_DAY, quantity=Decimal("2.3456"))
    record_usage(c1, moment, 9)

    report = meter_events_push()

    assert report.queued == report.sent == 7 + 4 + 3 + 5 + 1
    assert MeterEventOutbox.objects.filter(agency=c1).count() == 0  # pays by transfer
    payer_x.refresh_from_db()
    payer_y.refresh_from_db()
    totals = fake_stripe.meter_totals()
    # Tenancy: each agency's usage is told to its own payer's customer, and only there.
    assert totals == {
        (payer_x.stripe_customer_id, meter_event_name(Metric.DOSSIER_RECEIVED)): 11,
        (payer_x.stripe_customer_id, meter_event_name(Metric.SMS_SENT)): 3,
        (payer_y.stripe_customer_id, meter_event_name(Metric.DOSSIER_RECEIVED)): 5,
        (payer_y.stripe_customer_id, meter_event_name(Metric.STORAGE_GB_DAY)): 23_456,
    }
    assert ledger_total([b1.pk], Metric.STORAGE_GB_DAY) * 10_000 == 23_456
    assert set(fake_stripe.meter_events) == set(
        MeterEventOutbox.objects.values_list("idempotency_key", flat=True)
    )
    posts = fake_stripe.meter_event_posts
    again = meter_events_push()
    assert again.queued == again.sent == 0 and fake_stripe.meter_event_posts == posts


def test_failed_pushes_are_retried_and_repeats_are_deduplicated(
    make_agency: Any, plan: Plan, fake_stripe: FakeStripe, moment: dt.datetime
) -> None:
    payer = make_payer("UBND tỉnh X", "0101234567")
    agency = make_agency(provision=False)
    subscribe(agency, payer, moment)
    keys = record_usage(agency, moment, 6)
    # Stripe is down for the first meter events (the library's own retries fail too).
    calls = {"n": 0}

    def outage(method: str, path: str) -> bool:
        if path.endswith("/meter_events"):
            calls["n"] += 1
            return calls["n"] <= 3
        return False

    fake_stripe.fail_if = outage
    first = meter_events_push()
    assert first.failed == 1 and first.sent == 5
    failed = MeterEventOutbox.objects.get(status=OutboxStatus.FAILED)
    assert failed.attempts == 1 and "unknown error" in failed.last_error
    assert meter_events_push().sent == 0  # it waits for its backoff (a minute)

    second = meter_events_push(now=timezone.now() + dt.timedelta(minutes=2))
    assert second.sent == 1 and not MeterEventOutbox.objects.exclude(status="sent").exists()

    # A crash after Stripe accepted but before we committed: the rows are pushed again, and
    # Stripe (here in its "duplicate identifier" error mode) does not count them twice.
    MeterEventOutbox.objects.update(status=OutboxStatus.PENDING)
    fake_stripe.duplicate_identifier_error = True
    third = meter_events_push()
    assert third.sent == 6 and third.failed == 0
    payer.refresh_from_db()
    assert fake_stripe.meter_totals() == {
        (payer.stripe_customer_id, meter_event_name(Metric.DOSSIER_RECEIVED)): 6
    }
    assert sorted(fake_stripe.meter_events) == sorted(keys)


def test_fill_picks_up_rows_committed_late(
    make_agency: Any, plan: Plan, fake_stripe: FakeStripe, moment: dt.datetime
) -> None:
    payer = make_payer("UBND tỉnh X", "0101234567")
    agency = make_agency(provision=False)
    subscribe(agency, payer, moment)
    record_usage(agency, moment, 2, tag="b")
    assert meter_outbox_fill() == 2
    # An older ledger row (lower occurred_at, written later): no high-water mark skips it.
    # Still inside the subscription, which starts on the 1st: on the 1st of a month
    # "three days ago" would be before it, and rightly not metered.
    period_start = timezone.make_aware(dt.datetime.combine(this_period(moment), dt.time()))
    record_usage(agency, period_start + (moment - period_start) / 2, 1, tag="a")
    assert meter_outbox_fill() == 1
    assert meter_outbox_fill() == 0
    assert meter_value(Metric.STORAGE_GB_DAY, Decimal("0.00004")) == 0


def _issued_invoice(make_agency: Any, payer: Any, moment: dt.datetime) -> Invoice:
    agency = make_agency(provision=False)
    subscribe(agency, payer, moment)
    record_usage(agency, moment, 8)  # 3 over the included 5
    record_usage(agency, moment, 2, Metric.SMS_SENT)
    close_running_month(moment)
    return Invoice.objects.get(billing_account=payer)


def test_invoice_is_sent_in_vnd_and_resumes_after_a_crash(
    make_agency: Any, plan: Plan, fake_stripe: FakeStripe, moment: dt.datetime
) -> None:
    payer = make_payer("UBND tỉnh X", "0101234567")
    invoice = _issued_invoice(make_agency, payer, moment)
    gateway = gateway_for(payer)
    # The first attempt dies before finalizing (draft and lines are at Stripe already).
    fake_stripe.fail_if = lambda method, path: path.endswith("/finalize")
    with pytest.raises(GatewayError):
        gateway.invoice_send(invoice=invoice)
    fake_stripe.fail_if = None
    invoice.refresh_from_db()
    remote_id = gateway.invoice_send(invoice=invoice)
    assert gateway.invoice_send(invoice=Invoice.objects.get(pk=invoice.pk)) == remote_id

    remote = fake_stripe.objects["invoice"][remote_id]
    assert remote["status"] == "open" and remote["currency"] == "vnd"
    assert remote["collection_method"] == "send_invoice"
    assert invoice.subtotal == 3_100_000 + 3 * 2_000 + 2 * 800
    assert remote["total"] == invoice.total == invoice.subtotal + 310_760  # with 10 % VAT
    # Its three billed lines, and the VAT as one more item (never doubled by the crash).
    assert len(remote["lines"]["data"]) == invoice.lines.filter(amount__gt=0).count() + 1 == 4
    assert remote["lines"]["data"][-1]["description"] == "Thuế GTGT 10%"
    assert remote["metadata"]["number"] == invoice.number
    assert len(fake_stripe.events_of("invoice.sent")) == 1
    assert BillingEvent.objects.filter(invoice=invoice, event="invoice_sent").count() == 1


def test_bank_transfer_settles_the_stripe_copy_out_of_band(
    make_agency: Any,
    plan: Plan,
    fake_stripe: FakeStripe,
    moment: dt.datetime,
    django_capture_on_commit_callbacks: Any,
) -> None:
    payer = make_payer("UBND tỉnh X", "0101234567")
    invoice = _issued_invoice(make_agency, payer, moment)
    gateway = gateway_for(payer)
    remote_id = gateway.invoice_send(invoice=invoice)
    invoice.refresh_from_db()

    with django_capture_on_commit_callbacks() as callbacks:
        bank_transfer_record(
            invoice=invoice, amount=invoice.total, received_on=timezone.localdate(),
            reference="FT26327001", actor_email="ketoan@provider.vn",
        )  # fmt: skip
    assert len(callbacks) == 1  # the out-of-band task, queued after commit
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    gateway.invoice_mark_paid_out_of_band(invoice=invoice)
    gateway.invoice_mark_paid_out_of_band(invoice=invoice)  # a retry is harmless
    remote = fake_stripe.objects["invoice"][remote_id]
    assert remote["status"] == "paid"
    pays = [r for r in fake_stripe.requests if r[1] == f"/v1/invoices/{remote_id}/pay"]
    assert len(pays) == 1
    assert len(fake_stripe.events_of("invoice.paid")) == 1


def test_citizen_fee_checkout_in_vnd(db: None, fake_stripe: FakeStripe) -> None:
    gateway = gateway_get(Gateway.STRIPE)
    kwargs: dict[str, Any] = {
        "amount": 50_000,
        "description": "Lệ phí cấp bản sao trích lục hộ tịch",
        "reference": "AB-2026-000123",
        "success_url": "https://xa-an-binh.example.vn/ho-so/AB-2026-000123/",
        "cancel_url": "https://xa-an-binh.example.vn/ho-so/AB-2026-000123/",
        "metadata": {"agency": "xa_an_binh"},
    }
    payment = gateway.fee_payment_create(**kwargs)
    assert payment.amount == 50_000 and payment.currency == "vnd"
    assert payment.url.startswith("https://checkout.stripe.com/")
    assert gateway.fee_payment_create(**kwargs).remote_id == payment.remote_id  # idempotent
    session = fake_stripe.objects["checkout.session"][payment.remote_id]
    assert session["client_reference_id"] == "AB-2026-000123"
    with pytest.raises(GatewayError):
        gateway.fee_payment_create(**{**kwargs, "amount": 0})


def test_bank_reconciliation(make_agency: Any, plan: Plan, moment: dt.datetime) -> None:
    payer = make_payer("UBND tỉnh Z", "0301234567", Gateway.BANK_TRANSFER)
    other = make_payer("UBND tỉnh W", "0401234567", Gateway.BANK_TRANSFER)
    invoice = _issued_invoice(make_agency, payer, moment)
    second = _issued_invoice(make_agency, other, moment)
    bank_transfer_record(
        invoice=invoice, amount=1_000_000, received_on=timezone.localdate(), reference="FT1"
    )
    with pytest.raises(ValidationError):
        bank_transfer_record(
            invoice=invoice, amount=1_000_000, received_on=timezone.localdate(), reference="FT1"
        )
    today = timezone.localdate()
    statement = [
        StatementLine("FT1", 1_000_000, today, f"UBND Z tra {invoice.number}"),
        StatementLine("FT2", 500_000, today, f"thanh toan hoa don {second.number}"),
        StatementLine("FT3", 99_000_000, today, f"{second.number}"),  # more than owed
        StatementLine("FT4", 10_000, today, "chuyen tien"),  # names no invoice
    ]

    result = bank_reconciliation(statement=statement)

    assert [(s.reference, p.invoice_id) for s, p in result.matched] == [("FT1", invoice.pk)]
    assert [(s.reference, i.pk) for s, i in result.to_record] == [("FT2", second.pk)]
    assert [s.reference for s in result.unmatched] == ["FT3", "FT4"]
    owing = {p.number: p.balance for p in result.open_invoices}
    assert owing == {invoice.number: invoice.total - 1_000_000, second.number: second.total}
    assert result.mismatched == []


def test_sync_mirrors_what_is_missing_once(
    make_agency: Any, plan: Plan, fake_stripe: FakeStripe, moment: dt.datetime
) -> None:
    from billing.accounts import subscription_end
    from billing.gateways.sync import stripe_sync

    payer = make_payer("UBND tỉnh X", "0101234567")
    by_transfer = make_payer("UBND tỉnh Z", "0301234567", Gateway.BANK_TRANSFER)
    stays, leaves = make_agency(provision=False), make_agency(provision=False)
    subscribe(stays, payer, moment)
    subscribe(leaves, payer, moment)
    invoice = _issued_invoice(make_agency, by_transfer, moment)  # issues the Stripe payer's too

    first = stripe_sync()
    assert (first.customers, first.subscriptions, first.invoices, first.errors) == (1, 2, 1, [])
    assert stripe_sync() == type(first)()  # nothing left to do
    subscription_end(agency=leaves, ends_on=timezone.localdate() + dt.timedelta(days=3))
    ending = stripe_sync()
    assert ending.subscriptions == 1 and stripe_sync().subscriptions == 0
    ended = Subscription.objects.get(agency=leaves).stripe_subscription_id
    assert fake_stripe.objects["subscription"][ended]["cancel_at"] is not None
    assert not invoice.stripe_invoice_id  # the transfer payer's invoice stays here
    assert len(fake_stripe.objects["invoice"]) == 1
