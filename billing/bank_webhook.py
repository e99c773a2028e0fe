"""The bank's notification of a transfer into the provider's account (its webhook).

The bank signs each notification with the secret shared with us: header
``X-Bank-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + the raw body>``. A wrong
signature, or one older than the tolerance (a captured request replayed), is refused; the same
transaction notified again is answered as a duplicate and applies nothing (the transaction id is
the statement line's key, shared with statement files).

Body: ``{"id": "...", "type": "transaction.credit", "data": {"transaction_id": "FT…",
"amount": 3410000, "currency": "VND", "booked_at": "2026-12-02T09:15:00+07:00",
"description": "…", "account_number": "…"}}``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from billing.models import StatementSource
from billing.reconciliation import IncomingTransfer, statement_line_receive
from billing.vat import seller

HEADER = "X-Bank-Signature"


class BankWebhookRejected(ValueError):
    """Refused: bad signature, too old, or not a notification we understand (answered 400)."""


def bank_signature(body: bytes, *, secret: str, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def _verify(body: bytes, header: str, *, now: dt.datetime) -> None:
    secret = str(settings.BANK_WEBHOOK_SECRET)
    if not secret:
        raise BankWebhookRejected("bank notifications are not configured")
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        raise BankWebhookRejected("missing or malformed signature header") from None
    expected = bank_signature(body, secret=secret, timestamp=timestamp).split("v1=", 1)[1]
    if not hmac.compare_digest(expected, parts.get("v1", "")):
        raise BankWebhookRejected("signature mismatch")
    age = abs(now.timestamp() - timestamp)
    if age > int(settings.BANK_WEBHOOK_TOLERANCE_SECONDS):
        raise BankWebhookRejected("signature timestamp outside the tolerance (replayed?)")


@dataclass(frozen=True)
class WebhookOutcome:
    status: str  # applied, queued, recorded, duplicate, ignored
    line_id: int | None = None
    invoices: tuple[str, ...] = ()


def _transfer(payload: Any) -> IncomingTransfer | None:
    """The transfer of a credit notification; None for what is not a credit to our account."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        raise BankWebhookRejected("not a bank notification")
    if payload.get("type") != "transaction.credit":
        return None
    data = payload["data"]
    if str(data.get("account_number", "")) != seller().bank_account:
        return None
    if data.get("currency", "VND") != "VND":
        raise BankWebhookRejected("only VND transfers are handled")
    txn, amount = data.get("transaction_id"), data.get("amount")
    if not isinstance(txn, str) or not txn.strip() or len(txn) > 80:
        raise BankWebhookRejected("missing transaction_id")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise BankWebhookRejected("amount must be a positive whole number of đồng")
    booked = parse_datetime(str(data.get("booked_at", "")))
    if booked is None or booked.tzinfo is None:
        raise BankWebhookRejected("booked_at must be an ISO 8601 time with its offset")
    memo = data.get("description", "")
    if not isinstance(memo, str):
        raise BankWebhookRejected("description must be text")
    return IncomingTransfer(
        booked_on=timezone.localdate(booked),
        amount=amount,
        memo=memo[:2000],
        bank_transaction_id=txn.strip(),
    )


def bank_webhook_receive(
    *, body: bytes, signature: str, now: dt.datetime | None = None
) -> WebhookOutcome:
    """Verify, store once and reconcile a bank notification."""
    _verify(body, signature, now=now or timezone.now())
    try:
        payload = json.loads(body)
    except ValueError:
        raise BankWebhookRejected(_("The body is not JSON.")) from None
    transfer = _transfer(payload)
    if transfer is None:
        return WebhookOutcome(status="ignored")
    line, created = statement_line_receive(transfer=transfer, source=StatementSource.WEBHOOK)
    return WebhookOutcome(
        status=line.status if created else "duplicate",
        line_id=line.pk,
        invoices=tuple(line.invoice_numbers),
    )
