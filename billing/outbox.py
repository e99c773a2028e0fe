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

Pushing is at-least-once and Stripe deduplicates by the event's ``identifier`` (the ledger key),
but only within a rolling 24 hours. So:
- a row is claimed in a short transaction that records *when its identifier was first sent*
  (``first_attempt_at``) before anything is sent; the batch is then sent under ``FOR UPDATE SKIP
  LOCKED`` and marked in the same transaction, so a worker killed mid-batch leaves its rows to be
  sent again, inside the window, and Stripe ignores the repeats;
- a failed row is retried with capped exponential backoff (1, 2, 4 … minutes, at most an hour),
  however many times it takes: an outage of hours ends with every row told;
- a row not confirmed within ``IDENTIFIER_WINDOW`` of its first send is never sent blindly again:
  it is checked against Stripe's event summaries first (``meter_outbox_verify``). Counted → sent;
  not counted → sent afresh under a new identifier (``~<generation>``); unclear → staff.
- Stripe's ``v1.billing.meter.error_report_triggered`` (billing.webhooks) marks the rows it names
  for staff, and the rest of the reported window for a check against the summaries.
So Stripe ends up told each ledger row exactly once. Rows that need a person (``attention``),
or are old or failing often, show on the health page and the console, which can requeue them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from billing.gateways import GatewayError, PaymentGateway, gateway_get
from billing.gateways.stripe import meter_value
from billing.models import (
    UNSENT,
    BillingAccount,
    BillingEvent,
    Gateway,
    MeterEventOutbox,
    OutboxStatus,
    Subscription,
    UsageEvent,
)

STRIPE_LOOKBACK = dt.timedelta(days=35)
# A row this close to Stripe's 35 days is not sent any more (it would be refused on arrival).
LOOKBACK_MARGIN = dt.timedelta(hours=1)
# Stripe keeps identifiers unique for "at least 24 hours": we stay an hour inside that.
IDENTIFIER_WINDOW = dt.timedelta(hours=23)
BACKOFF_FIRST = dt.timedelta(minutes=1)
BACKOFF_CAP = dt.timedelta(hours=1)
# Stripe aggregates meter events asynchronously: a summary is trusted for a minute of usage only
# once nothing in that minute was sent for this long.
SUMMARY_SETTLE = dt.timedelta(minutes=10)
# A row is "stuck" (health page, console) past this age or number of attempts.
STUCK_AGE = dt.timedelta(hours=1)
STUCK_ATTEMPTS = 6
DUE = (OutboxStatus.PENDING, OutboxStatus.FAILED)


def backoff(attempts: int) -> dt.timedelta:
    """How long to wait after the ``attempts``-th failure: 1, 2, 4 … minutes, at most an hour."""
    wait: dt.timedelta = BACKOFF_FIRST * 2 ** min(max(attempts - 1, 0), 12)
    return min(BACKOFF_CAP, wait)


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
            " agency_id, metric, quantity, occurred_at, status, attempts, last_error, generation,"
            " resend_if_missing, created_at)"
            " SELECT u.id, u.idempotency_key, s.billing_account_id, u.agency_id, u.metric,"
            " u.quantity, u.occurred_at, %(pending)s, 0, '', 0, true, %(now)s"
            f" FROM {ledger} u"
            f" JOIN {subs} s ON s.agency_id = u.agency_id"
            "  AND s.starts_on <= (u.occurred_at AT TIME ZONE %(tz)s)::date"
            "  AND (s.ends_on IS NULL OR s.ends_on >= (u.occurred_at AT TIME ZONE %(tz)s)::date)"
            f" JOIN {accounts} a ON a.id = s.billing_account_id AND a.gateway = %(stripe)s"
            " WHERE u.occurred_at >= %(since)s"
            f" AND NOT EXISTS (SELECT 1 FROM {outbox} o WHERE o.usage_event_id = u.id)"
            " ORDER BY u.id"
            " ON CONFLICT DO NOTHING",
            {"pending": OutboxStatus.PENDING, "tz": tz, "stripe": Gateway.STRIPE,
             "since": since, "now": now},
        )  # fmt: skip
        return int(cursor.rowcount)


