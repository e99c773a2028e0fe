"""Bring each gateway up to date with our records (run periodically, idempotent).

Our data says what should exist at the gateway; this finds what is missing and asks the
gateway for it: customers of Stripe payers, their agencies' subscriptions (and their ends),
issued invoices not sent yet. Each step is idempotent at the gateway, so a crash or a second run
repeats nothing. One failing object does not stop the others; it is reported and retried next run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from billing.gateways.base import GatewayError, gateway_get
from billing.models import (
    BillingAccount,
    BillingEvent,
    Gateway,
    GatewayObject,
    Invoice,
    InvoiceStatus,
    Subscription,
)


@dataclass
class SyncReport:
    customers: int = 0
    subscriptions: int = 0
    invoices: int = 0
    errors: list[str] = field(default_factory=list)


def stripe_sync(*, invoices: bool = True) -> SyncReport:
    """Customers, subscriptions (and their ends) and issued invoices of Stripe payers."""
    report = SyncReport()
    accounts = BillingAccount.objects.filter(gateway=Gateway.STRIPE)
    if not accounts.exists():
        return report
    gateway = gateway_get(Gateway.STRIPE)
    for account in accounts.filter(stripe_customer_id=""):
        try:
            gateway.customer_ensure(account=account)
            report.customers += 1
        except GatewayError as exc:
            report.errors.append(f"customer {account.pk}: {exc}")
    ended = set(
        GatewayObject.objects.filter(gateway=Gateway.STRIPE, kind="subscription_end").values_list(
            "key", flat=True
        )
    )
    subscriptions = Subscription.objects.filter(
        billing_account__gateway=Gateway.STRIPE
    ).select_related("billing_account")
    for subscription in subscriptions:
        end_key = f"{subscription.pk}:{subscription.ends_on}"
        needs_end = subscription.ends_on is not None and end_key not in ended
        if subscription.stripe_subscription_id and not needs_end:
            continue
        try:
            remote = gateway.subscription_sync(subscription=subscription)
            if subscription.ends_on is not None:
                GatewayObject.objects.get_or_create(
                    gateway=Gateway.STRIPE, kind="subscription_end", key=end_key,
                    defaults={"remote_id": f"{remote}:{subscription.ends_on}"},
                )  # fmt: skip
            report.subscriptions += 1
        except GatewayError as exc:
            report.errors.append(f"subscription {subscription.pk}: {exc}")
    if invoices:
        pending = Invoice.objects.filter(
            billing_account__gateway=Gateway.STRIPE, status=InvoiceStatus.ISSUED
        ).select_related("billing_account")
        sent = set(
            BillingEvent.objects.filter(event="invoice_sent", invoice__in=pending).values_list(
                "invoice_id", flat=True
            )
        )
        for invoice in pending:
            if invoice.pk in sent:
                continue
            try:
                gateway.invoice_send(invoice=invoice)
                report.invoices += 1
            except GatewayError as exc:
                report.errors.append(f"invoice {invoice.number}: {exc}")
    return report
