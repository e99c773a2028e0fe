"""The must-hold property of issue 6, on a real Celery worker, real HTTP and the fake Stripe:

kill the worker while it pushes meter events, replay every webhook twice, deliver them out of
order — ledger totals equal what Stripe was told and what invoices show; no duplicates, no gaps.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Sum
from django.utils import timezone

from billing.gateways.bank_transfer import bank_transfer_record
from billing.gateways.stripe import meter_event_name, meter_value
from billing.models import (
    Gateway,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    MeterEventOutbox,
    Metric,
    OutboxStatus,
    Payment,
    UsageEvent,
    WebhookEvent,
    WebhookStatus,
)
from billing.tasks import meter_events_push_task, stripe_invoice_send
from billing.tests.gateway_helpers import (
    close_running_month,
    make_payer,
    make_plan,
    record_usage,
    subscribe,
)
from tests.fakes.stripe_server import FakeStripe
from tests.fixtures.worker import WorkerProcess

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def wait_for(check: Callable[[], bool], what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_kill_replay_reorder_totals_agree(
    worker: WorkerProcess, live_server: Any, make_agency: Any, fake_stripe: FakeStripe
) -> None:
    make_plan()
    moment = timezone.now() - dt.timedelta(minutes=5)
    payer_x = make_payer("UBND tỉnh X", "0101234567")  # pays online
    payer_y = make_payer("UBND tỉnh Y", "0201234567")  # Stripe customer, pays by transfer
    payer_z = make_payer("UBND tỉnh Z", "0301234567", Gateway.BANK_TRANSFER)
    x1, x2, y1, z1 = (make_agency(provision=False) for _ in range(4))
    for agency, payer in ((x1, payer_x), (x2, payer_x), (y1, payer_y), (z1, payer_z)):
        subscribe(agency, payer, moment)
    record_usage(x1, moment, 60)
    record_usage(x2, moment, 30)
    record_usage(x2, moment, 25, Metric.SMS_SENT)
    record_usage(y1, moment, 40)
    record_usage(y1, moment, 3, Metric.STORAGE_GB_DAY, quantity=Decimal("1.2345"))
    record_usage(z1, moment, 15)
    stripe_rows = 60 + 30 + 25 + 40 + 3

    # 1. Push meter events; kill the worker in the middle of its first batch.
    fake_stripe.meter_event_delay = 0.05
    meter_events_push_task.delay()
    wait_for(lambda: fake_stripe.meter_event_posts >= 20, "the first meter events")
    worker.kill()
    accepted_before_kill = len(fake_stripe.meter_events)
    assert 0 < accepted_before_kill < stripe_rows
    sent_before_restart = MeterEventOutbox.objects.filter(status=OutboxStatus.SENT).count()
    assert sent_before_restart < accepted_before_kill  # Stripe knows rows we did not mark sent
    fake_stripe.meter_event_delay = 0
    worker.start()
    meter_events_push_task.delay()  # beat would send it; the killed message waits for visibility
    wait_for(
        lambda: MeterEventOutbox.objects.filter(status=OutboxStatus.SENT).count() == stripe_rows,
        "every outbox row sent",
    )
    # Repeats were sent (the killed batch), and counted once: Stripe dedupes by Idempotency-Key
    # and by the meter event's identifier (the ledger key).
    posts = [r for r in fake_stripe.requests if r[1] == "/v1/billing/meter_events"]
    assert len(posts) > stripe_rows
    assert len(fake_stripe.meter_events) == stripe_rows

    # 2. Month-end from our ledger; the Stripe payers' invoices go out through the worker.
    close_running_month(moment)
    inv_x = Invoice.objects.get(billing_account=payer_x)
    inv_y = Invoice.objects.get(billing_account=payer_y)
    inv_z = Invoice.objects.get(billing_account=payer_z)
    for invoice in (inv_x, inv_y):
        stripe_invoice_send.delay(invoice.pk).get(timeout=60)
        invoice.refresh_from_db()
        assert fake_stripe.objects["invoice"][invoice.stripe_invoice_id]["total"] == invoice.total

    # 3. X pays on Stripe; Y pays by bank transfer (Stripe is told: paid out of band).
    fake_stripe.invoice_pay(inv_x.stripe_invoice_id)
    bank_transfer_record(
        invoice=inv_y, amount=inv_y.total, received_on=timezone.localdate(), reference="FT-Y-1"
    )
    wait_for(
        lambda: fake_stripe.objects["invoice"][inv_y.stripe_invoice_id]["status"] == "paid",
        "Stripe told that Y paid out of band",
    )

    # 4. Every webhook, newest first, each twice, over real HTTP, processed by the worker.
    fake_stripe.webhook_url = f"{live_server.url}/billing/stripe/webhook/"
    events = list(fake_stripe.events)
    for event in reversed(events):
        for _ in range(2):
            assert fake_stripe.deliver(event).status == 200
    settled = (WebhookStatus.PROCESSED, WebhookStatus.IGNORED)
    wait_for(
        lambda: WebhookEvent.objects.filter(status__in=settled).count() == len(events),
        "every webhook processed",
    )

    # No duplicates, no gaps: each event stored once, each ledger row told to Stripe once.
    assert WebhookEvent.objects.count() == len(events)
    assert WebhookEvent.objects.aggregate(n=Sum("deliveries"))["n"] == 2 * len(events)
    assert not WebhookEvent.objects.filter(status=WebhookStatus.FLAGGED).exists()
    stripe_keys = set(
        UsageEvent.objects.exclude(agency=z1).values_list("idempotency_key", flat=True)
    )
    assert set(fake_stripe.meter_events) == stripe_keys
    assert not MeterEventOutbox.objects.filter(agency=z1).exists()

    # Ledger = what Stripe was told = what the invoices show, per payer and metric.
    payer_x.refresh_from_db()
    payer_y.refresh_from_db()
    told = fake_stripe.meter_totals()
    for payer, agencies, invoice in ((payer_x, [x1, x2], inv_x), (payer_y, [y1], inv_y)):
        for metric in (Metric.DOSSIER_RECEIVED, Metric.SMS_SENT, Metric.STORAGE_GB_DAY):
            ledger = UsageEvent.objects.filter(agency__in=agencies, metric=metric).aggregate(
                n=Sum("quantity")
            )["n"] or Decimal(0)
            billed = InvoiceLine.objects.filter(invoice=invoice, metric=metric).aggregate(
                n=Sum("quantity")
            )["n"] or Decimal(0)
            stripe_value = told.get((payer.stripe_customer_id, meter_event_name(metric)), 0)
            assert billed == ledger
            assert stripe_value == meter_value(metric, ledger), (payer.name, metric)
    z_billed = InvoiceLine.objects.get(invoice=inv_z, metric=Metric.DOSSIER_RECEIVED).quantity
    assert z_billed == 15

    # Money: X paid once through Stripe, Y once by transfer; nothing applied twice.
    inv_x.refresh_from_db()
    inv_y.refresh_from_db()
    assert inv_x.status == inv_y.status == InvoiceStatus.PAID
    assert [(p.gateway, p.amount) for p in Payment.objects.filter(invoice=inv_x)] == [
        (Gateway.STRIPE, inv_x.total)
    ]
    assert [(p.gateway, p.amount) for p in Payment.objects.filter(invoice=inv_y)] == [
        (Gateway.BANK_TRANSFER, inv_y.total)
    ]
    assert Invoice.objects.get(pk=inv_z.pk).status == InvoiceStatus.ISSUED