@dataclass
class PushReport:
    queued: int = 0
    sent: int = 0
    failed: int = 0
    batches: int = 0
    to_verify: int = 0  # rows whose 24-hour window passed: checked against Stripe's summary
    attention: int = 0  # rows left for staff (too old for Stripe, unclear summary, rejected)
    confirmed: int = 0  # checked: Stripe had counted them
    resent: int = 0  # checked: Stripe had not counted them, queued under a new identifier
    waiting: int = 0  # checks postponed (Stripe's aggregation not settled, or Stripe unreachable)


def _due(now: dt.datetime) -> Q:
    return Q(status__in=DUE) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))


def _claim(
    *, now: dt.datetime, batch_size: int, seen: set[int], report: PushReport
) -> tuple[list[int], list[int]]:
    """Pick due rows and record, durably, that their identifiers are being sent now.

    Returns (rows looked at, rows to send). A row too old for Stripe goes to staff; a row whose
    identifier was first sent longer ago than Stripe's window goes to the summary check."""
    with transaction.atomic():
        rows = list(
            MeterEventOutbox.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(_due(now))
            .exclude(pk__in=seen)
            .order_by("id")[:batch_size]
        )
        send = []
        for row in rows:
            if row.occurred_at < now - STRIPE_LOOKBACK + LOOKBACK_MARGIN:
                row.status, row.next_attempt_at = OutboxStatus.ATTENTION, None
                row.last_error = (
                    "older than Stripe's 35 days for meter events: Stripe cannot be told"
                    " (our invoice bills it from the ledger)"
                )
                report.attention += 1
            elif row.first_attempt_at and now - row.first_attempt_at >= IDENTIFIER_WINDOW:
                row.status, row.next_attempt_at, row.resend_if_missing = (
                    OutboxStatus.VERIFY, None, True)  # fmt: skip
                row.last_error = (
                    f"not confirmed within Stripe's identifier window (first sent"
                    f" {row.first_attempt_at:%Y-%m-%d %H:%M}): checked against Stripe's summary"
                    f" before it is sent again; {row.last_error}"
                )[:2000]
                report.to_verify += 1
            else:
                row.first_attempt_at = row.first_attempt_at or now
                row.last_attempt_at = now
                send.append(row.pk)
        MeterEventOutbox.objects.bulk_update(
            rows,
            ["status", "next_attempt_at", "last_error", "resend_if_missing", "first_attempt_at",
             "last_attempt_at"],
        )  # fmt: skip
    return [row.pk for row in rows], send


def meter_events_push(
    *, batch_size: int = 50, max_batches: int | None = None, now: dt.datetime | None = None
) -> PushReport:
    """Fill the outbox, report due rows to Stripe batch by batch, then check against Stripe's
    summaries the rows that need it (see the module doc). ``now`` is the time it runs at."""
    now = now or timezone.now()
    report = PushReport(queued=meter_outbox_fill(now=now))
    gateway = gateway_get(Gateway.STRIPE)
    seen: set[int] = set()  # one attempt per row per run
    while max_batches is None or report.batches < max_batches:
        looked_at, claimed = _claim(now=now, batch_size=batch_size, seen=seen, report=report)
        if not looked_at:
            break
        seen.update(looked_at)
        if not claimed:
            continue
        with transaction.atomic():
            rows = list(
                MeterEventOutbox.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(_due(now), pk__in=claimed)
                .select_related("billing_account")
                .order_by("id")
            )
            if not rows:
                continue
            report.batches += 1
            results = {r.outbox_id: r for r in gateway.meter_events_push(rows=rows)}
            for row in rows:
                result = results.get(row.pk)
                row.attempts += 1
                if result is not None and result.value is not None and not result.error:
                    row.status, row.sent_value, row.sent_at, row.last_error = (
                        OutboxStatus.SENT, result.value, now, "")  # fmt: skip
                    row.next_attempt_at = None
                    report.sent += 1
                else:
                    row.status = OutboxStatus.FAILED
                    row.last_error = result.error if result else "no answer from the gateway"
                    row.next_attempt_at = now + backoff(row.attempts)
                    report.failed += 1
            MeterEventOutbox.objects.bulk_update(
                rows,
                ["status", "attempts", "sent_value", "sent_at", "last_error", "next_attempt_at"],
            )
    meter_outbox_verify(gateway=gateway, now=now, report=report)
    return report


