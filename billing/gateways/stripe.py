"""The Stripe gateway: customers, products and prices, subscriptions, Billing Meters, invoices.

Stripe mirrors what our ledger and invoices say; it never decides an amount. In particular:
- VND is zero-decimal in Stripe: ``amount=220000`` is 220.000 ₫, so our integer VND go as they are.
- Usage goes to Billing Meters as meter events whose ``identifier`` is the ledger's idempotency
  key (legacy usage records are gone since API 2025-03-31.basil); Stripe ignores a repeat.
- The monthly bill is *our* invoice, sent with ``collection_method=send_invoice`` line by line.
  Subscriptions are mirrored for the payer's view with ``pause_collection[behavior]=void``, so
  Stripe voids the invoices it would generate itself and nothing is billed twice.
- Every write carries an ``Idempotency-Key`` derived from our ids: a retry after a crash returns
  the object created the first time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import stripe
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing.gateways.base import (
    FeePayment,
    GatewayError,
    MeterPushResult,
    PaymentGateway,
    register,
)
from billing.models import (
    BillingAccount,
    BillingEvent,
    Gateway,
    GatewayObject,
    Invoice,
    InvoiceStatus,
    MeterEventOutbox,
    Metric,
    Subscription,
)
from billing.pricing import month_start, prices_for_period
from billing.vat import vat_totals

CURRENCY = "vnd"
# Stripe meter values are whole numbers; a metric measured in fractions is sent in smaller units.
METER_SCALE: dict[str, int] = {Metric.STORAGE_GB_DAY: 10_000}


def meter_event_name(metric: str) -> str:
    return f"motcua_{metric}"


def meter_value(metric: str, quantity: Decimal) -> int:
    """The whole number a ledger quantity is reported as (see ``METER_SCALE``)."""
    scaled = Decimal(quantity) * METER_SCALE.get(metric, 1)
    return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _ts(moment: dt.datetime) -> int:
    return int(moment.timestamp())


@register
class StripeGateway(PaymentGateway):
    code = Gateway.STRIPE

    def __init__(self, *, api_key: str | None = None, api_base: str | None = None) -> None:
        key = api_key if api_key is not None else settings.STRIPE_API_KEY
        base = api_base if api_base is not None else settings.STRIPE_API_BASE
        if not key:
            raise GatewayError("STRIPE_API_KEY is not configured")
        addresses: dict[str, str] = {"api": base} if base else {}
        # Our own retries (outbox, Celery) are idempotent; the library retries network errors too.
        self.client = stripe.StripeClient(
            key,
            base_addresses=addresses,  # type: ignore[arg-type]
            max_network_retries=2,
        )

    # --- plumbing ---------------------------------------------------------------------------

    def request(
        self, method: str, path: str, params: dict[str, Any] | None = None, *, key: str = ""
    ) -> dict[str, Any]:
        """One Stripe API call; the JSON object it answered. Raises GatewayError."""
        options: dict[str, Any] = dict(params or {})
        if key and method.lower() == "post":
            options["idempotency_key"] = key
        try:
            response = self.client.raw_request(method, path, **options)
        except stripe.StripeError as exc:
            raise GatewayError(_stripe_message(exc)) from exc
        data: dict[str, Any] = response.data
        return data

    def _mapped(self, kind: str, key: str) -> str | None:
        row = GatewayObject.objects.filter(gateway=self.code, kind=kind, key=key).first()
        return row.remote_id if row else None

    def _remember(self, kind: str, key: str, remote_id: str, state: str = "") -> None:
        GatewayObject.objects.update_or_create(
            gateway=self.code, kind=kind, key=key, defaults={"remote_id": remote_id, "state": state}
        )

    # --- customers, products, prices, meters, subscriptions ----------------------------------

    def customer_ensure(self, *, account: BillingAccount) -> str:
        if account.stripe_customer_id:
            return account.stripe_customer_id
        customer = self.request(
            "post",
            "/v1/customers",
            {
                "name": account.name,
                "email": account.email,
                "address": {"line1": account.address, "country": "VN"},
                "preferred_locales": ["vi"],
                "metadata": {"billing_account": str(account.pk), "tax_code": account.tax_code},
            },
            key=f"motcua-customer-{account.pk}",
        )
        BillingAccount.objects.filter(pk=account.pk, stripe_customer_id="").update(
            stripe_customer_id=customer["id"]
        )
        account.refresh_from_db(fields=["stripe_customer_id"])
        return account.stripe_customer_id

    def meter_ensure(self, *, metric: str) -> str:
        known = self._mapped("meter", metric)
        if known:
            return known
        try:
            meter = self.request(
                "post",
                "/v1/billing/meters",
                {
                    "display_name": f"MotCua {metric}",
                    "event_name": meter_event_name(metric),
                    "default_aggregation": {"formula": "sum"},
                    "customer_mapping": {
                        "event_payload_key": "stripe_customer_id",
                        "type": "by_id",
                    },
                    "value_settings": {"event_payload_key": "value"},
                },
                key=f"motcua-meter-{metric}",
            )
        except GatewayError:
            # An active meter with this event name exists already (our mapping was lost, or
            # the idempotency key expired): adopt it. Event names are unique among active meters.
            listed = self.request("get", "/v1/billing/meters", {"status": "active", "limit": 100})
            found = [m for m in listed["data"] if m["event_name"] == meter_event_name(metric)]
            if not found:
                raise
            meter = found[0]
        self._remember("meter", metric, meter["id"])
        return str(meter["id"])

    def _product_ensure(self, *, plan_id: int, name: str) -> str:
        key = f"plan:{plan_id}"
        known = self._mapped("product", key)
        if known:
            return known
        product = self.request(
            "post",
            "/v1/products",
            {"name": name, "metadata": {"plan": str(plan_id)}},
            key=f"motcua-product-{plan_id}",
        )
        self._remember("product", key, product["id"])
        return str(product["id"])

    def _price_ensure(self, *, key: str, params: dict[str, Any]) -> str:
        known = self._mapped("price", key)
        if known:
            return known
        price = self.request("post", "/v1/prices", params, key=f"motcua-price-{key}")
        self._remember("price", key, price["id"])
        return str(price["id"])

    def plan_prices_ensure(self, *, plan_id: int, on: dt.date) -> list[str]:
        """The Stripe prices of a plan's price list for the month of ``on``: the flat monthly fee
        and one metered price per metric (graduated: the included quantity is free)."""
        terms = prices_for_period(plan_ids=[plan_id], period_start=month_start(on)).get(plan_id)
        if terms is None:
            raise GatewayError(f"plan {plan_id} has no price for {on:%m/%Y}")
        product = self._product_ensure(plan_id=plan_id, name=terms.plan_name)
        version = f"{plan_id}:{terms.effective_from.isoformat()}"
        prices = [
            self._price_ensure(
                key=f"{version}:fee",
                params={
                    "product": product,
                    "currency": CURRENCY,
                    "unit_amount": terms.monthly_fee,
                    "recurring": {"interval": "month", "usage_type": "licensed"},
                    "nickname": terms.plan_name,
                },
            )
        ]
        for metric, (included, unit_price) in sorted(terms.rates.items()):
            scale = METER_SCALE.get(metric, 1)
            prices.append(
                self._price_ensure(
                    key=f"{version}:{metric}",
                    params={
                        "product": product,
                        "currency": CURRENCY,
                        "recurring": {
                            "interval": "month",
                            "usage_type": "metered",
                            "meter": self.meter_ensure(metric=metric),
                        },
                        "billing_scheme": "tiered",
                        "tiers_mode": "graduated",
                        "tiers": [
                            {"up_to": meter_value(metric, included), "unit_amount": 0},
                            {
                                "up_to": "inf",
                                "unit_amount_decimal": str(Decimal(unit_price) / scale),
                            },
                        ],
                        "nickname": f"{terms.plan_name}: {metric}",
                    },
                )
            )
        return prices

    def subscription_sync(self, *, subscription: Subscription) -> str:
        account = subscription.billing_account
        customer = self.customer_ensure(account=account)
        remote = subscription.stripe_subscription_id
        if not remote:
            prices = self.plan_prices_ensure(
                plan_id=subscription.plan_id, on=max(subscription.starts_on, timezone.localdate())
            )
            created = self.request(
                "post",
                "/v1/subscriptions",
                {
                    "customer": customer,
                    "items": [{"price": price} for price in prices],
                    "collection_method": "send_invoice",
                    "days_until_due": int(getattr(settings, "BILLING_PAYMENT_TERMS_DAYS", 30)),
                    "pause_collection": {"behavior": "void"},
                    "proration_behavior": "none",
                    "metadata": {
                        "subscription": str(subscription.pk),
                        "agency": str(subscription.agency_id),
                    },
                },
                key=f"motcua-subscription-{subscription.pk}",
            )
            remote = str(created["id"])
            Subscription.objects.filter(pk=subscription.pk, stripe_subscription_id="").update(
                stripe_subscription_id=remote
            )
            subscription.stripe_subscription_id = remote
        if subscription.ends_on is not None:
            end = timezone.make_aware(
                dt.datetime.combine(subscription.ends_on + dt.timedelta(days=1), dt.time.min)
            )
            self.request(
                "post",
                f"/v1/subscriptions/{remote}",
                {"cancel_at": _ts(end), "proration_behavior": "none"},
                key=f"motcua-subscription-{subscription.pk}-end-{subscription.ends_on}",
            )
        return remote

    # --- usage -------------------------------------------------------------------------------

    def meter_events_push(self, *, rows: Sequence[MeterEventOutbox]) -> list[MeterPushResult]:
        results: list[MeterPushResult] = []
        for row in rows:
            value = meter_value(row.metric, row.quantity)
            try:
                self.meter_ensure(metric=row.metric)
                customer = self.customer_ensure(account=row.billing_account)
                self.request(
                    "post",
                    "/v1/billing/meter_events",
                    {
                        "event_name": meter_event_name(row.metric),
                        "identifier": row.identifier,
                        "timestamp": _ts(row.occurred_at),
                        "payload": {"stripe_customer_id": customer, "value": str(value)},
                    },
                    # The identifier deduplicates; a key per attempt keeps Stripe from replaying
                    # a stored error answer to every retry for a day.
                    key=f"motcua-meter-event-{row.identifier}-{row.attempts + 1}",
                )
            except GatewayError as exc:
                if _is_duplicate_identifier(exc):
                    results.append(MeterPushResult(outbox_id=row.pk, value=value))
                else:
                    results.append(MeterPushResult(outbox_id=row.pk, value=None, error=str(exc)))
                continue
            results.append(MeterPushResult(outbox_id=row.pk, value=value))
        return results

    def meter_event_summary(
        self, *, account: BillingAccount, metric: str, start: dt.datetime, end: dt.datetime
    ) -> int:
        """What Stripe counted for the payer's meter of ``metric`` between ``start`` (inclusive)
        and ``end`` (exclusive), both on minute boundaries: the sum of its event summaries."""
        if not account.stripe_customer_id:
            return 0  # never a customer at Stripe: nothing can have been counted
        meter = self.meter_ensure(metric=metric)
        params: dict[str, Any] = {
            "customer": account.stripe_customer_id,
            "start_time": _ts(start),
            "end_time": _ts(end),
            "limit": 100,
        }
        total = 0.0
        while True:
            page = self.request("get", f"/v1/billing/meters/{meter}/event_summaries", params)
            total += sum(float(s.get("aggregated_value") or 0) for s in page["data"])
            if not page.get("has_more") or not page["data"]:
                break
            params["starting_after"] = page["data"][-1]["id"]
        return round(total)

    def event_fetch(self, *, event_id: str) -> dict[str, Any]:
        """The full form of a thin event (event destinations deliver only a notification)."""
        return self.request("get", f"/v2/core/events/{event_id}")

    # --- invoices ----------------------------------------------------------------------------

    def invoice_send(self, *, invoice: Invoice) -> str:
        """Create (or resume) the Stripe copy of an issued invoice, finalize it and send it.

        Resumable at every step: the draft and each line carry idempotency keys, and the totals
        are compared before finalizing, so a crash between steps never doubles a line.
        """
        if invoice.status not in (InvoiceStatus.ISSUED, InvoiceStatus.PAID) or not invoice.number:
            raise GatewayError(f"invoice {invoice.pk} is not issued")
        account = invoice.billing_account
        customer = self.customer_ensure(account=account)
        remote_id = invoice.stripe_invoice_id
        if not remote_id:
            due = invoice.due_on or timezone.localdate()
            created = self.request(
                "post",
                "/v1/invoices",
                {
                    "customer": customer,
                    "currency": CURRENCY,
                    "collection_method": "send_invoice",
                    "days_until_due": max(1, (due - timezone.localdate()).days),
                    "auto_advance": "false",
                    "pending_invoice_items_behavior": "exclude",
                    "description": f"Hóa đơn {invoice.number}",
                    "custom_fields": [{"name": "Số hóa đơn", "value": invoice.number}],
                    "metadata": {"motcua_invoice": str(invoice.pk), "number": invoice.number},
                },
                key=f"motcua-invoice-{invoice.pk}",
            )
            remote_id = str(created["id"])
            with transaction.atomic():
                Invoice.objects.filter(pk=invoice.pk, stripe_invoice_id="").update(
                    stripe_invoice_id=remote_id
                )
                self._remember("invoice", str(invoice.pk), remote_id, state="draft")
            invoice.stripe_invoice_id = remote_id
        remote = self.request("get", f"/v1/invoices/{remote_id}")
        if remote["status"] == "draft":
            if int(remote["total"]) == 0:
                lines = invoice.lines.select_related("agency").filter(amount__gt=0)
                for line in lines:
                    label = line.get_metric_display() if line.metric else line.get_kind_display()
                    self.request(
                        "post",
                        "/v1/invoiceitems",
                        {
                            "customer": customer,
                            "invoice": remote_id,
                            "currency": CURRENCY,
                            "amount": line.amount,
                            "description": f"{line.agency.name}: {label}",
                            "metadata": {"motcua_invoice": str(invoice.pk), "line": line.position},
                        },
                        key=f"motcua-invoice-{invoice.pk}-line-{line.position}",
                    )
                # The VAT of the legal invoice, one item per rate, so both totals agree.
                for rate in vat_totals(invoice.lines.values_list("amount", "vat_rate")).by_rate:
                    if rate.vat <= 0:
                        continue
                    self.request(
                        "post",
                        "/v1/invoiceitems",
                        {
                            "customer": customer,
                            "invoice": remote_id,
                            "currency": CURRENCY,
                            "amount": rate.vat,
                            "description": f"Thuế GTGT {rate.label}",
                            "metadata": {"motcua_invoice": str(invoice.pk), "vat": rate.rate},
                        },
                        key=f"motcua-invoice-{invoice.pk}-vat-{rate.rate}",
                    )
                remote = self.request("get", f"/v1/invoices/{remote_id}")
            if int(remote["total"]) != invoice.total:
                self._flag_total(invoice, remote)
            remote = self.request(
                "post",
                f"/v1/invoices/{remote_id}/finalize",
                {"auto_advance": "false"},
                key=f"motcua-invoice-{invoice.pk}-finalize",
            )
        if int(remote["total"]) != invoice.total:
            self._flag_total(invoice, remote)
        already_sent = BillingEvent.objects.filter(invoice=invoice, event="invoice_sent").exists()
        if remote["status"] == "open" and not already_sent:
            self.request(
                "post", f"/v1/invoices/{remote_id}/send", key=f"motcua-invoice-{invoice.pk}-send"
            )
            BillingEvent.objects.create(
                billing_account_id=invoice.billing_account_id,
                invoice=invoice,
                event="invoice_sent",
                detail={"gateway": self.code, "remote_id": remote_id, "total": invoice.total},
            )
        return remote_id

    def _flag_total(self, invoice: Invoice, remote: dict[str, Any]) -> None:
        BillingEvent.objects.create(
            billing_account_id=invoice.billing_account_id,
            invoice=invoice,
            event="gateway_amount_mismatch",
            detail={"gateway": self.code, "remote_id": remote["id"], "ours": invoice.total,
                    "theirs": remote["total"]},
        )  # fmt: skip
        raise GatewayError(
            f"Stripe invoice {remote['id']} totals {remote['total']} VND,"
            f" ours {invoice.number} totals {invoice.total} VND"
        )

    def invoice_mark_paid_out_of_band(self, *, invoice: Invoice) -> None:
        if not invoice.stripe_invoice_id:
            return
        remote = self.request("get", f"/v1/invoices/{invoice.stripe_invoice_id}")
        if remote["status"] in ("paid", "void"):
            return
        self.request(
            "post",
            f"/v1/invoices/{invoice.stripe_invoice_id}/pay",
            {"paid_out_of_band": "true"},
            key=f"motcua-invoice-{invoice.pk}-paid-out-of-band",
        )

    # --- citizen fees ------------------------------------------------------------------------

    def fee_payment_create(
        self,
        *,
        amount: int,
        description: str,
        reference: str,
        success_url: str,
        cancel_url: str,
        metadata: dict[str, str],
        expires_at: dt.datetime | None = None,
        notify_url: str = "",
    ) -> FeePayment:
        if amount <= 0:
            raise GatewayError("a fee payment needs a positive amount")
        params: dict[str, Any] = {
            "mode": "payment",
            "client_reference_id": reference,
            "success_url": success_url,
            "cancel_url": cancel_url,
            "locale": "vi",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": CURRENCY,
                        "unit_amount": amount,
                        "product_data": {"name": description},
                    },
                }
            ],
            "metadata": {**metadata, "reference": reference},
            "payment_intent_data": {"metadata": {**metadata, "reference": reference}},
        }
        if expires_at is not None:
            params["expires_at"] = _ts(expires_at)
        session = self.request(
            "post", "/v1/checkout/sessions", params, key=f"motcua-fee-{reference}"
        )
        return FeePayment(
            remote_id=str(session["id"]),
            url=str(session.get("url") or ""),
            amount=int(session.get("amount_total") or amount),
            currency=str(session.get("currency") or CURRENCY),
        )


def _stripe_message(exc: stripe.StripeError) -> str:
    code = getattr(exc, "code", None) or ""
    message = getattr(exc, "user_message", None) or str(exc)
    return f"[{code}] {message}" if code else str(message)


def _is_duplicate_identifier(exc: GatewayError) -> bool:
    cause = exc.__cause__
    if not isinstance(cause, stripe.StripeError):
        return False
    text = str(getattr(cause, "user_message", "") or cause).lower()
    return "identifier" in text and ("already" in text or "duplicate" in text)
