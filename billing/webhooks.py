"""Stripe webhooks: verified on the raw body, stored once, processed asynchronously.

- ``webhook_event_receive`` verifies the ``Stripe-Signature`` header (HMAC-SHA256 over
  ``t.payload``, with a tolerance on ``t``) and stores the event under its unique id; a replay
  only counts a delivery. Processing is queued after commit.
- ``webhook_event_process`` applies an event once. Events can arrive in any order and more than
  once, so each handler compares the object's state with what we applied last (lifecycle rank,
  then the event's ``created``) and never moves it backwards. Amounts are checked against our
  invoice: a mismatch is flagged (a BillingEvent). Money Stripe collected is always recorded,
  once per payment: beyond what our invoice owed it becomes an overpayment flagged for staff,
  never dropped. Unknown types are stored and marked ignored. Our invoices stay the source of
  truth: Stripe can settle them, never rewrite them.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import json
from collections.abc import Callable
from typing import Any

import stripe
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.invoicing import payment_record
from billing.models import (
    BillingEvent,
    Gateway,
    GatewayObject,
    Invoice,
    InvoiceStatus,
    Overpayment,
    Payment,
    Subscription,
    WebhookEvent,
    WebhookStatus,
)

TOLERANCE_SECONDS = 300
MAX_ATTEMPTS = 8


class WebhookRejected(Exception):
    """The request is not a genuine Stripe event: answer 400, store nothing."""


def webhook_event_receive(*, payload: bytes, signature: str) -> tuple[WebhookEvent, bool]:
    """Verify and store an event. Returns (event, queued): queued is False for a replay of an
    event already handled."""
    keys = [
        s
        for s in (settings.STRIPE_WEBHOOK_SECRET,
                  getattr(settings, "STRIPE_EVENT_DESTINATION_SECRET", ""))
        if s
    ]  # fmt: skip
    if not keys:
        raise WebhookRejected(_("Webhooks are not configured."))
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookRejected(_("The request body is not a JSON event.")) from None
    for number, secret in enumerate(keys, start=1):
        try:
            stripe.WebhookSignature.verify_header(text, signature, secret, TOLERANCE_SECONDS)
            break
        except stripe.SignatureVerificationError:
            if number == len(keys):
                raise WebhookRejected(_("The webhook signature is invalid.")) from None
    try:
        data = json.loads(text)
    except ValueError:
        raise WebhookRejected(_("The request body is not a JSON event.")) from None
    created = _event_created(data)
    if created is None:
        raise WebhookRejected(_("The request body is not a JSON event."))
    table = f'"public"."{WebhookEvent._meta.db_table}"'
    with transaction.atomic():
        with connection.cursor() as cursor:
            # One statement: concurrent deliveries of the same event cannot both insert.
            cursor.execute(
                f"INSERT INTO {table} (gateway, event_id, event_type, created, payload, status,"  # noqa: S608
                " attempts, error, deliveries, received_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, 0, '', 1, %s)"
                " ON CONFLICT (gateway, event_id)"
                f" DO UPDATE SET deliveries = {table}.deliveries + 1"
                " RETURNING id",
                [Gateway.STRIPE, data["id"], data["type"][:80], created,
                 json.dumps(data), WebhookStatus.RECEIVED, timezone.now()],
            )  # fmt: skip
            (pk,) = cursor.fetchone()
        event = WebhookEvent.objects.get(pk=pk)
        queued = event.status in (WebhookStatus.RECEIVED, WebhookStatus.FAILED)
        if queued:
            from billing.tasks import webhook_event_process_task

            transaction.on_commit(lambda: webhook_event_process_task.delay(pk))
    return event, queued


def _event_created(data: Any) -> int | None:
    """The event's time (Unix seconds) if ``data`` is a Stripe event, else None.

    A webhook endpoint delivers snapshot events (``created`` in Unix seconds, the object in
    ``data``); an event destination delivers thin events of API v2 (``object`` is
    ``v2.core.event``, ``created`` is an RFC 3339 time, no data: it is fetched when processed)."""
    if not (
        isinstance(data, dict) and isinstance(data.get("id"), str) and data["id"]
        and isinstance(data.get("type"), str)
    ):  # fmt: skip
        return None
    if data.get("object") == "v2.core.event":
        related = data.get("related_object")
        if related is not None and not isinstance(related, dict):
            return None
        try:
            moment = dt.datetime.fromisoformat(str(data.get("created")).replace("Z", "+00:00"))
        except ValueError:
            return None
        if moment.tzinfo is None:
            return None
        return int(moment.timestamp())
    if isinstance(data.get("created"), int) and isinstance(data.get("data"), dict):
        return int(data["created"])
    return None


Handler = Callable[[WebhookEvent], tuple[str, str]]
HANDLERS: dict[str, Handler] = {}


def handles(*types: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for name in types:
            HANDLERS[name] = fn
        return fn

    return register


@functools.cache
def _handler_modules_loaded() -> None:
    """Apps above billing handle some events themselves (``settings.BILLING_WEBHOOK_HANDLERS``:
    a citizen's fee paid through Stripe is the dossier lifecycle's); their modules register
    with :func:`handles` when imported, so billing never imports them by name."""
    for module in settings.BILLING_WEBHOOK_HANDLERS:
        importlib.import_module(module)


def webhook_event_process(*, event_id: int) -> str:
    """Apply one stored event (idempotent). Returns its status afterwards."""
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().get(pk=event_id)
        if event.status not in (WebhookStatus.RECEIVED, WebhookStatus.FAILED):
            return event.status
        event.attempts += 1
        _handler_modules_loaded()
        handler = HANDLERS.get(event.event_type)
        status: str
        if handler is None:
            status, note = WebhookStatus.IGNORED, "unhandled event type"
        else:
            try:
                with transaction.atomic():  # a failing handler leaves nothing half-applied
                    status, note = handler(event)
            except Exception as exc:
                status, note = WebhookStatus.FAILED, f"{type(exc).__name__}: {exc}"
        event.status, event.error = status, note
        event.processed_at = timezone.now() if status != WebhookStatus.FAILED else None
        event.save(update_fields=["status", "error", "attempts", "processed_at"])
    return status


def webhook_events_due(*, older_than: dt.timedelta = dt.timedelta(minutes=2)) -> list[int]:
    """Events to (re)process: received but never processed (a lost task), or failed, with
    attempts left."""
    cutoff = timezone.now() - older_than
    return list(
        WebhookEvent.objects.filter(
            status__in=[WebhookStatus.RECEIVED, WebhookStatus.FAILED],
            attempts__lt=MAX_ATTEMPTS,
            received_at__lt=cutoff,
        )
        .order_by("created", "id")
        .values_list("pk", flat=True)[:500]
    )


# --- handlers ---------------------------------------------------------------------------------

# Where an invoice is in its life at Stripe; a lower rank never overwrites a higher one.
INVOICE_RANK = {"draft": 0, "open": 1, "paid": 2, "uncollectible": 2, "void": 2}


def event_object(event: WebhookEvent) -> dict[str, Any]:
    obj = event.payload.get("data", {}).get("object", {})
    if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
        raise ValueError("event without a data.object id")
    return obj


def _state_row(kind: str, key: str, remote_id: str) -> GatewayObject:
    row, _created = GatewayObject.objects.select_for_update().get_or_create(
        gateway=Gateway.STRIPE, kind=kind, key=key, defaults={"remote_id": remote_id}
    )
    return row


def _flag(invoice: Invoice, event: WebhookEvent, reason: str, **detail: Any) -> tuple[str, str]:
    BillingEvent.objects.create(
        billing_account_id=invoice.billing_account_id,
        invoice=invoice,
        event="gateway_amount_mismatch",
        detail={"gateway": Gateway.STRIPE, "event": event.event_id, "type": event.event_type,
                "reason": reason, **detail},
    )  # fmt: skip
    return WebhookStatus.FLAGGED, reason


@handles(
    "invoice.created",
    "invoice.finalized",
    "invoice.sent",
    "invoice.paid",
    "invoice.payment_succeeded",
    "invoice.payment_failed",
    "invoice.voided",
    "invoice.marked_uncollectible",
    "invoice.updated",
)
def _invoice_event(event: WebhookEvent) -> tuple[str, str]:
    obj = event_object(event)
    invoice = (
        Invoice.objects.select_for_update()
        .filter(stripe_invoice_id=obj["id"])
        .exclude(stripe_invoice_id="")
        .first()
    )
    if invoice is None:
        # Invoices Stripe generates itself (voided by pause_collection) are not ours to apply.
        return WebhookStatus.IGNORED, "not one of our invoices"
    status = str(obj.get("status") or "")
    if status not in INVOICE_RANK:
        raise ValueError(f"unknown invoice status {status!r}")
    row = _state_row("invoice", str(invoice.pk), obj["id"])
    known = row.state or "draft"
    if (INVOICE_RANK[status], event.created) <= (INVOICE_RANK.get(known, 0), row.state_at):
        return WebhookStatus.PROCESSED, f"stale: {status} after {known}"
    if str(obj.get("currency", "")).lower() != "vnd":
        return _flag(invoice, event, "currency", currency=obj.get("currency"))
    total_differs = status != "draft" and int(obj.get("total", -1)) != invoice.total
    if total_differs and status != "paid":
        return _flag(invoice, event, "total", ours=invoice.total, theirs=obj.get("total"))
    note = f"{known} → {status}"
    flags: list[str] = []
    if status == "paid":
        received, flags = _stripe_money_record(invoice, obj, event)
        note += f" ({received})"
        if total_differs:
            flags.append(_flag(invoice, event, "total", ours=invoice.total,
                               theirs=obj.get("total"))[1])  # fmt: skip
    elif status in ("void", "uncollectible"):
        # Our invoice stands; a human decides (credit note or follow-up).
        BillingEvent.objects.create(
            billing_account_id=invoice.billing_account_id,
            invoice=invoice,
            event="gateway_invoice_" + status,
            detail={"gateway": Gateway.STRIPE, "event": event.event_id},
        )
    row.state, row.state_at = status, event.created
    row.save(update_fields=["state", "state_at", "updated_at"])
    if flags:
        return WebhookStatus.FLAGGED, f"{note}; flagged: {', '.join(flags)}"
    return WebhookStatus.PROCESSED, note


def _stripe_money_record(
    invoice: Invoice, obj: dict[str, Any], event: WebhookEvent
) -> tuple[str, list[str]]:
    """Record the money Stripe received for one of our invoices and we have not recorded yet.

    ``amount_paid`` is what Stripe itself collected (0 when it was only marked paid out of band,
    API basil), cumulative over the invoice's life; so a second event about the same payment
    (``invoice.paid`` and ``invoice.payment_succeeded``, or a replay) records nothing new. Money
    beyond what our invoice still owed (it was paid by transfer too) is recorded all the same,
    as an overpayment flagged for staff; less than owed is recorded and flagged.
    """
    paid = int(obj.get("amount_paid") or 0)
    if paid <= 0:
        return "nothing collected by Stripe: paid out of band", []
    stripe_id = str(obj["id"])
    recorded = sum(
        Payment.objects.filter(gateway=Gateway.STRIPE, invoice=invoice)
        .filter(Q(reference=stripe_id) | Q(reference__startswith=f"{stripe_id}:"))
        .values_list("amount", flat=True)
    )
    new = paid - recorded
    if new <= 0:
        return "already recorded", []
    owed = invoice.balance if invoice.status == InvoiceStatus.ISSUED else 0
    payment = payment_record(
        invoice=invoice,
        amount=new,
        received_on=timezone.localdate(dt.datetime.fromtimestamp(event.created, dt.UTC)),
        reference=stripe_id if recorded == 0 else f"{stripe_id}:{paid}",
        gateway=Gateway.STRIPE,
        actor_email="",
        allow_overpayment=True,
    )
    flags = []
    if Overpayment.objects.filter(payment=payment).exists():
        flags.append("overpayment")
    elif new < owed:
        flags.append(_flag(invoice, event, "amount_paid", balance=owed, theirs=new)[1])
    return f"{new} VND recorded", flags


@handles(
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.paused",
    "customer.subscription.resumed",
)
def _subscription_event(event: WebhookEvent) -> tuple[str, str]:
    obj = event_object(event)
    subscription = Subscription.objects.filter(stripe_subscription_id=obj["id"]).first()
    if subscription is None or not obj["id"]:
        return WebhookStatus.IGNORED, "not one of our subscriptions"
    row = _state_row("subscription", str(subscription.pk), obj["id"])
    if event.created < row.state_at or (
        event.created == row.state_at and row.state == obj.get("status")
    ):
        return WebhookStatus.PROCESSED, "stale"
    previous, row.state, row.state_at = row.state, str(obj.get("status") or ""), event.created
    row.save(update_fields=["state", "state_at", "updated_at"])
    if previous != row.state:
        BillingEvent.objects.create(
            billing_account_id=subscription.billing_account_id,
            event="gateway_subscription_status",
            detail={"gateway": Gateway.STRIPE, "subscription": subscription.pk,
                    "from": previous, "to": row.state, "event": event.event_id},
        )  # fmt: skip
    return WebhookStatus.PROCESSED, f"{previous or '-'} → {row.state}"


@handles("v1.billing.meter.error_report_triggered", "v1.billing.meter.no_meter_found")
def _meter_error_report(event: WebhookEvent) -> tuple[str, str]:
    """Stripe rejected some meter events after accepting them (asynchronous validation).

    A thin event: the full event (the error counts and a few sampled identifiers) is fetched from
    Stripe. The sampled rows are known not counted: they get a fresh identifier and wait for staff
    (fix the cause, then requeue). If Stripe reports more errors than it sampled, the other rows
    of that meter sent around the validation window are checked against Stripe's summaries
    (counted → sent; not counted → staff). Flagged, so a person looks at the cause."""
    from billing.gateways.stripe import StripeGateway
    from billing.models import MeterEventOutbox, OutboxStatus

    full = StripeGateway().event_fetch(event_id=event.event_id)
    data = full.get("data") or {}
    reason = data.get("reason") or {}
    meter_id = str((full.get("related_object") or {}).get("id") or "")
    metric = (
        GatewayObject.objects.filter(gateway=Gateway.STRIPE, kind="meter", remote_id=meter_id)
        .values_list("key", flat=True)
        .first()
    )
    if meter_id and metric is None:
        return WebhookStatus.IGNORED, f"not one of our meters: {meter_id}"
    samples: dict[str, str] = {}
    for error_type in reason.get("error_types") or []:
        for sample in error_type.get("sample_errors") or []:
            identifier = str((sample.get("request") or {}).get("identifier") or "")
            if identifier:
                samples[identifier] = f"{error_type.get('code')}: {sample.get('error_message')}"
    keys = {identifier.partition("~")[0] for identifier in samples}
    named = [
        row
        for row in MeterEventOutbox.objects.select_for_update().filter(idempotency_key__in=keys)
        if row.identifier in samples  # an earlier identifier's error is already dealt with
    ]
    for row in named:
        row.last_error = f"rejected by Stripe ({samples[row.identifier]}); fix, then requeue"[:2000]
        row.status, row.next_attempt_at = OutboxStatus.ATTENTION, None
        row.generation += 1  # known not counted: the next send is a new event
        row.first_attempt_at = row.last_attempt_at = None
    MeterEventOutbox.objects.bulk_update(
        named,
        ["status", "next_attempt_at", "last_error", "generation", "first_attempt_at",
         "last_attempt_at"],
    )  # fmt: skip
    unnamed = max(0, int(reason.get("error_count") or 0) - len(named))
    checked = 0
    window = _window(data)
    if unnamed and metric and window:
        start, end = window
        checked = (
            MeterEventOutbox.objects.filter(
                metric=metric,
                status=OutboxStatus.SENT,
                last_attempt_at__gte=start - dt.timedelta(hours=1),
                last_attempt_at__lte=end + dt.timedelta(minutes=5),
            )
            .exclude(pk__in=[r.pk for r in named])
            .update(
                status=OutboxStatus.VERIFY,
                resend_if_missing=False,
                last_error=f"Stripe reported {unnamed} more invalid event(s) of this meter"
                f" (event {event.event_id}): checked against Stripe's summary",
            )
        )
    BillingEvent.objects.create(
        event="meter_error_report",
        detail={"gateway": Gateway.STRIPE, "event": event.event_id, "meter": meter_id,
                "metric": metric, "error_count": reason.get("error_count"),
                "rejected_rows": [r.pk for r in named][:200], "to_check": checked,
                "summary": str(data.get("developer_message_summary") or "")[:300]},
    )  # fmt: skip
    return (
        WebhookStatus.FLAGGED,
        f"{len(named)} row(s) rejected by Stripe, {checked} to check against its summary",
    )


def _window(data: dict[str, Any]) -> tuple[dt.datetime, dt.datetime] | None:
    try:
        start, end = (
            dt.datetime.fromisoformat(str(data[k]).replace("Z", "+00:00"))
            for k in ("validation_start", "validation_end")
        )
    except (KeyError, ValueError):
        return None
    return start, end