# --- checking against Stripe's summaries ------------------------------------------------------


def _minute(moment: dt.datetime) -> dt.datetime:
    return moment.replace(second=0, microsecond=0)


def meter_outbox_verify(
    *, gateway: PaymentGateway, now: dt.datetime, report: PushReport | None = None
) -> PushReport:
    """Settle the rows waiting for a check (``verify``) against Stripe's event summaries.

    Stripe summarises a customer's meter per minute of event time. For one (payer, metric,
    minute), Stripe's sum must be what we know it was told (rows marked sent) plus some of the
    rows whose fate is unknown (sent, answer lost or rejected later). If it is exactly all of
    them, they were counted; if none, none was (each is sent afresh under a new identifier, or
    left for staff if Stripe rejected it); anything else is left for staff, with the figures.
    """
    report = report or PushReport()
    waiting = (
        MeterEventOutbox.objects.filter(status=OutboxStatus.VERIFY)
        .values_list("billing_account_id", "metric", "occurred_at")
        .order_by("id")[:1000]
    )
    groups = sorted({(account, metric, _minute(at)) for account, metric, at in waiting})
    for account_id, metric, minute in groups:
        with transaction.atomic():
            members = list(
                MeterEventOutbox.objects.select_for_update()
                .filter(
                    billing_account_id=account_id,
                    metric=metric,
                    occurred_at__gte=minute,
                    occurred_at__lt=minute + dt.timedelta(minutes=1),
                )
                .select_related("billing_account")
                .order_by("id")
            )
            sent_to_stripe = [r for r in members if r.first_attempt_at is not None]
            checking = [r for r in members if r.status == OutboxStatus.VERIFY]
            if not checking:
                continue
            if any(
                r.last_attempt_at and r.last_attempt_at > now - SUMMARY_SETTLE
                for r in sent_to_stripe
            ):
                report.waiting += len(checking)
                continue
            try:
                stripe_total = gateway.meter_event_summary(
                    account=members[0].billing_account,
                    metric=metric,
                    start=minute,
                    end=minute + dt.timedelta(minutes=1),
                )
            except GatewayError as exc:
                for row in checking:
                    row.last_error = f"summary check failed, tried again later: {exc}"[:2000]
                MeterEventOutbox.objects.bulk_update(checking, ["last_error"])
                report.waiting += len(checking)
                continue
            counted = sum(
                r.sent_value or 0 for r in sent_to_stripe if r.status == OutboxStatus.SENT
            )
            unknown = [r for r in sent_to_stripe if r.status != OutboxStatus.SENT]
            values = {r.pk: meter_value(r.metric, r.quantity) for r in unknown}
            # Stripe sums a customer's events per meter and minute, nothing else: which of the
            # rows it counted does not matter, only how many of them (by value).
            chosen = _subset_with_sum(values, stripe_total - counted)
            if chosen is None:
                for row in checking:
                    row.status, row.next_attempt_at = OutboxStatus.ATTENTION, None
                    row.last_error = (
                        f"Stripe's summary for {minute:%Y-%m-%d %H:%M} is {stripe_total}; we"
                        f" know of {counted} counted and {sum(values.values())} uncertain:"
                        " compare with Stripe's dashboard, then requeue"
                    )
                    report.attention += 1
            for row in unknown if chosen is not None else []:
                if chosen is not None and row.pk in chosen:
                    row.status, row.sent_value, row.sent_at = (
                        OutboxStatus.SENT, values[row.pk], now)  # fmt: skip
                    row.next_attempt_at = None
                    row.last_error = f"confirmed by Stripe's event summary of {minute:%H:%M}"
                    report.confirmed += 1
                    continue
                row.generation += 1  # not counted: any later send is a new event
                row.first_attempt_at = row.last_attempt_at = None
                if row.status == OutboxStatus.VERIFY and not row.resend_if_missing:
                    row.status, row.next_attempt_at = OutboxStatus.ATTENTION, None
                    row.last_error = (
                        f"not counted by Stripe (rejected): fix the cause, then requeue;"
                        f" {row.last_error}"
                    )[:2000]
                    report.attention += 1
                else:
                    row.status, row.next_attempt_at = OutboxStatus.PENDING, now
                    row.last_error = f"not counted by Stripe: sent again as {row.identifier}"
                    report.resent += 1
            MeterEventOutbox.objects.bulk_update(
                members,
                ["status", "sent_value", "sent_at", "next_attempt_at", "last_error",
                 "generation", "first_attempt_at", "last_attempt_at"],
            )  # fmt: skip
    return report


