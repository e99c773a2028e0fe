"""The meter-event outbox: ledger rows of Stripe payers, waiting to be reported to Stripe.

Filled from the ledger by key, in a job, rather than inside ``usage_record``:
- the ledger write stays one INSERT on the hot path of every dossier (the ≤ 10 % budget), and
  needs no lookup of who pays for the agency;
- only the usage of agencies whose payer uses Stripe enters the outbox (most pay by transfer);
- nothing can be missed: the fill is an anti-join of the ledger against the outbox (not a
  high-water mark), so a ledger row committed late by a long transaction is picked up on the next
  run, and ``ON CONFLICT`` makes concurrent fills harmless. The ledger is append-only, so what the
  fill saw once stays true.
The look-back is Stripe's own limit: a meter event must be at most 35 days old.

Pushing is at-least-once and Stripe deduplicates: each event's ``identifier`` is the ledger key.
A batch is claimed with ``FOR UPDATE SKIP LOCKED`` and marked sent in the same transaction; a
worker killed mid-batch leaves its rows pending, they are pushed again, and Stripe ignores the
repeats. So Stripe ends up told each ledger row exactly once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from billing.gateways import gateway_get
from billing.models import (
    BillingAccount,
    Gateway,
    MeterEventOutbox,
    OutboxStatus,
    Subscription,
    UsageEvent,
)

STRIPE_LOOKBACK = dt.timedelta(days=35)
MAX_ATTEMPTS = 12


def meter_outbox_fill(*, now: dt.datetime | None = None) -> int:
    """Queue every recent ledger row of a Stripe-paying agency not queued yet. Returns new rows."""
    now = now or timezone.now()
    since = now - STRIPE_LOOKBACK
    tz = timezone.get_current_timezone_name()
    outbox = f'"public"."{MeterEventOutbox._meta.db_table}"'
    ledger = f'"public"."{UsageEvent._meta.db_table}"'
    subs = f'"public"."{Subscription._meta.db_table}"'
    accounts = f'"public"."{BillingAccount._meta.db_table}"'
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {outbox} (usage_event_id, idempotency_key, billing_account_id,"  # noqa: S608
            " agency_id, metric, quantity, occurred_at, status, attempts, last_error, created_at)"
            " SELECT u.id, u.idempotency_key, s.billing_account_id, u.agency_id, u.metric,"
            " u.quantity, u.occurred_at, %(pending)s, 0, '', %(now)s"
            f" FROM {ledger} u"
            f" JOIN {subs} s ON s.agency_id = u.agency_id"
            "  AND s.starts_on <= (u.occurred_at AT TIME ZONE %(tz)s)::date"
            "  AND (s.ends_on IS NULL OR s.ends_on >= (u.occurred_at AT TIME ZONE %(tz)s)::date)"
            f" JOIN {accounts} a ON a.id = s.billing_account_id AND a.gateway = %(stripe)s"
            " WHERE u.occurred_at >= %(since)s"
            f" AND NOT EXISTS (SELECT 1 FROM {outbox} o WHERE o.usage_event_id = u.id)"
            " ORDER BY u.id"
            " ON CONFLICT DO NOTHING",
            {
                "pending": OutboxStatus.PENDING,
                "tz": tz,
                "stripe": Gateway.STRIPE,
                "since": since,
                "now": now,
            },
        )
        return int(cursor.rowcount)


@dataclass
class PushReport:
    queued: int = 0
    sent: int = 0
    failed: int = 0
    batches: int = 0


def meter_events_push(*, batch_size: int = 50, max_batches: int | None = None) -> PushReport:
    """Fill the outbox, then report pending rows to Stripe batch by batch (see module doc)."""
    report = PushReport(queued=meter_outbox_fill())
    gateway = gateway_get(Gateway.STRIPE)
    failed_ids: set[int] = set()
    while max_batches is None or report.batches < max_batches:
        with transaction.atomic():
            rows = list(
                MeterEventOutbox.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(
                    status__in=[OutboxStatus.PENDING, OutboxStatus.FAILED],
                    attempts__lt=MAX_ATTEMPTS,
                )
                .exclude(pk__in=failed_ids)  # one attempt per row per run
                .select_related("billing_account")
                .order_by("id")[:batch_size]
            )
            if not rows:
                break
            report.batches += 1
            results = {r.outbox_id: r for r in gateway.meter_events_push(rows=rows)}
            now = timezone.now()
            for row in rows:
                result = results.get(row.pk)
                row.attempts += 1
                if result is not None and result.value is not None and not result.error:
                    row.status, row.sent_value, row.sent_at, row.last_error = (
                        OutboxStatus.SENT, result.value, now, "")  # fmt: skip
                    report.sent += 1
                else:
                    row.status = OutboxStatus.FAILED
                    row.last_error = result.error if result else "no answer from the gateway"
                    failed_ids.add(row.pk)
                    report.failed += 1
            MeterEventOutbox.objects.bulk_update(
                rows, ["status", "attempts", "sent_value", "sent_at", "last_error"]
            )
    return report
