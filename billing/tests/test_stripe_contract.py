"""Contract tests against Stripe's real test mode: the calls our gateway makes are accepted, and
the fields we read exist, in the shapes the fake server answers with.

They run only with a real test-mode key in the environment (``STRIPE_API_KEY=sk_test_...``);
otherwise they are skipped, with the reason given. They create a customer, a meter (deactivated
afterwards), meter events (and read their event summary), and a VND ``send_invoice`` invoice
paid out of band, in test mode.
"""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from billing.gateways import GatewayError
from billing.gateways.stripe import StripeGateway, _is_duplicate_identifier
from billing.models import (
    BillingAccount,
    Gateway,
    GatewayObject,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    MeterEventOutbox,
    Metric,
    UsageEvent,
)
from tests.fakes.stripe_server import FakeStripe
from tests.fixtures.stripe import REAL_STRIPE_API_KEY

pytestmark = [
    pytest.mark.skipif(
        not REAL_STRIPE_API_KEY,
        reason="contract tests need a Stripe test-mode key: set STRIPE_API_KEY=sk_test_...",
    ),
    pytest.mark.skipif(
        bool(REAL_STRIPE_API_KEY) and not REAL_STRIPE_API_KEY.startswith(("sk_test_", "rk_test_")),
        reason="STRIPE_API_KEY is not a test-mode key; contract tests never touch live mode",
    ),
]


@pytest.fixture
def real() -> StripeGateway:
    return StripeGateway(api_key=REAL_STRIPE_API_KEY, api_base="https://api.stripe.com")


@pytest.fixture
def account(db: None) -> BillingAccount:
    return BillingAccount.objects.create(
        name="MotCua contract test",
        tax_code=f"01{secrets.randbelow(10**8):08d}",
        address="1 Tràng Tiền, Hà Nội",
        email="contract-test@example.vn",
        gateway=Gateway.STRIPE,
    )


def same_shape(ours: dict[str, Any], theirs: dict[str, Any], fields: list[str]) -> None:
    for name in fields:
        assert name in theirs, f"Stripe's {theirs.get('object')} has no {name!r}"
        assert name in ours, f"the fake's {ours.get('object')} has no {name!r}"


def test_customer_meter_and_deduplicated_meter_events(
    real: StripeGateway, account: BillingAccount, make_agency: Any, stripe_server: FakeStripe
) -> None:
    customer_id = real.customer_ensure(account=account)
    customer = real.request("get", f"/v1/customers/{customer_id}")
    fake = stripe_server.template("customer")
    same_shape(fake, customer, ["id", "name", "email", "metadata", "invoice_prefix"])

    metric = Metric.DOSSIER_RECEIVED
    event_name = f"motcua_contract_{secrets.token_hex(4)}"
    meter = real.request(
        "post",
        "/v1/billing/meters",
        {
            "display_name": event_name,
            "event_name": event_name,
            "default_aggregation": {"formula": "sum"},
            "customer_mapping": {"event_payload_key": "stripe_customer_id", "type": "by_id"},
            "value_settings": {"event_payload_key": "value"},
        },
    )
    try:
        same_shape(stripe_server.template("billing.meter"), meter, ["id", "event_name", "status"])
        GatewayObject.objects.create(
            gateway=Gateway.STRIPE, kind="meter", key=metric, remote_id=meter["id"]
        )
        agency = make_agency(provision=False)
        usage = UsageEvent.objects.create(
            agency=agency, metric=metric, quantity=Decimal(3), occurred_at=timezone.now(),
            idempotency_key=f"contract:{event_name}",
        )  # fmt: skip
        row = MeterEventOutbox.objects.create(
            usage_event=usage, idempotency_key=usage.idempotency_key, billing_account=account,
            agency=agency, metric=metric, quantity=usage.quantity, occurred_at=usage.occurred_at,
        )  # fmt: skip
        # The event name of the metric is fixed in code; for the contract, use this run's meter.
        sent = real.request(
            "post",
            "/v1/billing/meter_events",
            {
                "event_name": event_name,
                "identifier": row.idempotency_key,
                "timestamp": int(row.occurred_at.timestamp()),
                "payload": {"stripe_customer_id": customer_id, "value": "3"},
            },
        )
        same_shape(
            stripe_server.template("billing.meter_event"),
            sent,
            ["identifier", "event_name", "payload", "timestamp"],
        )
        # The same identifier again, without an idempotency key: Stripe must not fail us.
        try:
            real.request(
                "post",
                "/v1/billing/meter_events",
                {
                    "event_name": event_name,
                    "identifier": row.idempotency_key,
                    "timestamp": int(row.occurred_at.timestamp()),
                    "payload": {"stripe_customer_id": customer_id, "value": "3"},
                },
            )
        except GatewayError as exc:  # pragma: no cover - depends on Stripe's answer
            assert _is_duplicate_identifier(exc), exc
        # The summary the outbox checks against after Stripe's 24-hour identifier window.
        minute = int(row.occurred_at.timestamp()) // 60 * 60
        summaries = real.request(
            "get",
            f"/v1/billing/meters/{meter['id']}/event_summaries",
            {"customer": customer_id, "start_time": minute, "end_time": minute + 60},
        )
        assert summaries["object"] == "list"
        for summary in summaries["data"]:  # aggregated asynchronously: maybe not there yet
            same_shape(
                stripe_server.template("billing.meter_event_summary"),
                summary,
                ["aggregated_value", "start_time", "end_time", "meter"],
            )
    finally:
        real.request("post", f"/v1/billing/meters/{meter['id']}/deactivate")


def test_vnd_send_invoice_paid_out_of_band(
    real: StripeGateway, account: BillingAccount, make_agency: Any, stripe_server: FakeStripe
) -> None:
    agency = make_agency(provision=False)
    today = timezone.localdate()
    invoice = Invoice.objects.create(
        billing_account=account, period_start=today.replace(day=1), period_end=today,
        total=220_000,
    )  # fmt: skip
    InvoiceLine.objects.create(
        invoice=invoice, position=1, agency=agency, kind=LineKind.SUBSCRIPTION,
        description="Contract test", quantity=1, unit_price=220_000, amount=220_000,
    )  # fmt: skip
    Invoice.objects.filter(pk=invoice.pk).update(
        status=InvoiceStatus.ISSUED, number=f"HD{today.year}-9{secrets.randbelow(10**5):05d}",
        issued_at=timezone.now(), due_on=today + dt.timedelta(days=30),
    )  # fmt: skip
    invoice.refresh_from_db()

    remote_id = real.invoice_send(invoice=invoice)
    remote = real.request("get", f"/v1/invoices/{remote_id}")
    same_shape(
        stripe_server.template("invoice"),
        remote,
        ["status", "total", "amount_due", "amount_paid", "currency", "collection_method",
         "metadata", "lines", "number", "customer"],
    )  # fmt: skip
    assert remote["currency"] == "vnd" and remote["total"] == 220_000  # zero-decimal
    assert remote["status"] == "open" and remote["collection_method"] == "send_invoice"

    invoice.refresh_from_db()
    real.invoice_mark_paid_out_of_band(invoice=invoice)
    assert real.request("get", f"/v1/invoices/{remote_id}")["status"] == "paid"