def _subset_with_sum(values: dict[int, int], target: int) -> set[int] | None:
    """Some rows whose values add up to ``target`` (all, none, or a subset), or None."""
    total = sum(values.values())
    if target == total:
        return set(values)
    if target == 0:
        return set()
    if target < 0 or target > total or len(values) > 500 or target > 1_000_000:
        return None
    reach: dict[int, list[int]] = {0: []}  # a sum → the rows that make it
    for pk, value in values.items():
        for done, rows in list(reach.items()):
            if done + value <= target and done + value not in reach:
                reach[done + value] = [*rows, pk]
        if target in reach:
            return set(reach[target])
    return None


# --- staff: requeue ---------------------------------------------------------------------------


@dataclass
class RequeueReport:
    requeued: int = 0
    to_verify: int = 0
    too_old: int = 0


@transaction.atomic
def meter_outbox_requeue(
    *, ids: Iterable[int], actor_email: str = "", now: dt.datetime | None = None
) -> RequeueReport:
    """Staff send stuck rows again, now. A row Stripe may already have counted is checked
    against Stripe's summary first (never sent blindly twice); rows past Stripe's 35 days
    cannot be sent any more and are left as they are. Audited."""
    now = now or timezone.now()
    report = RequeueReport()
    rows = list(
        MeterEventOutbox.objects.select_for_update()
        .filter(pk__in=list(ids))
        .filter(status__in=UNSENT)
        .order_by("id")
    )
    for row in rows:
        if row.occurred_at < now - STRIPE_LOOKBACK + LOOKBACK_MARGIN:
            report.too_old += 1
            continue
        if row.status in (OutboxStatus.ATTENTION, OutboxStatus.VERIFY) and row.first_attempt_at:
            row.status, row.resend_if_missing = OutboxStatus.VERIFY, True
            report.to_verify += 1
        else:
            row.status = OutboxStatus.PENDING
        row.next_attempt_at = now
        report.requeued += 1
    MeterEventOutbox.objects.bulk_update(rows, ["status", "resend_if_missing", "next_attempt_at"])
    if report.requeued:
        BillingEvent.objects.create(
            event="meter_events_requeued",
            actor_email=actor_email,
            detail={"rows": [r.pk for r in rows][:200], "requeued": report.requeued,
                    "to_verify": report.to_verify, "too_old": report.too_old},
        )  # fmt: skip
    return report


def meter_outbox_next_due(*, now: dt.datetime) -> dt.datetime | None:
    """When the next retry or summary check is due (for the pushing task to come back then)."""
    if MeterEventOutbox.objects.filter(_due(now)).exists():
        return now
    if MeterEventOutbox.objects.filter(status=OutboxStatus.VERIFY).exists():
        return now + SUMMARY_SETTLE
    next_at: dt.datetime | None = (
        MeterEventOutbox.objects.filter(status__in=DUE, next_attempt_at__isnull=False)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    return next_at
